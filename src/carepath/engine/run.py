"""Compute indicators into ``indicator_values``: the action behind `carepath compute`.

One call is one transaction: either every requested indicator's values are replaced or
nothing changes. An indicator whose definition, input loads and Carepath version are
unchanged is skipped, so recomputing changes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from carepath import __version__
from carepath.engine import compile as cp
from carepath.engine import rollup
from carepath.engine.freshness import (
    load_ids,
    missing_column,
    national_name,
    practice_groups,
    record_outcome,
    settings_fingerprint,
    unchanged,
    without_values,
)
from carepath.errors import CarepathError
from carepath.indicators.definition import STANDARDISED_STATISTICS as STANDARDISED
from carepath.indicators.definition import Count, Definition, Population
from carepath.indicators.periods import periods_between
from carepath.model.codes import AGE_BANDS
from carepath.model.schema import INDICATOR_VALUES
from carepath.workspace import Workspace, derived
from carepath.workspace.loads import data_loads

# Breakdowns (sex, age band, deprivation ...) are not computed for single practices: the
# counts are too small to read and too easy to disclose (Fingertips does the same).
NO_BREAKDOWNS_FOR = ("practice",)
LOOKBACK_FOR_STATE_MODES = timedelta(days=366)


@dataclass
class Outcome:
    indicator_id: str
    status: str  # computed | unchanged | no_data | failed
    rows: int = 0
    seconds: float = 0.0
    message: str = ""


@dataclass
class Context:
    source: cp.Source
    hierarchy: pd.DataFrame
    names: dict[str, str]
    loads: pd.DataFrame
    groups: pd.DataFrame
    mem: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)
    scans: dict = field(default_factory=dict)  # shared part scans within one compute
    # One lock per scan key: a thread wanting a scan another is running waits for it
    # rather than running the same query again.
    scan_locks: dict = field(default_factory=dict)
    locks_lock: threading.Lock = field(default_factory=threading.Lock)
    computed_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    # event table -> columns of its derived copy with the person's columns (DuckDB only)
    copies: dict = field(default_factory=dict)
    settings: str = ""  # fingerprint of the settings that shape the areas (_settings)


def _context(con: duckdb.DuckDBPyConnection, source: cp.Source, config: dict) -> Context:
    hierarchy = con.execute("SELECT child_code, parent_code, parent_type, valid_from, "
                            "valid_to FROM org_hierarchy").df()
    for col in ("valid_from", "valid_to"):
        hierarchy[col] = pd.to_datetime(hierarchy[col])
    names = dict(con.execute("SELECT org_code, arg_max(name, valid_from) FROM organisations "
                             "GROUP BY 1").fetchall())
    names[rollup.NATIONAL] = national_name(config)
    loads = data_loads(con)
    for code, spec in (config.get("groups") or {}).items():
        names[str(code)] = spec.get("name", str(code)) if isinstance(spec, dict) else str(code)
    return Context(source, hierarchy, names, loads, practice_groups(config),
                   settings=settings_fingerprint(config))


# ----- one indicator --------------------------------------------------------------------
def _date_range(ctx: Context, table: str, column: str) -> pd.DataFrame:
    # One scan per date column, not per indicator.
    return _once(ctx, ("dates", table, column),
                 lambda: cp.date_range(ctx.source, table, column).execute())


def _periods(ctx: Context, defn: Definition):
    count = defn.numerator
    rng = _date_range(ctx, cp.dated_table(count), count.date)
    first, last = rng["first"].iloc[0], rng["last"].iloc[0]
    if pd.isna(first):
        return []
    if count.dated_by is not None:  # and no later than the counted table's own data go
        own = _date_range(ctx, count.table, count.dated_by.own_date)["last"].iloc[0]
        if pd.isna(own):
            return []
        last = min(pd.Timestamp(last), pd.Timestamp(own))
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    if defn.mode != "in_period":
        first = first - LOOKBACK_FOR_STATE_MODES
    follow_up = timedelta(days=defn.follow_up_days)
    return [p for p in periods_between(defn.period, first, last)
            if not follow_up or p.end + follow_up <= last]


def _once(ctx: Context, key, build):
    """``build()`` once per compute for ``key``, shared by every indicator and worker: a
    thread wanting a value another is building waits for it rather than building it too."""
    with ctx.locks_lock:
        key_lock = ctx.scan_locks.setdefault(key, threading.Lock())
    with key_lock:
        if key not in ctx.scans:
            ctx.scans[key] = build()
        return ctx.scans[key]


def _part(ctx: Context, defn: Definition, part, ptable, group: tuple[str, ...],
          periods_key: tuple):
    """One part's unit-level counts. Parts that several indicators share (the registered
    population, the same referrals by age and sex ...) are scanned once per compute."""
    if part is None:
        return None
    key = (part.model_dump_json(), defn.attribution_col, defn.mode, group, periods_key)
    return _once(ctx, key, lambda: _scan(ctx, defn, part, ptable, group))


def _scan(ctx: Context, defn: Definition, part, ptable, group: tuple[str, ...]) -> pa.Table:
    if isinstance(part, Population):
        expr = cp.aggregate_population(ctx.source, part, ptable, group,
                                       at_end=defn.mode in cp.STATE_MODES)
    else:
        expr = cp.aggregate_count(ctx.source, defn, part, ptable, group)
    # Arrow, not pandas: the unit-level counts go back into DuckDB for the roll-up,
    # which scans Arrow in parallel without the GIL (pandas text columns need both).
    return expr.to_pyarrow()


@dataclass(frozen=True)
class Areas:
    """Where each (period, unit) counts and each area's parent: the same for every
    indicator with the same attribution, periods and units, so built once for them."""

    amap: pa.Table  # period, unit, area_type, area_code
    for_breakdowns: pa.Table  # the same without the levels breakdowns skip
    parents: pd.DataFrame  # period, area_type, area_code, parent_code


def _areas(ctx: Context, defn: Definition, merged: pa.Table, periods_df: pd.DataFrame
           ) -> Areas:
    # The key is every (period, unit) in one string: exact, and built without a Python loop.
    listed = rollup.sql(ctx.mem, "SELECT string_agg(DISTINCT period || chr(31) || coalesce("
                                 "unit, chr(0)), chr(30) ORDER BY period || chr(31) || "
                                 "coalesce(unit, chr(0))) AS s FROM m", m=merged).s.iloc[0]
    key = ("areas", defn.attribution, listed)

    def build() -> Areas:
        units = rollup.sql(ctx.mem, "SELECT DISTINCT period, unit FROM m", m=merged)
        amap = rollup.area_map(units.merge(periods_df, on="period"), ctx.hierarchy,
                               defn.attribution, ctx.groups)
        broken_down = amap[~amap.area_type.isin(NO_BREAKDOWNS_FOR)]
        amap_arrow = pa.Table.from_pandas(amap, preserve_index=False)
        return Areas(amap_arrow, pa.Table.from_pandas(broken_down, preserve_index=False),
                     rollup.parents(ctx.mem, amap_arrow))

    return _once(ctx, key, build)


def _merge_parts(ctx, num: pa.Table, den: pa.Table | None, keys: list[str],
                 defn: Definition) -> pa.Table:
    """Numerator and denominator side by side. A unit with a denominator but no counted
    rows has a true zero, not a missing value; a unit without a denominator stays missing."""
    key_list = ", ".join(f'"{k}"' for k in keys)
    weighted = "n_sq" in num.column_names  # a sum: events weighted by their value
    renamed = "n AS num, n_events AS num_events, n_sq AS num_sq" if weighted else "n AS num"
    if den is None:
        return rollup.sql(ctx.mem, f"SELECT * RENAME ({renamed}), CAST('NaN' AS DOUBLE) AS "
                                   "den FROM num", arrow=True, num=num)
    extra = ", coalesce(total, 0) AS total, coalesce(total_sq, 0) AS total_sq" \
        if defn.statistic == "mean" else ""
    if weighted:
        extra += ", coalesce(num_events, 0) AS num_events, coalesce(num_sq, 0) AS num_sq"
    return rollup.sql(ctx.mem, f"SELECT {key_list}, coalesce(num, 0) AS num, n AS den{extra} "
                               f"FROM (SELECT * RENAME ({renamed}) FROM num) "
                               f"FULL OUTER JOIN den USING ({key_list})",
                      arrow=True, num=num, den=den)


def _unit_counts(ctx, defn, ptable, group: tuple[str, ...], periods_key: tuple
                 ) -> pd.DataFrame:
    if cp.pairable(defn):
        return cp.aggregate_pair(ctx.source, defn, ptable, group).to_pyarrow()
    num = _part(ctx, defn, defn.numerator, ptable, group, periods_key)
    den = _part(ctx, defn, defn.denominator, ptable, group, periods_key)
    return _merge_parts(ctx, num, den, ["period", "unit", *group], defn)


def _scans(defn: Definition) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(columns to group the scan by, breakdowns derived from it). One scan serves every
    breakdown, except distinct counts, which cannot be summed across categories."""
    strata = cp.STRATA if defn.statistic in STANDARDISED else ()
    breakdowns = ("all", *defn.breakdowns)
    if defn.numerator.value.startswith("distinct:") and defn.breakdowns:
        return [(tuple(dict.fromkeys(strata + (() if b == "all" else (b,)))), (b,))
                for b in breakdowns]
    return [(defn.grouping(), breakdowns)]


def _breakdown_cells(ctx, defn, merged: pa.Table, areas: Areas, breakdown: str
                     ) -> pd.DataFrame:
    strata = list(cp.STRATA) if defn.statistic in STANDARDISED else []
    cat = breakdown if breakdown != "all" else "_all"
    keys = list(dict.fromkeys(strata + ([] if breakdown == "all" else [breakdown])))
    # Breakdowns from PCN up: per-practice cells are too small to read.
    amap = areas.amap if breakdown == "all" else areas.for_breakdowns
    if defn.statistic in STANDARDISED:
        rolled = rollup.roll_up(ctx.mem, merged, amap, keys, arrow=True)
        cells = rollup.standardised_cells(ctx.mem, defn, rolled,
                                          None if breakdown == "all" else breakdown)
    else:
        cells = rollup.roll_up(ctx.mem, merged, amap, keys)
        if breakdown == "all":
            cells["_all"] = "all"
        cells = cells.rename(columns={cat: "category"})
    cells = cells.assign(breakdown=breakdown)
    missing = cells.category.isna().to_numpy()
    if breakdown == "age_band":
        index = cells.category.fillna(0).astype(int).to_numpy()
        cells["category"] = np.array(AGE_BANDS, dtype=object)[index]
    cells["category"] = np.where(missing, NOT_RECORDED, cells.category.astype(str))
    return cells


# The category of rows whose breakdown column is empty: a group of its own, named, rather
# than a blank category (which the data model does not allow) or a lost group.
NOT_RECORDED = "Not recorded"


def _all_cells(ctx, defn, ptable, periods_df) -> pd.DataFrame:
    frames, areas = [], None
    periods_key = tuple(periods_df.period)
    for group, breakdowns in _scans(defn):
        merged = rollup.attributed(_unit_counts(ctx, defn, ptable, group, periods_key))
        if merged.num_rows == 0:
            continue
        if areas is None:
            areas = _areas(ctx, defn, merged, periods_df)
        frames += [_breakdown_cells(ctx, defn, merged, areas, b) for b in breakdowns]
    if not frames:
        return pd.DataFrame()
    cells = pd.concat(frames, ignore_index=True)
    return cells.merge(areas.parents, on=["period", "area_type", "area_code"], how="left")


def _nothing(why: str) -> pd.DataFrame:
    """No values, and why (shown with the 'no_data' outcome)."""
    empty = pd.DataFrame()
    empty.attrs["why"] = why
    return empty


def _no_periods_reason(ctx: Context, defn: Definition) -> str:
    table, column = cp.dated_table(defn.numerator), defn.numerator.date
    last = ctx.scans.get(("dates", table, column))
    if last is None or pd.isna(last["last"].iloc[0]):
        return f"no rows of {table} have a {column}"
    if defn.follow_up_days:
        return (f"no {defn.period.replace('_', ' ')} ends {defn.follow_up_days} days before "
                f"the latest {table}.{column} ({pd.Timestamp(last['last'].iloc[0]).date()}), "
                "the follow-up it needs")
    return f"no complete {defn.period.replace('_', ' ')} in the {table} data"


def compute_one(ctx: Context, defn: Definition) -> pd.DataFrame:
    periods = _periods(ctx, defn)
    if not periods:
        return _nothing(_no_periods_reason(ctx, defn))
    ptable = cp.periods_table(periods)
    periods_df = pd.DataFrame({"period": [p.label for p in periods],
                               "period_start": [p.start for p in periods],
                               "period_end": pd.to_datetime([p.end for p in periods])})
    cells = _all_cells(ctx, defn, ptable, periods_df)
    if cells.empty:
        return cells
    if isinstance(defn.denominator, Population):  # periods before population data: none
        national = cells[(cells.area_type == rollup.NATIONAL) & (cells.breakdown == "all")]
        covered = set(national[national.den > 0].period)
        cells = cells[cells.period.isin(covered)].reset_index(drop=True)
        if cells.empty:
            return _nothing("no period has a registered population to divide by")
    years = rollup.lookup(cells.period, {p.label: p.years for p in periods})
    cells = rollup.apply_statistic(defn, cells, years)
    if defn.statistic in ("isr", "isratio"):
        cells["den"] = cells.expected
    cells = rollup.value_states(defn, cells)
    parent_map = cells[["period", "area_type", "area_code", "parent_code"]].drop_duplicates(
        subset=["period", "area_type", "area_code"])
    cells = rollup.compare(defn, cells.drop(columns=["parent_code"]), parent_map)
    cells["quantile"] = rollup.quintiles(cells)
    cells["period_start"] = rollup.lookup(cells.period, {p.label: p.start for p in periods})
    cells["period_end"] = rollup.lookup(cells.period, {p.label: p.end for p in periods})
    cells["trend"] = rollup.recent_trends(defn, cells)
    return cells


def _provenance(ctx: Context, defn: Definition) -> str:
    return load_ids(ctx.loads, defn, ctx.settings)


def _constants(ctx: Context, defn: Definition) -> dict[str, object]:
    """The columns that are the same on every row of one indicator's values."""
    return {"indicator_id": defn.id, "indicator_version": defn.version,
            "definition_hash": defn.content_hash(), "statistic": defn.statistic,
            "load_ids": _provenance(ctx, defn), "carepath_version": __version__,
            "computed_at": ctx.computed_at}


def to_rows(ctx: Context, defn: Definition, cells: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``indicator_values`` that vary by row (see ``_constants``)."""
    out = pd.DataFrame({
        "area_code": cells["area_code"], "area_name": rollup.lookup(cells["area_code"], ctx.names),
        "area_type": cells["area_type"], "parent_code": cells["parent_code"],
        "period": cells["period"], "period_start": cells["period_start"],
        "period_end": cells["period_end"], "breakdown": cells["breakdown"],
        "category": cells["category"], "numerator": cells["num"], "denominator": cells["den"],
        "value": cells["value"], "lower95": cells["lower95"], "upper95": cells["upper95"],
        "lower998": cells["lower998"], "upper998": cells["upper998"],
        "method": cells["method"],
        "compared_to_parent": cells["compared_to_parent"],
        "compared_to_national": cells["compared_to_national"],
        "quantile": cells["quantile"], "trend": cells["trend"],
        "value_state": cells["value_state"], "value_note": cells["value_note"],
    })
    if defn.statistic == "count":
        out["denominator"] = np.nan
    return out


# ----- many indicators, one transaction -------------------------------------------------
def duckdb_source(con: duckdb.DuckDBPyConnection,
                  copies: dict[str, frozenset[str]] | None = None) -> cp.Source:
    """Tables of the workspace; ``copies`` maps an event table to the columns of its
    current derived copy with the person's columns (``carepath.workspace.derived``)."""
    backend = ibis.duckdb.from_connection(con)
    copies = copies or {}

    def copy(name: str, columns: set[str]):
        if columns <= copies.get(name, frozenset()):
            return backend.table(derived.derived_name(name))
        return None  # no copy, or one without a column this scan reads: join

    return cp.Source(table=backend.table, with_person=copy)


def _person_copies(ws: Workspace, definitions: list[Definition], force: bool
                   ) -> dict[str, frozenset[str]]:
    """Build any missing or stale person-column copy that the definitions to be computed
    need (not those unchanged since their last compute), committed on its own before the
    compute so every worker's cursor sees it. A cache: if the compute then fails, the
    copies are still true to the loads they name."""
    settings = settings_fingerprint(ws.config())
    with ws.transaction() as con:
        loads = data_loads(con)
        needs: dict[str, set[str]] = {}
        for defn in definitions:
            if not force and unchanged(con, defn, load_ids(loads, defn, settings)):
                continue
            for group, _ in _scans(defn):
                for table, columns in cp.person_columns_needed(defn, group).items():
                    needs.setdefault(table, set()).update(columns)
        return derived.refresh(con, needs) if needs else {}


ENGINES = ("duckdb", "spark")


def compute(ws: Workspace, definitions: list[Definition], *, force: bool = False,
            actor: str = "cli", progress=None, engine: str = "duckdb") -> list[Outcome]:
    """Compute ``definitions`` into the workspace, all or nothing for the values written;
    an indicator that fails is reported and the rest are computed. ``engine`` runs the
    queries on DuckDB (default) or Spark; results are written to the workspace either way."""
    if engine not in ENGINES:
        raise CarepathError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}",
                            where="--engine")
    if engine == "spark":
        from carepath.engine.spark import spark_source

        tables = set().union(*(d.tables() for d in definitions), {"patients"})
        with spark_source(ws, tables) as source:
            return _compute_with(ws, definitions, source, force, actor, progress)
    return _compute_with(ws, definitions, None, force, actor, progress)


# Indicators computed side by side on DuckDB: queries release the GIL, so one indicator's
# roll-up overlaps another's scan. One worker more than the cores, each giving DuckDB its
# share of them: a worker waiting for the GIL or a disk read leaves a core to the others.
# Measured on England, 2 cores: 3 workers 61 s, 2 workers 64-68 s, 2 workers with two
# DuckDB threads each 71-73 s. Capped, as every worker holds its own scans in memory.
MAX_COMPUTE_THREADS = 4
COMPUTE_THREADS = max(1, min(MAX_COMPUTE_THREADS, (os.cpu_count() or 1) + 1))


def _compute_with(ws, definitions, source, force, actor, progress) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress:
            progress(outcome)

    copies = _person_copies(ws, definitions, force) if source is None else {}
    with ws.transaction() as con:
        ctx = _context(con, source or duckdb_source(con, copies), ws.config())
        ctx.copies = copies
        todo = []
        for defn in definitions:
            if not force and unchanged(con, defn, _provenance(ctx, defn)):
                report(Outcome(defn.id, "unchanged"))
            else:
                todo.append(defn)
        threads = COMPUTE_THREADS if source is None and len(todo) > 1 else 1
        if threads > 1:  # the database's setting: reset below for other connections
            con.execute("SET threads = ?", [_duckdb_threads_per_worker(threads)])
        try:
            for defn, cells, error, seconds in _cells_for(con, ctx, todo, threads,
                                                          on_duckdb=source is None):
                report(_write(con, ctx, defn, cells, error, seconds))
        finally:
            ctx.mem.close()
            if threads > 1:
                _reset_threads(con)
        done = [o.indicator_id for o in outcomes if o.status == "computed"]
        if done:
            ws.audit(con, actor=actor, action="compute", target=",".join(done),
                     detail=f"{sum(o.rows for o in outcomes)} values")
    order = {d.id: i for i, d in enumerate(definitions)}
    return sorted(outcomes, key=lambda o: order[o.indicator_id])


def _reset_threads(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("RESET threads")
    except duckdb.Error:  # an aborted transaction refuses even this; the rollback follows
        pass


def _duckdb_threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def _timed(ctx: Context, defn: Definition):
    started = time.perf_counter()
    try:
        return defn, compute_one(ctx, defn), None, time.perf_counter() - started
    except ibis.common.exceptions.TableNotFound as exc:  # not an IbisError
        return defn, None, (f"table {str(exc).strip()!r} is not in the workspace "
                            f"(needed by {defn.id})"), time.perf_counter() - started
    except (CarepathError, duckdb.Error, ibis.common.exceptions.IbisError) as exc:
        first_line = str(exc).splitlines()[0]
        # DuckDB's messages can quote a cell of the data; Carepath's and Ibis's quote the
        # definition, which the reader needs to see.
        message = without_values(first_line) if isinstance(exc, duckdb.Error) else first_line
        return defn, None, missing_column(ctx.source.table, defn, exc) or message, \
            time.perf_counter() - started


def _cells_for(con, ctx: Context, todo: list[Definition], threads: int, on_duckdb: bool):
    """(definition, cells, error, seconds) for each definition, in order. With threads,
    each worker reads through its own cursor (the data tables are not being written)."""
    if threads <= 1:
        # Through a cursor too on DuckDB: a query that fails inside the writing connection's
        # transaction aborts it, and the failure could then not be recorded or reported.
        cursor = con.cursor() if on_duckdb else None
        try:
            one = ctx if cursor is None else dataclasses.replace(
                ctx, source=duckdb_source(cursor, ctx.copies))
            yield from (_timed(one, d) for d in todo)
        finally:
            if cursor is not None:
                cursor.close()
        return
    local = threading.local()
    opened: list[duckdb.DuckDBPyConnection] = []

    def work(defn: Definition):
        if not hasattr(local, "ctx"):
            cursor = con.cursor()
            mem = duckdb.connect(config={"threads": _duckdb_threads_per_worker(threads)})
            opened.extend((cursor, mem))
            local.ctx = dataclasses.replace(ctx, source=duckdb_source(cursor, ctx.copies),
                                            mem=mem)
        return _timed(local.ctx, defn)

    try:
        with ThreadPoolExecutor(threads) as pool:
            yield from pool.map(work, todo)
    finally:
        for connection in opened:
            connection.close()


def _write(con, ctx: Context, defn: Definition, cells, error, seconds) -> Outcome:
    record_outcome(con, defn.id, error)
    if error is not None:
        kept = con.execute("SELECT count(*) FROM indicator_values WHERE indicator_id = ?",
                           [defn.id]).fetchall()[0][0]
        note = (f"; its {kept:,} earlier values are kept as they were, out of date: "
                "`export --public` refuses them") if kept else ""
        return Outcome(defn.id, "failed", message=error + note, seconds=seconds)
    if cells.empty:
        # Values of the old inputs would be shown and exported as if current.
        removed = con.execute("DELETE FROM indicator_values WHERE indicator_id = ?",
                              [defn.id]).fetchall()[0][0]
        why = cells.attrs.get("why") or ("nothing to count in any period from "
                                         f"{', '.join(sorted(defn.tables()))}")
        note = f"; its {removed:,} earlier values removed" if removed else ""
        return Outcome(defn.id, "no_data", message=f"{why}{note}", seconds=seconds)
    rows = to_rows(ctx, defn, cells)
    constants = _constants(ctx, defn)
    con.execute("DELETE FROM indicator_values WHERE indicator_id = ?", [defn.id])
    # Arrow: DuckDB scans it in parallel; a pandas frame's text columns go value by value.
    # The columns the same on every row go in as parameters: converting seven repeated
    # text columns of millions of rows cost about a fifth of the write.
    columns = INDICATOR_VALUES.column_names
    select = ", ".join("?" if c in constants else f'"{c}"' for c in columns)
    con.register("_new_values", pa.Table.from_pandas(rows, preserve_index=False))
    con.execute(f"INSERT INTO indicator_values ({', '.join(columns)}) SELECT {select} "
                "FROM _new_values", [constants[c] for c in columns if c in constants])
    con.unregister("_new_values")
    return Outcome(defn.id, "computed", len(rows), seconds)


__all__ = ["Count", "Outcome", "compute", "compute_one"]
