"""Load files into a workspace table: all or nothing, reconciled, pseudonymised.

One call is one transaction. Inside it each file is hashed, streamed in batches into a
temporary staging table (NHS numbers already replaced by pseudonyms), validated by one
set-based statement, and split into the target table and the quarantine. The load log
and audit rows are written in the same transaction, so a crash or a kill at any point
leaves the workspace exactly as it was before the call.
"""

from __future__ import annotations

import getpass
import json
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from carepath.errors import ValidationError
from carepath.ingest import hierarchy, nhs_number
from carepath.ingest.mapping import Mapping
from carepath.ingest.prepare import NHS_COLUMN, PATIENT_COLUMN, prepare_batch
from carepath.ingest.readers import EXCEL_SUFFIXES, BadRow, Batch, FileFacts, open_file
from carepath.ingest.validate import CROSS_RULES, Plan, q
from carepath.model.schema import DATA_TABLES, INGEST_TABLES, Table
from carepath.workspace import Workspace, derived
from carepath.workspace.loads import REPLACE_ACTION

# Problems quoted in the message of a load refused by --strict / --max-errors.
PROBLEMS_QUOTED = 5
# Spill validation to disk rather than grow without bound.
MEMORY_LIMIT = "2GB"
# Rows validated and inserted together: large enough for vectorised SQL to pay off,
# small enough that memory stays bounded whatever the file size.
CHUNK_ROWS = 1_000_000
# Chunks read and prepared ahead while the database validates and inserts the last one:
# one is enough to keep both cores busy, and memory stays at a few chunks.
CHUNKS_AHEAD = 1


@dataclass
class LoadResult:
    table: str
    source: str
    load_id: str | None
    file_hash: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    skipped: bool = False  # same file already loaded: nothing done
    earlier: tuple[int, int] | None = None  # when skipped: (loaded, quarantined) that time
    warnings: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        if self.skipped:
            then = (f": loaded {self.earlier[0]:,}, quarantined {self.earlier[1]:,}"
                    if self.earlier else "")
            return (f"{self.source}: already loaded into {self.table} (load {self.load_id}"
                    f"{then}); nothing to do (use --replace to load it again)")
        return (f"{self.source}: read {self.rows_read:,}, loaded {self.rows_loaded:,}, "
                f"quarantined {self.rows_quarantined:,} into {self.table}")


# Columns a load ignores are named up to this many (a 16,384-column sheet listed them all).
IGNORED_NAMED = 20


def _before_commit(results: list[LoadResult]) -> None:
    """Test seam: called when every row and log entry is written, just before COMMIT."""


def loadable_table(name: str, where: str = "TABLE") -> Table:
    """The data-model table called ``name`` (in any letter case)."""
    by_name = {t.name: t for t in DATA_TABLES}
    name = name.strip().lower()
    if name not in by_name:
        raise ValidationError(f"unknown table {name!r}; loadable tables: "
                              f"{', '.join(sorted(by_name))}", where=where)
    return by_name[name]


def load_files(ws: Workspace, table_name: str, paths: Iterable[Path], *,
               mapping: Mapping | None = None, strict: bool = False,
               max_errors: int | None = None, replace: bool = False,
               actor: str | None = None) -> list[LoadResult]:
    """Load files into one table in one transaction."""
    table = loadable_table(table_name)
    if mapping is not None and mapping.table not in (None, table.name):
        raise ValidationError(f"the mapping is for table {mapping.table!r}, not "
                              f"{table.name!r}", where="--mapping")
    if mapping is not None:
        extra = {NHS_COLUMN} if PATIENT_COLUMN in table.column_names else set()
        mapping.check_against(set(table.column_names) | extra)
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValidationError("no files given", where="FILE")
    if max_errors is not None and max_errors < 0:
        raise ValidationError(f"must be 0 or more, not {max_errors}", where="--max-errors")
    actor = actor or _user()
    with ws.transaction() as con:
        ensure_tables(con)
        removed = 0
        if replace:
            removed = con.execute(f"SELECT count(*) FROM {q(table.name)}").fetchone()[0]
            con.execute(f"DELETE FROM {q(table.name)}")
            # Earlier loads' rows are gone: from now on their files are not "already loaded".
            ws.audit(con, actor=actor, action=REPLACE_ACTION, target=table.name,
                     detail=json.dumps({"rows_removed": removed}))
        results: list[LoadResult] = []
        for path in paths:
            opts = mapping or Mapping()
            facts, names, batches = open_file(path, encoding=opts.csv.encoding,
                                              delimiter=opts.csv.delimiter,
                                              sheet=opts.excel.sheet)
            # A file named after a person (patient_9434765919.csv) is logged masked.
            source = nhs_number.mask_in_text(str(path.absolute()))
            res = load_batches(con, ws, table, names, batches, source=source,
                               file_hash=facts.sha256, mapping=mapping, actor=actor,
                               replace=replace, facts=facts)
            if facts.encoding is not None and res.rows_read and not _ends_line(path):
                # A file cut short loads its cut last row if it still parses (a sex of
                # 'M' and a count of '12' for '1234': a check); load-source refuses them.
                res.warnings.append("the file's last line has no line ending: if the file "
                                    "was cut short, its last row may be incomplete")
            if removed and not results:  # it emptied the table unsaid (a check)
                res.warnings.insert(0, f"--replace emptied {table.name} first: its "
                                       f"{removed:,} rows, from every earlier load, are gone "
                                       "(give every file of the table to keep their rows)")
            results.append(res)
            _enforce_limits(results, strict, max_errors, con)
        if replace and results:
            results[-1].warnings += _orphans(con, table)
        _before_commit(results)
    return results


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Tables added by the ingest block, for workspaces made before it."""
    for t in INGEST_TABLES:
        con.execute(t.ddl())


def previous_load(con: duckdb.DuckDBPyConnection, table: str, file_hash: str) -> str | None:
    """The load of this file whose rows are still in the table: none before the table's
    last --replace (a load and its replace share the transaction's timestamp)."""
    row = con.execute(
        "SELECT load_id FROM load_log WHERE table_name = ? AND file_hash = ? AND loaded_at >= "
        "coalesce((SELECT max(\"at\") FROM audit_log WHERE action = ? AND target = ?), "
        "TIMESTAMP '-infinity') ORDER BY loaded_at DESC LIMIT 1",
        [table, file_hash, REPLACE_ACTION, table]).fetchall()
    return row[0][0] if row else None


def load_batches(con: duckdb.DuckDBPyConnection, ws: Workspace, table: Table,
                 names: list[str], batches: Iterable[Batch], *, source: str, file_hash: str,
                 mapping: Mapping | None = None, actor: str | None = None,
                 replace: bool = False, facts: FileFacts | None = None) -> LoadResult:
    """Stage, validate and load one file's batches on the caller's transaction."""
    result = LoadResult(table.name, source, None, file_hash)
    earlier = None if replace else previous_load(con, table.name, file_hash)
    if earlier:
        result.skipped, result.load_id = True, earlier
        result.earlier = con.execute(
            "SELECT rows_loaded, rows_quarantined FROM load_log WHERE load_id = ?",
            [earlier]).fetchone()
        return result
    mapping = mapping or Mapping()
    colmap = _resolve_columns(table, names, mapping, source, result)
    result.load_id = uuid.uuid4().hex[:16]
    with _bounded_memory(con):
        _stage_and_load(con, ws, table, batches, colmap, mapping, result, actor, facts)
    if table.name == hierarchy.TABLE and result.rows_loaded:
        closed = hierarchy.close_superseded_links(con)
        if closed:
            result.warnings.append(f"{closed:,} earlier links closed the day before a later "
                                   "link of the same organisation and level starts")
    return result


@contextmanager
def after_failure() -> Iterator[None]:
    """Clean-up that may follow a failed statement: interrupted (Ctrl+C) or failed, the
    transaction is aborted and refuses every statement until rolled back, which undoes
    what the clean-up would have. The error being raised is the one to tell (it was a
    traceback about the abort)."""
    try:
        yield
    except duckdb.TransactionException:
        pass  # an aborted transaction: its COMMIT fails too, so nothing passes unseen


@contextmanager
def _bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Spill to disk past MEMORY_LIMIT during a load, then restore the caller's setting
    (a server sharing the database keeps its own)."""
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        yield
    finally:
        with after_failure():
            con.execute(f"SET memory_limit = '{previous}'")


def _stage_and_load(con: duckdb.DuckDBPyConnection, ws: Workspace, table: Table,
                    batches: Iterable[Batch], colmap: dict[str, str], mapping: Mapping,
                    result: LoadResult, actor: str | None, facts: FileFacts | None) -> None:
    """Validate and load chunk by chunk: memory stays bounded by the chunk size however
    large the file, and every chunk lands in the same transaction."""
    present = [c for c in table.column_names if c in colmap or c in mapping.constants
               or (c == PATIENT_COLUMN and NHS_COLUMN in colmap)]
    plan = Plan(table, f"__chunk_{result.load_id}", frozenset(present),
                _tables_with_rows(con, table, _referenced(table)),
                _tables_with_rows(con, table, {r.other for r in CROSS_RULES.get(table.name, ())}))
    if plan.needs_org_intervals:
        plan.org_intervals = f"{plan.stage}_orgs"
        con.execute(f"CREATE TEMP TABLE {q(plan.org_intervals)} AS {plan.org_intervals_sql()}")
    if table.key:
        con.execute(f"CREATE TEMP TABLE {q(plan.seen)} AS {plan.seen_sql()}")
        con.execute(plan.bad_keys_ddl())
    bad: list[BadRow] = []
    key = ws.secret() if NHS_COLUMN in colmap else b""
    staged = 0

    masked = [0]  # NHS numbers masked in free text, added to on the reading thread
    missing = [0]  # ids written as 'NULL', 'N/A', '-' read as missing

    def prepare(batch: Batch) -> pa.Table:
        return prepare_batch(batch, table, colmap, mapping, present, key, masked, missing)

    blank = [0]  # added to on the reading thread, read once it has finished

    def counted(batches: Iterable[Batch]) -> Iterator[Batch]:
        for batch in batches:
            blank[0] += batch.blank_rows
            yield batch

    for chunk, chunk_bad, rows in _read_ahead(_prepared_chunks(counted(batches), prepare),
                                              CHUNKS_AHEAD):
        bad += chunk_bad
        staged += rows
        if chunk is not None:
            _load_chunk(con, plan, chunk, result)
    for temp in (plan.org_intervals, plan.seen if table.key else None):
        if temp:
            con.execute(f"DROP TABLE {q(temp)}")
    if bad:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, NULL, NULL, ?)",
                        [[result.load_id, table.name, result.source, b.row_number, b.reason]
                         for b in bad])
    result.rows_read = staged + len(bad)
    result.rows_quarantined = result.rows_read - result.rows_loaded
    for reason, column, n in con.execute(
            "SELECT reason, column_name, count(*) FROM quarantine WHERE load_id = ? "
            "GROUP BY ALL ORDER BY 3 DESC", [result.load_id]).fetchall():
        result.reasons[f"{column or '(row)'}: {reason}"] = n
    for ref in sorted(_referenced(table) - plan.check_references - {table.name}):
        result.warnings.append(f"references to {ref} not checked: {ref} is empty")
    joined = sum(b.lines - 1 for b in bad)
    if joined:
        result.warnings.append(f"{joined:,} lines of the file were read into other rows by "
                               "quotes left open (those rows are quarantined, each saying how "
                               "many lines it took), so fewer rows were read than the file "
                               "has lines")
    if blank[0]:
        result.warnings.append(f"{blank[0]:,} blank rows skipped (every field empty: layout, "
                               "not data)")
    if missing[0]:
        result.warnings.append(f"{missing[0]:,} ids written as NULL, N/A, NA, None or - "
                               "read as missing")
    if masked[0]:
        values = "value" if masked[0] == 1 else "values"
        result.warnings.append(f"{masked[0]:,} {values} of free text held what looks like "
                               "an NHS number: stored masked (943*******), never as typed")
    if result.rows_read and not result.rows_loaded:  # a success in all but name
        result.warnings.append(f"nothing was loaded: all {result.rows_read:,} rows were "
                               "quarantined (`carepath quarantine` lists them)")
    _write_log(con, ws, result, actor or _user(), facts)


def _prepared_chunks(batches: Iterable[Batch], prepare: Callable[[Batch], pa.Table]
                     ) -> Iterator[tuple[pa.Table | None, list[BadRow], int]]:
    """(prepared rows, rows the reader refused, rows read) for every CHUNK_ROWS rows."""
    pending: list[pa.Table] = []
    bad: list[BadRow] = []
    rows = 0
    for batch in batches:
        bad += batch.bad_rows
        if batch.num_rows:
            pending.append(prepare(batch))
            rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.concat_tables(pending), bad, rows
            pending, bad, rows = [], [], 0
    if pending or bad:
        yield (pa.concat_tables(pending) if pending else None), bad, rows


_DONE = object()


def _read_ahead(items: Iterator, depth: int) -> Iterator:
    """``items`` produced on another thread, up to ``depth`` ahead of the consumer: parsing
    the file (Arrow) and validating and inserting (DuckDB) both release the GIL, so the
    next chunk is read while this one is loaded. The producer's errors are raised here;
    a consumer that stops early (an error, a kill) stops the producer too."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((None, exc))
            return
        put((_DONE, None))

    worker = threading.Thread(target=produce, name="carepath-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = out.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _load_chunk(con: duckdb.DuckDBPyConnection, plan: Plan, chunk: pa.Table,
                result: LoadResult) -> None:
    """Quarantine the chunk's bad rows and insert the good ones. Earlier chunks are
    already in the target, so a key repeated across chunks is caught as 'already in'."""
    table, lid, src = plan.table, result.load_id, result.source
    # Each staged row's identity: a file row may give several (a published file's row of
    # age bands is a row per band), and one bad value must not take its siblings unseen.
    chunk = chunk.append_column("__id", pa.array(np.arange(chunk.num_rows, dtype=np.int64)))
    con.register(plan.stage, chunk)
    temps = [plan.bad_rows]
    try:
        if table.key:
            _find_repeated_keys(con, plan, temps)
        # Decide bad rows once, before any row of this chunk is in the target.
        con.execute(f"CREATE TEMP TABLE {q(plan.bad_rows)} AS {plan.bad_rows_sql()}")
        problems = con.execute(
            f"INSERT INTO quarantine SELECT ?, ?, ?, \"__row\", p.\"column\", p.\"value\", "
            f"p.reason FROM ({plan.problems_sql()})", [lid, table.name, src]).fetchall()[0][0]
        cols = ", ".join(q(c) for c in table.column_names)
        loaded = con.execute(f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM "
                             f"({plan.good_sql()})").fetchall()[0][0]
        if problems < chunk.num_rows - loaded:
            # A bad row always has at least one reason; never a silent drop.
            raise ValidationError(f"internal check failed: {chunk.num_rows - loaded} rows not "
                                  f"loaded but {problems} reasons recorded; nothing was loaded",
                                  where=src)
        if table.key:
            con.execute(plan.remember_keys_sql())
            con.execute(plan.remember_bad_keys_sql())
        result.rows_loaded += loaded
        # On failure the load's transaction rolls back, temp tables with it.
        for temp in temps:
            con.execute(f"DROP TABLE {q(temp)}")
    finally:
        with after_failure():
            con.unregister(plan.stage)


def _find_repeated_keys(con: duckdb.DuckDBPyConnection, plan: Plan, temps: list[str]) -> None:
    """Rows repeating a key within the chunk (``dups``) or already in the target
    (``existing``). Only rows whose key hash was seen before are compared with the
    target, so the cost does not grow with the rows already loaded."""
    candidates = f"{plan.stage}_candidates"
    temps += [plan.chunk_keys, plan.dups, candidates, plan.existing]
    con.execute(f"CREATE TEMP TABLE {q(plan.chunk_keys)} AS {plan.chunk_keys_sql()}")
    con.execute(f"CREATE TEMP TABLE {q(plan.dups)} AS {plan.dups_sql()}")
    con.execute(f"CREATE TEMP TABLE {q(candidates)} AS {plan.existing_candidates_sql()}")
    if con.execute(f"SELECT count(*) FROM {q(candidates)}").fetchall()[0][0]:
        con.execute(f"CREATE TEMP TABLE {q(plan.existing)} AS {plan.existing_sql(candidates)}")
    else:
        con.execute(f'CREATE TEMP TABLE {q(plan.existing)} ("__id" BIGINT)')


def _resolve_columns(table: Table, names: list[str], mapping: Mapping, source: str,
                     result: LoadResult) -> dict[str, str]:
    """our column -> the file's header name; refuse a file missing required columns."""
    theirs = {n.strip().lower(): n for n in names}
    renamed = mapping.source_for()
    colmap: dict[str, str] = {}
    mapped_to = set(renamed.values())
    for low, original in theirs.items():
        ours = renamed.get(low, low)
        # A column the mapping gives another of the file's columns to is the mapping's:
        # a file's own 'stage' overrode 'stage: STG' when it came later (an independent
        # check), so the result hung on the columns' order.
        if low not in renamed and ours in mapped_to:
            continue
        if ours in table.column_names or (ours == NHS_COLUMN and
                                          PATIENT_COLUMN in table.column_names):
            colmap[ours] = original
    missing_mapped = [f"{ours} <- {t}" for ours, t in mapping.columns.items()
                      if t.strip().lower() not in theirs]
    if missing_mapped:
        raise ValidationError(f"mapped columns not in the file: {', '.join(missing_mapped)}",
                              where=f"{source}, row 1")
    have = set(colmap) | set(mapping.constants)
    if NHS_COLUMN in have:
        have.add(PATIENT_COLUMN)
    missing = [c.name for c in table.columns if c.required and c.name not in have]
    if missing:
        hint = ""
        if len(names) == 1:
            shown = nhs_number.mask_in_text(names[0])[:60]  # masked whole, then cut
            question = ("is the data on another sheet? name it with `excel: {sheet: ...}` "
                        "in a mapping" if Path(source).suffix.lower() in EXCEL_SUFFIXES
                        else "is the delimiter right?")
            hint = f"; the header has one column {shown!r}: {question}"
        elif PATIENT_COLUMN in missing:  # the usual case with real extracts
            hint = (f"; {PATIENT_COLUMN} can come from an NHS number column, pseudonymised on "
                    f"loading: name yours in a mapping (`columns: {{{NHS_COLUMN}: ...}}`) or "
                    f"call it {NHS_COLUMN}")
        raise ValidationError(f"missing required columns for {table.name}: "
                              f"{', '.join(missing)}{hint}", where=f"{source}, row 1")
    used = {v.lower() for v in colmap.values()}
    extra = [n for n in names if n.lower() not in used]
    if extra:
        listed = ", ".join(extra[:IGNORED_NAMED])
        if len(extra) > IGNORED_NAMED:
            listed += f" and {len(extra) - IGNORED_NAMED:,} more"
        shown = nhs_number.mask_in_text(listed)  # a header is text from the file
        result.warnings.append(f"columns not in {table.name}, ignored: {shown}")
    return colmap


def _ends_line(path: Path) -> bool:
    """Whether a text file's last byte ends a line."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def _orphans(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """After a --replace: rows of other tables that refer to rows of ``table`` no longer
    there (a patients file of 2 of 10 people left every tumour pointing at no one,
    unsaid: an independent check). Said, not undone: the new file may be meant."""
    out = []
    for other in DATA_TABLES:
        for col in other.columns:
            if other.name == table.name or not col.references or \
                    col.references.split(".")[0] != table.name:
                continue
            theirs = col.references.split(".")[1]
            n = con.execute(
                f"SELECT count(*) FROM {q(other.name)} o WHERE o.{q(col.name)} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {q(table.name)} t "
                f"WHERE t.{q(theirs)} = o.{q(col.name)})").fetchone()[0]
            if n:
                refer = "row refers" if n == 1 else "rows refer"
                out.append(f"{other.name}: {n:,} {refer} by {col.name} to rows "
                           f"{table.name} no longer has")
    return out


def _referenced(table: Table) -> set[str]:
    return {c.references.split(".")[0] for c in table.columns if c.references}


def _tables_with_rows(con: duckdb.DuckDBPyConnection, table: Table, names: set[str]
                      ) -> frozenset[str]:
    return frozenset(n for n in names if n != table.name and
                     con.execute(f"SELECT EXISTS (SELECT 1 FROM {q(n)})").fetchall()[0][0])


def _write_log(con: duckdb.DuckDBPyConnection, ws: Workspace, result: LoadResult, actor: str,
               facts: FileFacts | None) -> None:
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        # Cannot happen by construction; refusing keeps the promise read = loaded + quarantined.
        raise ValidationError(f"reconciliation failed: read {result.rows_read} != loaded "
                              f"{result.rows_loaded} + quarantined {result.rows_quarantined}",
                              where=result.source)
    con.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [result.load_id, result.table, result.source, result.file_hash,
                 result.rows_read, result.rows_loaded, result.rows_quarantined, actor])
    # Copies of person columns made from the old rows go with them, in this transaction.
    derived.drop_for(con, result.table)
    detail = {"load_id": result.load_id, "file_hash": result.file_hash,
              "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
              "rows_quarantined": result.rows_quarantined}
    if facts is not None and facts.encoding:
        detail["encoding"] = facts.encoding
    ws.audit(con, actor=actor, action="load", target=f"{result.table} <- {result.source}",
             detail=json.dumps(detail))


def _enforce_limits(results: list[LoadResult], strict: bool, max_errors: int | None,
                    con: duckdb.DuckDBPyConnection) -> None:
    """The limit is on the bad rows of the whole call, every file counted so far."""
    res = results[-1]
    if res.skipped:
        return
    limit = 0 if strict else max_errors
    bad = sum(r.rows_quarantined for r in results if not r.skipped)
    if limit is None or bad <= limit:
        return
    read = sum(r.rows_read for r in results if not r.skipped)
    rows = con.execute("SELECT row_number, column_name, masked_value, reason FROM quarantine "
                       "WHERE load_id = ? ORDER BY row_number LIMIT ?",
                       [res.load_id, PROBLEMS_QUOTED]).fetchall()
    quoted = "; ".join(f"row {r}, column {c or '-'}"
                       f"{f' ({v!r})' if v is not None else ''}: {why}" for r, c, v, why in rows)
    rule = "--strict" if strict else f"--max-errors {max_errors}"
    files = f" in {len(results)} files" if len(results) > 1 else ""
    raise ValidationError(f"{bad:,} of {read:,} rows{files} failed validation, more than "
                          f"{rule} allows; nothing was loaded. First in this file: {quoted}",
                          where=res.source)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


