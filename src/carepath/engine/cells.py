"""One indicator's cells: its periods, the unit-level counts of its parts (scans shared
within a compute), rolled up into every area and breakdown, with their statistics and
comparisons. ``carepath.engine.run`` computes many indicators with these and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from carepath.engine import comparisons, coverage, moves, rollup, states
from carepath.engine import compile as cp
from carepath.engine.context import Context, once
from carepath.indicators.definition import STANDARDISED_STATISTICS as STANDARDISED
from carepath.indicators.definition import Count, Definition, Population
from carepath.model.codes import AGE_BANDS
from carepath.workspace.derived import PERSON_TABLE

# Breakdowns (sex, age band, deprivation ...) are not computed for single practices: the
# counts are too small to read and too easy to disclose (Fingertips does the same).
NO_BREAKDOWNS_FOR = ("practice",)


def _part(ctx: Context, defn: Definition, part, ptable, group: tuple[str, ...],
          periods_key: tuple):
    """One part's unit-level counts. Parts that several indicators share (the registered
    population, the same referrals by age and sex ...) are scanned once per compute, and
    so are the rows of one table counted for several values (see values_counted)."""
    if part is None:
        return None
    if isinstance(part, Population):
        key = (part.model_dump_json(), defn.attribution_col, defn.mode, group, periods_key)
        return once(ctx, key, lambda: _scan(ctx, defn, part, ptable, group))
    rows_key = _rows_key(defn, part, group)
    values = ctx.values.get(rows_key, (part.value,))
    if part.value not in values:  # not foreseen (a definition outside the compute's list)
        values = (part.value,)
    counted = once(ctx, (rows_key, periods_key, values),
                    lambda: _scan(ctx, defn, part, ptable, group, values))
    return _one_value(counted, values.index(part.value), group)


def _rows_key(defn: Definition, count: Count, group: tuple[str, ...]) -> tuple:
    """What decides the rows a part counts: all of it but the value counted over them
    (a 'per:' value, counted per person, has a scan of its own)."""
    shared = count.value if count.value.startswith(f"{cp.PER}:") else "rows"
    return (count.model_copy(update={"value": shared}).model_dump_json(),
            defn.attribution_col, defn.mode, group)


def values_counted(definitions: list[Definition]) -> dict[tuple, tuple[str, ...]]:
    """For each set of rows counted by these definitions, every value counted over them
    (admissions counted and their bed days summed; people screened and eligible)."""
    found: dict[tuple, set[str]] = {}
    for defn in definitions:
        defn, _ = without_suppressed(defn)  # the parts as computed
        if cp.pairable(defn):
            continue
        for group, _ in scans_of(defn):
            for part in (defn.numerator, defn.denominator):
                if isinstance(part, Count):
                    found.setdefault(_rows_key(defn, part, group), set()).add(part.value)
    return {key: tuple(sorted(values)) for key, values in found.items()}


def _one_value(counted: pa.Table, index: int, group: tuple[str, ...]) -> pa.Table:
    """The ``index``-th value's metrics of a shared scan, by their plain names."""
    mine = {f"{m}{cp.VALUE_SUFFIX}{index}": m for m in cp.METRICS}
    keep = ["period", "unit", *group, *(c for c in counted.column_names if c in mine)]
    return counted.select(keep).rename_columns([mine.get(c, c) for c in keep])


def _scan(ctx: Context, defn: Definition, part, ptable, group: tuple[str, ...],
          values: tuple[str, ...] = ()) -> pa.Table:
    if isinstance(part, Population):
        at_end = defn.mode in cp.STATE_MODES
        expr = cp.aggregate_population(ctx.source, part, ptable, group, at_end=at_end,
                                       scale=None if at_end else _cached_hole_scale(ctx, ptable))
    else:
        expr = cp.aggregate_values(ctx.source, defn, part, ptable, group, values)
    # Arrow, not pandas: the unit-level counts go back into DuckDB for the roll-up,
    # which scans Arrow in parallel without the GIL (pandas text columns need both).
    return expr.to_pyarrow()


def _cached_hole_scale(ctx: Context, ptable) -> ir.Table:
    """The population's scale for quarters missing between a practice's lists, once per
    compute and set of periods (it scanned every list again for each population and
    breakdown: about 2 s of England's compute)."""
    key = ("hole scale", tuple(p.label for p in ptable.periods))
    found = once(ctx, key, lambda: cp.hole_scale(ctx.source, ptable).to_pyarrow())
    return ibis.memtable(found)


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

    return once(ctx, key, build)


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


def scans_of(defn: Definition) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
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


def _all_cells(ctx, defn, ptable, periods_df, withheld: Count | None = None
               ) -> pd.DataFrame:
    """The cells of every area and breakdown. Practices whose counts are in no total (no
    lists for a population rate; every row suppressed by the publisher) have cells of
    their own only: in the areas above them they would add events over no people, or
    make an area look larger than the practices its figure holds (a hunt found areas
    compared with parents giving their own figure)."""
    frames, areas, unlisted, suppressed = [], None, None, None
    periods_key = tuple(periods_df.period)
    for group, breakdowns in scans_of(defn):
        merged = rollup.attributed(_unit_counts(ctx, defn, ptable, group, periods_key))
        aside = []
        if withheld is not None:  # (no breakdowns: one scan)
            suppressed = _suppressed_units(ctx, defn, merged, withheld, ptable, periods_key)
            # Their own cell only (a row of theirs with no count would make a second one).
            merged = rollup.sql(ctx.mem, "SELECT * FROM m ANTI JOIN u USING (period, unit)",
                                arrow=True, m=merged, u=suppressed)
            aside.append(rollup.sql(ctx.mem, "SELECT period, unit, CAST(NULL AS DOUBLE) AS "
                                             "num, CAST(NULL AS DOUBLE) AS den FROM u",
                                    arrow=True, u=suppressed))
        if isinstance(defn.denominator, Population):
            merged, orphans = _split_unlisted(ctx, merged)
            if orphans.num_rows:
                unlisted = orphans
                aside.append(orphans)
        if merged.num_rows:
            if areas is None:
                areas = _areas(ctx, defn, merged, periods_df)
            frames += [_breakdown_cells(ctx, defn, merged, areas, b) for b in breakdowns]
        if "all" in breakdowns:
            frames += [_breakdown_cells(ctx, defn, rows, _own_level(ctx, rows), "all")
                       for rows in aside if rows.num_rows]
    if not frames:
        return pd.DataFrame()
    cells = pd.concat(frames, ignore_index=True)
    parents = areas.parents if areas is not None else pd.DataFrame(
        columns=["period", "area_type", "area_code", "parent_code"])
    cells = cells.merge(parents, on=["period", "area_type", "area_code"], how="left")
    if suppressed is not None:
        cells = _count_suppressed(ctx, defn, cells, suppressed, periods_df)
    if unlisted is not None:
        cells.attrs["unlisted"] = _unlisted_note(ctx, unlisted)
    return cells


def _suppressed_units(ctx, defn, merged: pa.Table, withheld: Count, ptable, periods_key
                      ) -> pa.Table:
    """(period, unit) of each practice whose every row in a period the publisher
    suppressed: it has a value, suppressed, with no count (unknown, not zero)."""
    rows = _part(ctx, defn, withheld, ptable, (), periods_key)
    return rollup.sql(ctx.mem, "SELECT DISTINCT w.period, w.unit FROM w ANTI JOIN (SELECT "
                               "period, unit FROM m WHERE den > 0) k USING (period, unit) "
                               "WHERE w.n > 0 AND w.unit IS NOT NULL", arrow=True, w=rows,
                      m=merged)


def _count_suppressed(ctx, defn, cells: pd.DataFrame, units: pa.Table,
                      periods_df: pd.DataFrame) -> pd.DataFrame:
    """Each cell with how many of its practices the publisher suppressed in the period; an
    area holding only such practices gets a cell too (it read 'no data': a hunt)."""
    keys = ["period", "area_type", "area_code"]
    where = units.to_pandas().merge(periods_df, on="period")
    amap = rollup.area_map(where, ctx.hierarchy, defn.attribution, ctx.groups)
    counts = amap.groupby(keys).unit.nunique().rename("withheld_units").reset_index()
    cells = cells.merge(counts, on=keys, how="left")
    seen = cells.loc[cells.breakdown == "all", keys].drop_duplicates()
    only = counts.merge(seen, on=keys, how="left", indicator=True)
    only = only[only._merge == "left_only"].drop(columns="_merge")
    if len(only):
        cells = pd.concat([cells, only.assign(breakdown="all", category="all", num=np.nan,
                                              den=np.nan)], ignore_index=True)
    cells["withheld_units"] = cells["withheld_units"].fillna(0)
    return cells


def _with_moves(ctx, defn, cells: pd.DataFrame, candidates) -> pd.DataFrame:
    """The cells marked where a practice moved in or out since the period before (once
    per compute for a set of periods); practice-attributed indicators only."""
    if defn.attribution != "practice":
        return cells
    found = once(ctx, ("moves", tuple(p.label for p in candidates)),
                 lambda: moves.moves(ctx.hierarchy, candidates))
    return moves.mark_moves(cells, found)


def _split_unlisted(ctx, merged: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(rows of practices with a registered population in the period, rows of practices
    with none). A practice's events over no list inflate every rate above it: a practice
    whose lists were not loaded doubled its PCN's rate (an engine hunt). Its events count
    in no area; its own value is missing. Rows with no practice still count in national
    (their people are in the lists; only their practice is not known)."""
    # Periods with no lists at all are left out later (no population to divide by).
    with_lists = ("(SELECT period, unit FROM m GROUP BY ALL HAVING count(den) > 0 UNION "
                  "SELECT period, unit FROM m WHERE period NOT IN (SELECT period FROM m "
                  "WHERE den > 0))")
    nobody = f"'{rollup.UNATTRIBUTED}'"
    listed = (f"SELECT m.* FROM m SEMI JOIN {with_lists} k USING (period, unit) WHERE "
              f"unit <> {nobody} UNION ALL SELECT * FROM m WHERE unit = {nobody}")
    unlisted = (f"SELECT m.* FROM m ANTI JOIN {with_lists} k USING (period, unit) "
                f"WHERE unit <> {nobody}")
    return (rollup.sql(ctx.mem, listed, arrow=True, m=merged),
            rollup.sql(ctx.mem, unlisted, arrow=True, m=merged))


def _own_level(ctx, rows: pa.Table) -> Areas:
    """The practices of ``rows`` as areas of their own, in no area above them."""
    own = rollup.sql(ctx.mem, "SELECT DISTINCT period, unit, 'practice' AS area_type, unit "
                              "AS area_code FROM r", arrow=True, r=rows)
    return Areas(own, own, pd.DataFrame())


def _unlisted_note(ctx, orphans: pa.Table) -> str:
    row = rollup.sql(ctx.mem, "SELECT sum(num) AS n, count(DISTINCT unit) AS units, "
                              "string_agg(DISTINCT period, ', ' ORDER BY period) AS periods "
                              "FROM m", m=orphans).iloc[0]
    practices = "practice" if row.units == 1 else "practices"
    return (f"{row.n:,.0f} counted at {row.units:,} {practices} with no registered "
            f"population ({row.periods}) are left out of every area above them (their own "
            "values are missing): load their lists")


def _nothing(why: str) -> pd.DataFrame:
    """No values, and why (shown with the 'no_data' outcome)."""
    empty = pd.DataFrame()
    empty.attrs["why"] = why
    return empty


REQUIRED_ROLE = ("its {part} requires a matching row in it (with none loaded, no row would "
                 "match: a false 0)")
EXCLUDED_ROLE = ("its {part} leaves out rows with a matching row in it (with none loaded, "
                 "none would be left out: a false count)")
STANDARDISED_ROLE = ("its rates are standardised by the age and sex it lends (without them "
                     "every stratum would read as unknown)")


def _tables_read(defn: Definition) -> list[tuple[str, str]]:
    """(table, what the indicator does with it) for every table its counts read, in
    order. Not ``patients``, which only lends columns (without it they read 'Not
    recorded'), unless the statistic is standardised by the age and sex it lends."""
    out = []
    for name, part in (("numerator", defn.numerator), ("denominator", defn.denominator)):
        if isinstance(part, Population):
            out.append(("registered_population", f"its {name} is the registered population"))
            continue
        if part is None:
            continue
        out.append((part.table, f"its {name} counts rows of it"))
        out += [(r.table, REQUIRED_ROLE.format(part=name)) for r in part.require]
        out += [(r.table, EXCLUDED_ROLE.format(part=name)) for r in part.exclude]
        if part.dated_by is not None:
            out.append((part.dated_by.table, f"its {name} takes its dates from it"))
    if defn.statistic in STANDARDISED and PERSON_TABLE in defn.tables():
        out.append((PERSON_TABLE, STANDARDISED_ROLE))
    return out


def _empty_table_reason(ctx: Context, defn: Definition) -> str | None:
    """Why nothing is computed when a table the counts read has no rows: a require or
    exclude on an empty table would read as 'none happened', and publish 0% or 100% as
    if measured (found by a user test)."""
    for table, role in _tables_read(defn):
        if table in ctx.empty_tables:
            return f"{table} has no rows, and {role}: load {table} first"
    return None


def without_suppressed(defn: Definition) -> tuple[Definition, Count | None]:
    """The definition as computed: rows the publisher suppressed (``suppressed_at_source``)
    left out of both parts, and a count of those rows, by which a practice with no other
    rows is suppressed rather than missing (a row of theirs vanished, and its practice's
    areas left it out without a word: an audit). An empty mark is no suppression: a
    blank flag with counts beside it dropped every row (a hunt)."""
    marked = defn.suppressed_at_source
    if marked is None:
        return defn, None
    kept = f"(({marked}) is null or not ({marked}))"

    def without(part):
        if not isinstance(part, Count):
            return part
        return part.model_copy(update={"where": f"({part.where}) and {kept}" if part.where
                                       else kept})

    # The rows flagged, counted over the data set's rows (the flag summed), so that a
    # snapshot is the data set's latest date, not the latest date a row was flagged (a
    # practice flagged in September and absent in December read as suppressed: a review).
    base = defn.denominator if isinstance(defn.denominator, Count) else defn.numerator
    withheld = base.model_copy(update={"value": f"sum:{marked}"})
    return defn.model_copy(update={"numerator": without(defn.numerator),
                                   "denominator": without(defn.denominator)}), withheld


def compute_one(ctx: Context, defn: Definition) -> pd.DataFrame:
    written = defn  # as its author wrote it: what a message quotes
    defn, withheld = without_suppressed(defn)
    empty = _empty_table_reason(ctx, defn)
    if empty:
        return _nothing(empty)
    candidates = coverage.periods(ctx, defn)
    periods, gaps = coverage.without_gaps(ctx, defn, candidates)
    if not periods:
        return _nothing(coverage.gap_note(defn, gaps) if gaps else
                        coverage.no_periods_reason(ctx, written))
    ptable = cp.periods_table(periods)
    periods_df = pd.DataFrame({"period": [p.label for p in periods],
                               "period_start": pd.to_datetime([p.start for p in periods]),
                               "period_end": pd.to_datetime([p.end for p in periods])})
    cells = _all_cells(ctx, defn, ptable, periods_df, withheld)
    if cells.empty:
        return cells
    notes = {k: v for k, v in cells.attrs.items() if k == "unlisted"}
    if isinstance(defn.denominator, Population):  # periods before population data: none
        national = cells[(cells.area_type == rollup.NATIONAL) & (cells.breakdown == "all")]
        covered = set(national[national.den > 0].period)
        short = coverage.part_listed(ctx, defn, [p for p in periods if p.label in covered])
        cells = cells[cells.period.isin(covered - {p.label for p in short})
                      ].reset_index(drop=True)
        if short:
            notes["lists"] = coverage.part_listed_note(short)
        if defn.mode == "in_period":
            notes["holes"] = coverage.list_holes_note(
                ctx, [p for p in periods if p.label in set(cells.period)])
        if cells.empty:
            return _nothing(notes.get("lists") or
                            "no period has a registered population to divide by")
    years = rollup.lookup(cells.period, {p.label: p.years for p in periods})
    cells = rollup.apply_statistic(defn, cells, years)
    if defn.statistic in ("isr", "isratio"):
        cells["den"] = cells.expected
    cells = states.value_states(defn, cells)
    parent_map = cells[["period", "area_type", "area_code", "parent_code"]].drop_duplicates(
        subset=["period", "area_type", "area_code"])
    cells = comparisons.compare(defn, cells.drop(columns=["parent_code"]), parent_map)
    cells["quantile"] = comparisons.quintiles(cells)
    cells["period_start"] = rollup.lookup(cells.period, {p.label: p.start for p in periods})
    cells["period_end"] = rollup.lookup(cells.period, {p.label: p.end for p in periods})
    # A trend's periods must follow one another: a gap period has no rows to bridge; and
    # hold the same practices (none moved in or out from another area of the level).
    marked = _with_moves(ctx, defn, cells, candidates)
    cells["trend"] = rollup.recent_trends(defn, marked,
                                          {p.label: i for i, p in enumerate(candidates)})
    cells.attrs.update(notes)  # set again: not every frame operation keeps them
    if gaps:
        cells.attrs["gaps"] = coverage.gap_note(defn, gaps)
    thin = coverage.empty_months(ctx, defn, periods)
    if thin:
        cells.attrs["thin"] = thin
    return cells
