"""The workspace: open, create, connect, transact."""

from __future__ import annotations

import copy
import os
import re
import secrets
import shutil
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from carepath import __version__
from carepath.errors import WorkspaceError
from carepath.model.schema import DATA_TABLES, SCHEMA_VERSION
from carepath.workspace.migrations import upgrade

DB_NAME = "carepath.duckdb"
CONFIG_NAME = "carepath.toml"
SECRET_NAME = ".carepath-secret"
SECRET_BYTES = 32
DEFINITION_DIRS = ("indicators", "frameworks", "contracts")
ENV_VAR = "CAREPATH_WORKSPACE"
DEFAULT_PATH = Path("workspace")
# Parsed carepath.toml by path, with the (mtime, size) it was read at.
_CONFIGS: dict[Path, tuple[tuple[int, int], dict]] = {}


def resolve_path(option: Path | None) -> Path:
    """The -w option if given, else $CAREPATH_WORKSPACE, else the current folder when it is
    a workspace (run inside one, `compute` said 'not a Carepath workspace': a walkthrough),
    else ./workspace."""
    return _named_path(option) or DEFAULT_PATH


def _named_path(option: Path | None) -> Path | None:
    if option is not None:
        return Path(option)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(".") if (Path.cwd() / CONFIG_NAME).is_file() else None


def workspace_given(option: Path | None) -> bool:
    """Whether a command names a workspace: -w, $CAREPATH_WORKSPACE or the current folder."""
    return _named_path(option) is not None


class Workspace:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # ----- files -------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.path / DB_NAME

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    @property
    def secret_path(self) -> Path:
        return self.path / SECRET_NAME

    def definitions_dir(self, kind: str) -> Path:
        if kind not in DEFINITION_DIRS:
            raise ValueError(f"unknown definitions kind {kind!r}")
        return self.path / kind

    def secret(self) -> bytes:
        """The workspace key: keys pseudonyms and signs sessions. Never leaves the workspace."""
        try:
            return self.secret_path.read_bytes()
        except OSError as exc:  # named by file: the folder may be the server's (error pages)
            raise WorkspaceError(f"cannot read the workspace's secret ({exc.strerror}): it "
                                 "must be readable by the user running Carepath (mode 0600)",
                                 where=SECRET_NAME) from None

    def config(self) -> dict:
        """The parsed ``carepath.toml`` (a fresh copy), read again only when the file
        changes: the web app reads it on every public page."""
        stat = self.config_path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _CONFIGS.get(self.config_path)
        if cached is None or cached[0] != stamp:
            with self.config_path.open("rb") as fh:
                text = fh.read()
            # Named without its folder: the web app's error page shows it to anyone.
            if not text.strip():  # being written (an editor empties it first), or emptied:
                # its defaults are not what it says once written
                raise WorkspaceError("is empty: it is being written, or was emptied; "
                                     "write it in one step (save a copy, then rename it)",
                                     where=CONFIG_NAME)
            try:
                cached = (stamp, tomllib.loads(text.decode("utf-8")))
            except UnicodeDecodeError:
                raise WorkspaceError("is not UTF-8 text; save it as UTF-8",
                                     where=CONFIG_NAME) from None
            except tomllib.TOMLDecodeError as exc:  # its message has line and column
                raise WorkspaceError(f"not valid TOML: {exc}", where=CONFIG_NAME) from None
            _CONFIGS[self.config_path] = cached  # one assignment: safe across threads
        return copy.deepcopy(cached[1])

    # ----- create and open ----------------------------------------------------------------
    @classmethod
    def init(cls, directory: Path, *, name: str | None = None,
             national_name: str | None = None,
             partial_areas: Sequence[str] = (),
             national_exempt: bool = False) -> Workspace:
        """Create a workspace. Built in a temporary sibling and renamed into place, so a
        failure leaves nothing half-made. ``national_exempt`` publishes the whole
        workspace's figures unrounded: right only where its total is England's, since a
        county's total beside its rounded parts gives parts back."""
        directory = Path(directory)
        if directory.exists():
            if not directory.is_dir():
                raise WorkspaceError("exists and is not a directory", where=str(directory))
            if any(directory.iterdir()):
                raise WorkspaceError("directory is not empty; choose a new or empty "
                                     "directory", where=str(directory))
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        try:
            cls._populate(tmp, name or directory.name, national_name, partial_areas,
                          national_exempt)
            if directory.exists():
                directory.rmdir()
            tmp.rename(directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(directory)

    @staticmethod
    def _populate(root: Path, name: str, national_name: str | None,
                  partial_areas: Sequence[str] = (), national_exempt: bool = False) -> None:
        for sub in DEFINITION_DIRS:
            (root / sub).mkdir()
        created = datetime.now().isoformat(timespec="seconds")
        national = (f'national_name = "{_toml_escape(national_name)}"\n' if national_name
                    else '# What the whole workspace is called ("All areas in the workspace" '
                         'unless set):\n# national_name = "England"\n')
        listed = ", ".join(f'"{_toml_escape(c)}"' for c in partial_areas)
        national += ("# Areas this workspace holds only some practices of (a county's region): "
                     "their\n# figures are named as this workspace's part of them.\n"
                     + (f"partial_areas = [{listed}]\n" if partial_areas
                        else '# partial_areas = ["Y58"]\n'))
        (root / CONFIG_NAME).write_text(
            f'# Carepath workspace\n# The name every page, pack and report is titled with: change '
            f'it freely.\nname = "{_toml_escape(name)}"\ncreated = "{created}"\n'
            f'created_by_version = "{__version__}"\n{national}\n[disclosure]\n'
            f"# Counts 1..suppress_below-1 are suppressed at every level; other counts are\n"
            f"# rounded to round_to, and so are the whole workspace's unless national_exempt\n"
            f"# is true: only where the workspace's total is England's (a county's exact total\n"
            f"# beside its rounded parts gives parts back).\n"
            f"suppress_below = 8\nround_to = 5\n"
            f"national_exempt = {'true' if national_exempt else 'false'}\n"
        )
        fd = os.open(root / SECRET_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(SECRET_BYTES))
        con = duckdb.connect(str(root / DB_NAME))
        try:
            con.execute("BEGIN")
            con.execute("CREATE TABLE carepath_meta (key VARCHAR, value VARCHAR)")
            upgrade(con, 0, SCHEMA_VERSION)
            con.executemany("INSERT INTO carepath_meta VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)), ("created_at", created),
                ("created_by_version", __version__)])
            con.execute("COMMIT")
        finally:
            con.close()

    @classmethod
    def open(cls, path: Path) -> Workspace:
        ws = cls(Path(path))
        if not ws.config_path.is_file() or not ws.db_path.is_file():
            raise WorkspaceError(
                f"not a Carepath workspace (no {CONFIG_NAME} and {DB_NAME}); create one "
                "with `carepath init DIR` or `carepath synth`", where=str(ws.path))
        version = ws.schema_version()
        if version > SCHEMA_VERSION:
            raise WorkspaceError(
                f"made by a newer Carepath (schema {version}; this release reads up to "
                f"{SCHEMA_VERSION}); upgrade Carepath", where=str(ws.path))
        if version < SCHEMA_VERSION:
            with ws.transaction() as con:
                upgrade(con, version, SCHEMA_VERSION)
                con.execute("UPDATE carepath_meta SET value = ? WHERE key = 'schema_version'",
                            [str(SCHEMA_VERSION)])
        return ws

    # ----- database -----------------------------------------------------------------------
    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = duckdb.connect(str(self.db_path), read_only=read_only)
        except duckdb.IOException as exc:
            # DuckDB lets one process write a database: say which and what to do
            in_use = f"is in use by {_lock_holder(str(exc))}; " if "lock" in str(exc) else ""
            raise WorkspaceError(f"cannot open the database: {in_use}{exc}",
                                 where=str(self.db_path)) from None
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: an exception (or a kill) rolls everything back."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except duckdb.InterruptException:  # Ctrl+C: said as such by the CLI
                raise
            except duckdb.Error as exc:  # e.g. the folder not writable for its journal
                raise WorkspaceError(f"could not save the changes, so nothing was changed: "
                                     f"{exc}", where=str(self.path)) from None

    def schema_version(self) -> int:
        with self.connect(read_only=True) as con:
            row = con.execute(
                "SELECT value FROM carepath_meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            raise WorkspaceError("database has no schema version", where=str(self.db_path))
        return int(row[0])

    def table_counts(self) -> dict[str, int]:
        with self.connect(read_only=True) as con:
            return {t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
                    for t in DATA_TABLES}

    def audit(self, con: duckdb.DuckDBPyConnection, *, actor: str, action: str,
              target: str | None = None, detail: str | None = None) -> None:
        """Append one audit event on the caller's connection (same transaction)."""
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, ?, ?, ?, ?)",
                    [actor, action, target, detail])


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def _lock_holder(message: str) -> str:
    """Who holds the database (DuckDB names the PID), as the user started it: `carepath
    load` told of as `carepath serve` sent people to stop a server that was not running."""
    found = _LOCK_PID.search(message)
    command = None
    if found:
        try:
            args = Path(f"/proc/{found.group(1)}/cmdline").read_bytes().split(b"\0")
        except OSError:
            args = []
        words = [a.decode(errors="replace") for a in args if a]
        starts = [i for i, w in enumerate(words) if Path(w).name == "carepath" or
                  (w == "carepath" and i > 0 and words[i - 1] == "-m")]
        if starts:
            sub = [w for w in words[starts[0] + 1:] if not w.startswith("-")][:1]
            command = " ".join(["carepath", *sub])
    if command:
        return (f"`{command}` (PID {found.group(1)}): wait for it to finish or stop it, then "
                "run this again (one process at a time may write a workspace)")
    return ("another process (is `carepath serve`, a load or a compute running on it? "
            "stop it or wait for it, then run this again)")

