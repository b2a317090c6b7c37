"""Shared machinery for named sources: records -> batches -> the generic loader."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from carepath.errors import ValidationError
from carepath.ingest.loader import _user, after_failure, ensure_tables, load_batches
from carepath.ingest.nhs_number import mask_in_text
from carepath.ingest.readers import HASH_CHUNK, Batch, FileFacts, inspect, line_at
from carepath.ingest.validate import code_expr, typed_expr
from carepath.model.schema import TABLES_BY_NAME, Table
from carepath.workspace import Workspace
from carepath.workspace.loads import REPLACE_ROWS_ACTION

# Records per batch handed to the loader.
RECORDS_PER_BATCH = 100_000

Record = tuple[int, dict[str, object]]  # (file row number, our column -> value)


@dataclass(frozen=True)
class Part:
    """One target table fed from one published file."""

    table: str
    file: Path
    records: Callable[[], Iterable[Record]]
    # What the load should say of the file's rows besides its own counts (read once the
    # records have been read).
    notes: Callable[[], list[str]] = list


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def batches(records: Iterable[Record], columns: list[str]) -> Iterator[Batch]:
    buf: dict[str, list] = {c: [] for c in columns}
    rows: list[int] = []
    for number, rec in records:
        for c in columns:
            v = rec.get(c)
            buf[c].append(None if v is None else str(v))
        rows.append(number)
        if len(rows) >= RECORDS_PER_BATCH:
            yield _batch(buf, rows)
            buf, rows = {c: [] for c in columns}, []
    if rows:
        yield _batch(buf, rows)


def _batch(buf: dict[str, list], rows: list[int]) -> Batch:
    return Batch({c: pa.array(v, pa.string()) for c, v in buf.items()},
                 np.array(rows, dtype=np.int64))


def run_parts(ws: Workspace, source: str, parts: list[Part], *, replace: bool = False,
              actor: str | None = None) -> list:
    """Load every part of a source in one transaction. ``replace``: the file's rows replace
    the rows already in the table with the same keys (a corrected or reissued file), and
    leave the rest, which other files loaded, as they are."""
    actor = actor or _user()
    results = []
    with ws.transaction() as con:
        ensure_tables(con)
        for part in parts:
            table = TABLES_BY_NAME[part.table]
            removed = _delete_same_keys(con, table, part.records()) if replace else 0
            facts = file_facts(part.file)
            columns = list(table.column_names)
            result = load_batches(
                con, ws, table, columns, batches(part.records(), columns),
                source=mask_in_text(f"{source}:{part.file.name}"), file_hash=facts.sha256,
                actor=actor, replace=replace, facts=facts)
            result.warnings += part.notes()
            kept = _restore_unreplaced(con, table) if removed else 0
            removed -= kept
            if kept:
                result.warnings.append(f"{kept:,} rows already in {table.name} kept as "
                                       "they were: the rows meant to replace them were "
                                       "quarantined")
            if removed:
                result.warnings.append(f"{removed:,} rows already in {table.name} with the "
                                       "same keys replaced")
                ws.audit(con, actor=actor, action=REPLACE_ROWS_ACTION, target=table.name,
                         detail=f"{removed} rows, by {result.source} (load {result.load_id})"
                         + (f"; {kept} kept, their replacements quarantined" if kept else ""))
            results.append(result)
    return results


_REPLACED_KEYS = "__replaced_keys"
# The rows a --replace took out, until the file's rows are in: those whose replacement was
# quarantined go back (a good value was lost for a bad one, a bad-input hunt).
_REPLACED_ROWS = "__replaced_rows"


def _delete_same_keys(con, table: Table, records: Iterable[Record]) -> int:
    """Delete the rows of ``table`` whose key a record repeats, kept aside in
    ``_REPLACED_ROWS``; returns how many. Keys are typed as validation types them, so
    '2023-03-31' meets the date it was stored as."""
    keys = list(table.key)
    values: dict[str, list] = {k: [] for k in keys}
    for _, rec in records:
        for k in keys:
            v = rec.get(k)
            values[k].append(None if v is None else str(v).strip())
    if not values[keys[0]]:
        return 0
    con.register(_REPLACED_KEYS, pa.table({k: pa.array(v, pa.string())
                                           for k, v in values.items()}))
    try:
        match = " AND ".join(
            f'"{table.name}"."{k}" = CAST({_typed(table.column(k), k)} '
            f"AS {table.column(k).sql_type})" for k in keys)
        con.execute(f'CREATE OR REPLACE TEMP TABLE {_REPLACED_ROWS} AS SELECT DISTINCT '
                    f'"{table.name}".* FROM "{table.name}", {_REPLACED_KEYS} k WHERE {match}')
        return con.execute(f'DELETE FROM "{table.name}" USING {_REPLACED_KEYS} k '
                           f"WHERE {match}").fetchall()[0][0]
    finally:
        with after_failure():
            con.unregister(_REPLACED_KEYS)


def _restore_unreplaced(con, table: Table) -> int:
    """Put back the rows a --replace took out (``_delete_same_keys``, which removed some)
    whose key no loaded row now holds; returns how many."""
    same = " AND ".join(f't."{k}" IS NOT DISTINCT FROM r."{k}"' for k in table.key)
    kept = con.execute(f'INSERT INTO "{table.name}" SELECT r.* FROM {_REPLACED_ROWS} r '
                       f'WHERE NOT EXISTS (SELECT 1 FROM "{table.name}" t WHERE {same})'
                       ).fetchall()[0][0]
    con.execute(f"DROP TABLE {_REPLACED_ROWS}")
    return kept


def _typed(col, name: str) -> str:
    raw = f"nullif(k.\"{name}\", '')"
    return code_expr(col, raw) if col.codes and col.type == "text" else typed_expr(col, raw)


# ----- helpers for reading published CSVs ------------------------------------------------
def file_facts(path: Path, *, text: bool | None = None) -> FileFacts:
    """Hash (and, for text, encoding) of a published file, read once however many parts
    and passes read the file. ``text`` defaults to what the file's name says."""
    path = Path(path)
    stat = path.stat()
    text = path.suffix.lower() in TEXT_SUFFIXES if text is None else text
    return _facts(path, stat.st_size, stat.st_mtime_ns, text)


@lru_cache(maxsize=16)
def _facts(path: Path, size: int, mtime_ns: int, text: bool) -> FileFacts:
    return inspect(path, text=text)


TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


def text_encoding(path: Path) -> str:
    """How to read a published CSV: UTF-8 (with or without a byte-order mark) or, failing
    that, Windows-1252 (a file saved by Excel). A file that is not CSV text (zip, gzip,
    UTF-16, binary) or that mixes encodings is refused by name, as `carepath load` does;
    so is one whose last line has no line ending: every national file ends with one, so
    it was cut short (an interrupted download), and a cut value cannot be told by its
    field count ('8005' cut to '80')."""
    path = Path(path)
    facts = file_facts(path, text=True)
    size = facts.size
    if size:
        with path.open("rb") as fh:
            fh.seek(size - 1)
            if fh.read(1) not in (b"\n", b"\r"):
                raise ValidationError(
                    f"line {line_at(path, size - 1)}, the last, has no line ending: the file "
                    "looks cut short (an interrupted download?); download it again. Nothing "
                    "was loaded", where=str(path))
    return "utf-8-sig" if facts.encoding == "utf-8" else facts.encoding


def csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, record) for a published CSV with a header row (header = row 1; keys are
    the header's names, trimmed). Rows with every field empty (`,,,,` left by a
    spreadsheet) are layout and skipped, as `carepath load` skips them; row numbers stay
    the file's. A published file is machine-made: a header naming a column twice, a row
    with more or fewer fields than the header, or a value running over lines (a quote left
    open) means it is not what it says, and it is refused by row. Read on, each loaded
    shifted or wrong values (a name's comma moved every later field along one) or
    silently joined two rows (a bad-input hunt). Empty fields past the header's last named
    column (a spreadsheet's trailing commas) are layout too."""
    where = str(path)
    with Path(path).open(encoding=text_encoding(path), newline="") as fh:
        reader = csv.reader(fh)
        try:
            names = [h.strip() for h in next(reader, [])]
            _refuse_repeated(names, where)
            named = max((i + 1 for i, n in enumerate(names) if n), default=0)
            for fields in reader:
                if not any(f.strip() for f in fields):
                    continue
                row = reader.line_num  # the file's line, after any blank lines it skipped
                fields = _fitted(fields, names, named, f"{where}, row {row}")
                yield row, {n: f for n, f in zip(names, fields, strict=True) if n}
        except csv.Error as exc:  # a field past the csv module's limit, a NUL byte
            raise ValidationError(f"cannot be read as CSV here ({exc}); nothing was loaded",
                                  where=f"{where}, row {reader.line_num}") from None


def _refuse_repeated(names: list[str], where: str) -> None:
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise ValidationError(f"the header names {', '.join(map(repr, repeated))} more than "
                              "once: which is meant cannot be told; nothing was loaded",
                              where=f"{where}, row 1")


def _fitted(fields: list[str], names: list[str], named: int, where: str) -> list[str]:
    """The row's fields, one per header column; refused when they cannot be: fields past
    the last named column must be empty, and every named column must have its field."""
    if any(f.strip() for f in fields[len(names):]) or len(fields) < named:
        raise ValidationError(f"{len(fields)} fields where the header has {len(names)} (a "
                              "comma inside an unquoted value?): the values would land in "
                              "other columns; nothing was loaded", where=where)
    if any("\n" in f or "\r" in f for f in fields):
        raise ValidationError("a value runs over lines (a quote left open?), joining rows "
                              "of the file; nothing was loaded", where=where)
    return (fields + [""] * len(names))[:len(names)]


def header_of(path: Path) -> list[str]:
    """The header row's names, trimmed."""
    with Path(path).open(encoding=text_encoding(path), newline="") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


def require_columns(path: Path, needed: Iterable[str]) -> None:
    header = header_of(path)
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValidationError(f"not the expected layout: missing columns {', '.join(missing)}",
                              where=f"{path}, row 1")


def find(path: Path, pattern: str) -> Path:
    """The file itself, or the one file in a folder matching ``pattern``."""
    if path.is_file():
        return path
    found = find_optional(path, pattern)
    if found is None:
        raise ValidationError(f"no file matching {pattern} in the folder", where=str(path))
    return found


def find_optional(path: Path, pattern: str) -> Path | None:
    """The file if it matches ``pattern``, or the one file in a folder that does. Several
    in one folder are refused by name rather than one loaded and the others left unsaid."""
    if path.is_file():
        return path if path.match(pattern) else None
    hits = sorted(path.glob(pattern))
    if len(hits) > 1:
        raise ValidationError(f"{len(hits)} files match {pattern} in the folder ("
                              f"{', '.join(h.name for h in hits)}); load them one at a time",
                              where=str(path))
    return hits[0] if hits else None


def number(text: str | None) -> str | None:
    """A published count as plain digits ('1,234' -> '1234'); blanks stay missing."""
    if text is None:
        return None
    t = text.strip().replace(",", "")
    return t or None
