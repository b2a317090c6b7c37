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
from dataclasses import dataclass

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from carepath import __version__
from carepath.engine import compile as cp
from carepath.engine import rollup, states
from carepath.engine.cells import compute_one, scans_of, values_counted
from carepath.engine.context import Context, context
from carepath.engine.freshness import (
    load_ids,
    missing_column,
    record_outcome,
    settings_fingerprint,
    unchanged,
    without_values,
)
from carepath.engine.versions import same_version_counting
from carepath.errors import CarepathError
from carepath.indicators.definition import Count, Definition
from carepath.model.schema import INDICATOR_VALUES
from carepath.workspace import Workspace, derived
from carepath.workspace.loads import data_loads


@dataclass
class Outcome:
    indicator_id: str
    status: str  # computed | unchanged | no_data | failed
    rows: int = 0
    seconds: float = 0.0
    message: str = ""


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
        "area_code": cells["area_code"],
        "area_name": rollup.named_at(cells["area_code"], cells["period_end"], ctx.names,
                                     ctx.dated_names),
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
            for group, _ in scans_of(defn):
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
        ctx = context(con, source or duckdb_source(con, copies), ws.config())
        ctx.copies = copies
        todo = []
        for defn in definitions:
            if not force and unchanged(con, defn, _provenance(ctx, defn)):
                report(Outcome(defn.id, "unchanged"))
            else:
                todo.append(defn)
        ctx.values = values_counted(todo)
        threads = COMPUTE_THREADS if source is None and len(todo) > 1 else 1
        if threads > 1:  # the database's setting: reset below for other connections
            con.execute("SET threads = ?", [_duckdb_threads_per_worker(threads)])
        try:
            for defn, cells, error, seconds in _cells_for(con, ctx, todo, threads,
                                                          on_duckdb=source is None):
                _stop_if_interrupted(source)
                report(_write(con, ctx, defn, cells, error, seconds))
            _stop_if_interrupted(source)  # before the commit, whatever was running
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


def _stop_if_interrupted(source) -> None:
    """Ctrl+C pressed while no Spark job ran (a roll-up, a write) only set a flag, and the
    compute committed and exited 0 (a review): it stops here, rolled back."""
    if source is not None and source.interrupted is not None and source.interrupted():
        raise KeyboardInterrupt


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
    earlier = _earlier_figures(con, defn, constants)
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
    counting, as_last_time = same_version_counting(con, defn, ctx.computed_at)
    # Figures compared with the last compute's only when it counted the same way: going
    # back to the version's first counting is not a change to warn of.
    figures = _same_version_note(con, defn, earlier) if as_last_time else ""
    note = "; ".join(filter(None, [counting or figures,
                                   _exceeds_note(cells), _unattributed_note(defn, cells),
                                   _no_people_note(ctx, defn),
                                   *(f"warning: {cells.attrs[k]}" for k in WARNINGS
                                     if cells.attrs.get(k))]))
    return Outcome(defn.id, "computed", len(rows), seconds, message=note)


# What the cells say of the data under them (see cells.cells), in the order said.
WARNINGS = ("gaps", "thin", "lists", "holes", "unlisted")


def _exceeds_note(cells: pd.DataFrame) -> str:
    """A proportion whose numerator counts rows its denominator does not (a filter that is
    not narrower) said so only in each cell's note (found by a user test)."""
    over = int((cells["value_note"] == states.NUMERATOR_EXCEEDS).sum()) \
        if "value_note" in cells else 0
    return (f"warning: {over:,} values missing as their numerator exceeds their denominator: "
            "is the numerator's filter narrower than the denominator's?") if over else ""


def _unattributed_note(defn: Definition, cells: pd.DataFrame) -> str:
    """Rows with no practice (or provider) count in national only: said, for the latest
    period, rather than left to be found (a provider indicator over an empty
    diagnosing_trust had national values only; found by a user test)."""
    unit = "practice" if defn.attribution == "practice" else "provider"
    whole = cells[cells["breakdown"] == "all"]
    latest = whole[whole["period_end"] == whole["period_end"].max()]
    # The denominator's rows when they are counted (all of them), else the numerator's.
    counted = "den" if isinstance(defn.denominator, Count) else "num"
    national = latest.loc[latest["area_type"] == rollup.NATIONAL, counted].sum()
    units = latest.loc[latest["area_type"] == unit, counted].sum()
    if not national > units:
        return ""
    period = latest["period"].iloc[0]
    return (f"warning: {national - units:,.0f} of the {national:,.0f} counted in {period} have "
            f"no {defn.attribution_col} and count in national only")


def _no_people_note(ctx: Context, defn: Definition) -> str:
    if derived.PERSON_TABLE in ctx.empty_tables and derived.PERSON_TABLE in defn.tables():
        return (f"warning: {derived.PERSON_TABLE} has no rows, so what it lends (sex, age, "
                "deprivation, ethnic group) reads 'Not recorded'")
    return ""


# A checksum of one indicator's figures.
FIGURES_SQL = ("SELECT sum(hash(area_type, area_code, period, breakdown, category, numerator, "
               "denominator, value, value_state)) FROM indicator_values WHERE indicator_id = ?")


def _earlier_figures(con: duckdb.DuckDBPyConnection, defn: Definition,
                     constants: dict) -> object | None:
    """The checksum of the values about to be replaced, when they are of the same version
    and the same loads but another definition; None otherwise (most computes: no cost)."""
    row = con.execute("SELECT indicator_version, definition_hash, load_ids FROM "
                      "indicator_values WHERE indicator_id = ? LIMIT 1", [defn.id]).fetchall()
    if not row:
        return None
    version, definition, loads = row[0]
    if version != defn.version or loads != constants["load_ids"] \
            or definition == constants["definition_hash"]:
        return None
    return con.execute(FIGURES_SQL, [defn.id]).fetchall()[0][0]


def _same_version_note(con: duckdb.DuckDBPyConnection, defn: Definition,
                       earlier: object | None) -> str:
    """A warning when a changed definition gave other figures from the same data under
    the same version: two sets of figures would go by one version (found by a user test).
    Not for a change of words (a title, a review date), which leaves the figures alone."""
    if earlier is None or con.execute(FIGURES_SQL, [defn.id]).fetchall()[0][0] == earlier:
        return ""
    return (f"warning: the definition changed its figures but its version is still "
            f"{defn.version!r}; raise it, so that one version means one set of figures")


__all__ = ["Count", "Outcome", "compute", "compute_one"]
