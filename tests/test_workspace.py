from __future__ import annotations

import os
import stat

import pytest

from carepath.errors import WorkspaceError
from carepath.model.schema import DATA_TABLES, SCHEMA_VERSION
from carepath.workspace import Workspace, resolve_path


def test_init_creates_layout_tables_and_private_secret(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    for sub in ("indicators", "frameworks", "contracts"):
        assert (ws.path / sub).is_dir()
    assert ws.schema_version() == SCHEMA_VERSION
    assert set(ws.table_counts()) == {t.name for t in DATA_TABLES}
    mode = stat.S_IMODE(os.stat(ws.secret_path).st_mode)
    assert mode == 0o600
    assert len(ws.secret()) == 32


def test_init_refuses_non_empty_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.init(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_open_refuses_directory_without_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="not a Carepath workspace"):
        Workspace.open(tmp_path)


def test_open_refuses_newer_schema(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with ws.connect() as con:
        con.execute("UPDATE carepath_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="newer Carepath"):
        Workspace.open(ws.path)


def test_open_upgrades_an_older_workspace(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with ws.connect() as con:  # simulate a release-0 workspace: no tables at all
        for t in DATA_TABLES:
            con.execute(f'DROP TABLE "{t.name}"')
        con.execute("UPDATE carepath_meta SET value = '0' WHERE key = 'schema_version'")
    reopened = Workspace.open(ws.path)
    assert reopened.schema_version() == SCHEMA_VERSION
    assert set(reopened.table_counts()) == {t.name for t in DATA_TABLES}


def test_a_version_1_workspace_gains_the_record_of_releases(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with ws.connect() as con:  # as a workspace made before releases were recorded
        con.execute("DROP TABLE releases")
        con.execute("DROP TABLE released_cells")
        con.execute("UPDATE carepath_meta SET value = '1' WHERE key = 'schema_version'")
    reopened = Workspace.open(ws.path)
    assert reopened.schema_version() == SCHEMA_VERSION
    with reopened.connect(read_only=True) as con:
        for table in ("releases", "released_cells"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]


def test_a_version_3_workspace_gains_the_record_of_definition_versions(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with ws.connect() as con:  # as a workspace made before versions' counting was recorded
        con.execute("DROP TABLE definition_versions")
        con.execute("UPDATE carepath_meta SET value = '3' WHERE key = 'schema_version'")
    reopened = Workspace.open(ws.path)
    assert reopened.schema_version() == SCHEMA_VERSION == 4
    with reopened.connect(read_only=True) as con:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'definition_versions' ORDER BY ordinal_position").fetchall()]
    assert columns == ["indicator_id", "indicator_version", "counting_hash",
                       "first_computed_at", "last_counting_hash"]


def test_resolve_path_prefers_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CAREPATH_WORKSPACE", str(tmp_path / "env"))
    assert resolve_path(tmp_path / "opt") == tmp_path / "opt"
    assert resolve_path(None) == tmp_path / "env"
    monkeypatch.delenv("CAREPATH_WORKSPACE")
    assert str(resolve_path(None)) == "workspace"


HOLD_THE_DATABASE = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[-1]); "
                     "print('open', flush=True); time.sleep(60)")


@pytest.mark.parametrize(("holder_is", "message"), [
    ("python", "in use by another process.*carepath serve"),
    ("carepath load", "in use by `carepath load` \\(PID [0-9]+\\): wait for it"),
])
def test_a_workspace_in_use_by_another_process_says_what_to_do(tmp_path, holder_is, message):
    """DuckDB lets one process write a database: `carepath releases` while `carepath serve`
    ran gave DuckDB's lock error alone (a user test), and a second `carepath load` was
    told to stop a server that was not running (a bad-input hunt)."""
    import subprocess
    import sys

    ws = Workspace.init(tmp_path / "ws")
    command = [sys.executable, "-c", HOLD_THE_DATABASE]
    if holder_is == "carepath load":  # a program called carepath, run as `carepath load`
        program = tmp_path / "bin" / "carepath"
        program.parent.mkdir()
        program.write_text(f"#!{sys.executable}\n{HOLD_THE_DATABASE}\n")
        program.chmod(0o755)
        command = [str(program), "load", "-w"]
    holder = subprocess.Popen([*command, str(ws.db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WorkspaceError, match=message), ws.connect(read_only=True):
            pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_secret_it_cannot_read_is_one_clear_line(tmp_path, monkeypatch):
    """An unreadable key file was a PermissionError traceback (a bad-input hunt)."""
    ws = Workspace.init(tmp_path / "ws")
    monkeypatch.setattr(Workspace, "secret_path", property(lambda self: self.path))  # a folder
    with pytest.raises(WorkspaceError, match="cannot read the workspace's secret") as info:
        ws.secret()
    assert str(ws.path) not in str(info.value)  # the file's name only


def test_changes_it_cannot_save_are_refused_whole(tmp_path, monkeypatch):
    """A folder the database cannot write its journal in failed at COMMIT with DuckDB's
    traceback (a bad-input hunt, without root's override of file permissions)."""
    import duckdb

    from carepath.workspace import workspace as module

    ws = Workspace.init(tmp_path / "ws")
    real = duckdb.connect

    class Unsaved:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise duckdb.IOException('Cannot open file "carepath.duckdb.wal": denied')
            return self._con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    monkeypatch.setattr(module.duckdb, "connect", lambda *a, **k: Unsaved(real(*a, **k)))
    with pytest.raises(WorkspaceError, match="could not save the changes, so nothing was "
                       "changed: Cannot open file"), ws.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                    "VALUES ('A1', 'A', 'practice', DATE '2020-01-01')")
    monkeypatch.setattr(module.duckdb, "connect", real)
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM organisations").fetchall() == [(0,)]
