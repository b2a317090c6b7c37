"""From unit-level counts to values for every area: roll up the hierarchy, apply the
statistic, mark recent trends (comparisons and quintiles: ``comparisons.py``).

Works on small pandas frames (units x periods x categories), the same whichever backend
produced the counts.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from carepath import stats
from carepath.indicators.definition import CONF_95, CONF_998, Definition, Population
from carepath.model.codes import AGE_BANDS
from carepath.stats.intervals import METHOD_PER_PERSON
from carepath.stats.trend import TREND_POINTS

NATIONAL = "national"
GROUP = "group"  # a user-defined group of practices ([groups] in carepath.toml)
# The parent each area is compared with: the first of these levels (then national) that
# holds more units than the area (see parents).
PARENT_LEVELS = {
    "practice": ("locality", "pcn", "sub_icb", "icb", "cancer_alliance", "region"),
    "pcn": ("locality", "sub_icb", "icb", "cancer_alliance", "region"),
    "locality": ("sub_icb", "icb", "cancer_alliance", "region"),
    "sub_icb": ("icb", "cancer_alliance", "region"),  # a CCG-era map has no ICBs
    "icb": ("cancer_alliance", "region"),
    "cancer_alliance": ("region",),
    "region": (),
    "provider": (),
    GROUP: (),
}
# The cells' column saying a practice moved into or out of the area since the period
# before (``carepath.engine.moves``): no recent trend runs across it.
MOVED = "moved_in_or_out"
ROLLUP_LEVELS = ("pcn", "locality", "sub_icb", "icb", "cancer_alliance", "region")
CELL = ["period", "area_type", "area_code", "breakdown", "category"]


def lookup(keys: pd.Series, mapping: dict) -> pd.Series:
    """``keys.map(mapping)`` (missing keys give NaN), looking up each distinct key once:
    ``map`` on Arrow-backed text goes value by value in Python."""
    codes, distinct = pd.factorize(keys)  # Arrow-backed text: encoded without Python
    found = [mapping.get(k, np.nan) for k in distinct.to_numpy(dtype=object)]  # C, not Arrow
    values = np.asarray(found + [np.nan], dtype=object)
    return pd.Series(values[codes], index=keys.index).infer_objects()  # -1 (NaN) -> NaN


def named_at(codes: pd.Series, period_ends: pd.Series, names: dict,
             dated: pd.DataFrame | None) -> pd.Series:
    """Each area's name (``names``: its latest), or for an area named differently by maps
    of different dates (``dated``: area_code, valid_from, name, oldest first) the name of
    the latest map dated by its period's end (the first map's before any)."""
    out = lookup(codes, names)
    if dated is None or dated.empty:
        return out
    several = codes.isin(dated["area_code"].unique()).to_numpy()
    if not several.any():
        return out
    asked = pd.DataFrame({"area_code": codes[several].astype(object).to_numpy(),
                          "at": pd.to_datetime(period_ends[several]).to_numpy()
                          .astype("datetime64[ns]"),
                          "_row": np.flatnonzero(several)})
    pairs = asked[["area_code", "at"]].drop_duplicates().sort_values("at")
    maps = dated.rename(columns={"valid_from": "at"}).astype(
        {"at": "datetime64[ns]", "area_code": pairs["area_code"].dtype})  # alike, to merge
    found = pd.merge_asof(pairs, maps.sort_values("at"), on="at", by="area_code",
                          direction="backward")
    first = dated.drop_duplicates("area_code").set_index("area_code")["name"]
    found["name"] = found["name"].fillna(found["area_code"].map(first))
    named = asked.merge(found, on=["area_code", "at"], how="left")
    values = out.to_numpy(dtype=object).copy()
    values[named["_row"].to_numpy()] = named["name"].to_numpy(dtype=object)
    return pd.Series(values, index=codes.index)


# The unit of rows with no practice or provider: counted in national, in no other area.
# Brackets cannot be in an ODS code, so it is never taken for one.
UNATTRIBUTED = "(no practice or provider)"


def attributed(merged: pa.Table) -> pa.Table:
    """Rows with no practice or provider to count for still count in the whole
    workspace's total: their unit becomes UNATTRIBUTED, which rolls up to national only
    (a null unit joined no area, and the rows were missing from national unseen)."""
    i = merged.schema.get_field_index("unit")
    if i < 0 or merged.column(i).null_count == 0:
        return merged
    return merged.set_column(i, "unit", pc.fill_null(merged.column(i), UNATTRIBUTED))


def area_map(units: pd.DataFrame, hierarchy: pd.DataFrame, attribution: str,
             groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """(period, unit) -> every area it counts in, using the hierarchy valid at period end.

    ``units`` has period, period_start, period_end, unit; ``hierarchy`` has child_code,
    parent_code, parent_type, valid_from, valid_to.
    """
    own_type = "practice" if attribution == "practice" else "provider"
    attributed = units[units.unit != UNATTRIBUTED]
    frames = [attributed.assign(area_type=own_type, area_code=attributed.unit),
              units.assign(area_type=NATIONAL, area_code=NATIONAL)]
    if attribution == "practice" and not hierarchy.empty:
        links = links_in_period(units, hierarchy)
        frames.append(links.assign(area_type=links.parent_type, area_code=links.parent_code))
    if attribution == "practice" and groups is not None and not groups.empty:
        members = units.merge(groups, on="unit")  # user-defined groups of practices
        frames.append(members.assign(area_type=GROUP))
    cols = ["period", "unit", "area_type", "area_code"]
    return pd.concat([f[cols] for f in frames], ignore_index=True).drop_duplicates()


def links_in_period(units: pd.DataFrame, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """Each unit's parents in each period: the links valid at the period's end, and for a
    level with none then (a practice that closed, or left the level, during the period)
    its last link within the period: a closing practice's events left its PCN, locality
    and ICB and counted in national only (an engine hunt)."""
    links = units.merge(hierarchy, left_on="unit", right_on="child_code")
    links = links[links.parent_type.isin(ROLLUP_LEVELS)]
    open_to = links.valid_to.isna()
    at_end = (links.valid_from <= links.period_end) & (open_to | (links.valid_to >=
                                                                  links.period_end))
    key = ["period", "unit", "parent_type"]
    kept = links[at_end]
    within = links[~at_end & (links.valid_from <= links.period_end) &
                   (open_to | (links.valid_to >= links.period_start))]
    within = within.merge(kept[key].drop_duplicates(), on=key, how="left", indicator=True)
    last = (within[within._merge == "left_only"].drop(columns="_merge")
            .sort_values("valid_to").drop_duplicates(key, keep="last"))
    return pd.concat([kept, last], ignore_index=True)


def sql(mem: duckdb.DuckDBPyConnection, query: str, *, arrow: bool = False,
        **frames: pd.DataFrame | pa.Table):
    """Run ``query`` over pandas frames or Arrow tables in an in-memory DuckDB
    (vectorised, multi-threaded group-bys; the workspace database is not touched). The
    result is pandas, or Arrow when it only goes back into another query."""
    for name, frame in frames.items():
        mem.register(name, frame)
    try:
        table = mem.sql(query).to_arrow_table()
        # Through Arrow: ten times faster than DuckDB's own pandas conversion of text
        # columns, and the same dtypes (pandas keeps the Arrow strings).
        return table if arrow else table.to_pandas(date_as_object=False)
    finally:
        for name in frames:
            mem.unregister(name)


def parents(mem: duckdb.DuckDBPyConnection, amap: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """(period, area_type, area_code) -> parent_code: the first of PARENT_LEVELS (then
    national) holding more units than the area in that period. A parent holding the same
    units is the same figure: a county's ICB, alliance and region were each compared with
    the next and always 'similar'. An area holding every practice of the workspace has no
    parent (its comparison is not made): national's rows with no practice make it no
    larger. A user-defined group is compared with national (a
    practice may be in several groups)."""
    rules = [(child, parent, rank) for child, candidates in PARENT_LEVELS.items()
             for rank, parent in enumerate((*candidates, NATIONAL))]
    values = ", ".join(f"('{c}', '{p}', {r})" for c, p, r in rules)
    # Each row carries its area's size before the self-join: joining the sizes to the
    # candidates afterwards let DuckDB pair every area with every other area of a period
    # (7 GB and 10 s on England).
    return sql(mem, f"""
        WITH sized AS (
          SELECT a.*, s.units FROM amap a JOIN (
            SELECT period, area_type, area_code, count(DISTINCT unit) FILTER (WHERE unit
                   <> '{UNATTRIBUTED}') AS units FROM amap
            GROUP BY ALL) s USING (period, area_type, area_code)),
        rules(child_type, parent_type, rank) AS (VALUES {values}),
        children AS (SELECT DISTINCT period, area_type, area_code FROM amap
                     WHERE area_type IN (SELECT child_type FROM rules)),
        larger AS (
          SELECT c.period, c.area_type, c.area_code, p.area_code AS parent_code, r.rank,
                 count(*) AS shared  -- the area map holds each (unit, area) once
          FROM sized c JOIN rules r ON r.child_type = c.area_type
          JOIN sized p ON p.period = c.period AND p.unit = c.unit
                      AND p.area_type = r.parent_type
          WHERE p.units > c.units GROUP BY ALL),
        -- Of a level's areas holding some of the area (a PCN spanning two localities),
        -- the one holding most of it, not the first by code (a hunt).
        nearest AS (
          SELECT period, area_type, area_code, parent_code FROM larger
          QUALIFY row_number() OVER (PARTITION BY period, area_type, area_code
                                     ORDER BY rank, shared DESC, parent_code) = 1)
        SELECT c.period, c.area_type, c.area_code, n.parent_code
        FROM children c LEFT JOIN nearest n USING (period, area_type, area_code)""",
        amap=amap)


# The unit-level counts that add up into areas: numerator and denominator, a mean's sums,
# and a sum's events and squares (its interval's, see stats.weighted_rate).
ROLLED_UP = ("num", "den", "total", "total_sq", "num_events", "num_sq")


def roll_up(mem: duckdb.DuckDBPyConnection, frame: pa.Table | pd.DataFrame,
            amap: pa.Table | pd.DataFrame, keys: list[str], *, arrow: bool = False
            ) -> pd.DataFrame | pa.Table:
    """Sum unit-level counts into every area the unit belongs to, by ``keys``."""
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    metrics = [c for c in ROLLED_UP if c in names]
    key_sql = "".join(f', u."{k}"' for k in keys)
    sums = ", ".join(f'sum(u."{m}") AS "{m}"' for m in metrics)
    return sql(mem, f"SELECT u.period, a.area_type, a.area_code{key_sql}, {sums} FROM u "
                    "JOIN a ON a.period = u.period AND a.unit = u.unit GROUP BY ALL",
               arrow=arrow, u=frame, a=amap)


def standardised_cells(mem: duckdb.DuckDBPyConnection, defn: Definition, rolled: pa.Table,
                       category: str | None) -> pd.DataFrame:
    """Cells of a standardised indicator from counts rolled up by sex and age band: by
    period, area and ``category`` (a breakdown column; None for all), the totals and the
    counts of each age band (``num_bands``, ``den_bands``), and for indirect
    standardisation the expected count and the reference rate from national's rates by
    sex and age band. In SQL: on England the same in pandas took seconds per indicator."""
    cat = f'"{category}"' if category else "'all'"
    bands = range(len(AGE_BANDS))
    per_band = ", ".join(
        f"coalesce(sum({m}) FILTER (WHERE age_band = {b}), 0) AS {m}{b}"
        for m in ("num", "den") for b in bands)
    query = f"""
        WITH r AS (SELECT period, area_type, area_code, {cat} AS category, sex, age_band,
                          num, den FROM rolled WHERE {cat} IS NOT NULL),
        cells AS (SELECT period, area_type, area_code, category, coalesce(sum(num), 0)
                         AS num, coalesce(sum(den), 0) AS den, {per_band}
                  FROM r GROUP BY ALL)"""
    indirect = defn.statistic in ("isr", "isratio")
    if indirect:
        query += f""",
        national AS (SELECT * FROM r WHERE area_type = '{NATIONAL}'),
        ref AS (SELECT period, category, sex, age_band, CASE WHEN sum(den) > 0 THEN
                       sum(num) / sum(den) ELSE 0 END AS rate
                FROM national WHERE sex IS NOT NULL AND age_band IS NOT NULL GROUP BY ALL),
        expected AS (SELECT period, area_type, area_code, category,
                            coalesce(sum(r.den * coalesce(ref.rate, 0)), 0) AS expected
                     FROM r LEFT JOIN ref USING (period, category, sex, age_band)
                     GROUP BY ALL),
        totals AS (SELECT period, category, sum(num) / nullif(sum(den), 0) AS ref_rate
                   FROM national GROUP BY ALL)
        SELECT * FROM cells JOIN expected USING (period, area_type, area_code, category)
        LEFT JOIN totals USING (period, category)"""
    else:
        query += " SELECT * FROM cells"
    query += " ORDER BY period, area_type, area_code, category"
    table = sql(mem, query, arrow=True, rolled=rolled)
    cells = table.drop_columns([f"{m}{b}" for m in ("num", "den") for b in bands]).to_pandas(
        date_as_object=False)
    for m in ("num", "den"):
        matrix = np.column_stack([table.column(f"{m}{b}").to_numpy() for b in bands])
        cells[f"{m}_bands"] = list(matrix)
    return cells


# ----- the statistic --------------------------------------------------------------------
def _valid(num: np.ndarray, den: np.ndarray, proportion: bool) -> np.ndarray:
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    if proportion:
        ok &= num <= den
    return ok


def _interval(defn: Definition, cells: pd.DataFrame, level: float, years: pd.Series):
    num, den = cells.num.to_numpy(float), cells.den.to_numpy(float)
    scale = defn.scale
    stat = defn.statistic
    ok = _valid(num, den, stat == "proportion") if stat not in ("count", "mean") else \
        np.isfinite(num)
    out = np.full((3, len(cells)), np.nan)
    method = ""
    if stat == "proportion" and ok.any():
        iv = stats.proportion(num[ok], den[ok], confidence=level, multiplier=scale)
    elif stat in ("crude_rate", "count") and ok.any():
        if stat == "count":
            py, scale = np.ones(ok.sum()), 1
        elif isinstance(defn.denominator, Population):  # person-years of population
            py = den[ok] * years.to_numpy(float)[ok]
        else:
            py = den[ok]
        if "num_sq" in cells:  # a sum (bed days): events weighted by their value
            iv = stats.weighted_rate(num[ok], cells.num_sq.to_numpy(float)[ok],
                                     cells.num_events.to_numpy(float)[ok], py,
                                     confidence=level, multiplier=scale)
        else:
            iv = stats.rate(num[ok], py, confidence=level, multiplier=scale)
    elif stat == "mean":
        cnt = cells.num.to_numpy(float)
        ok = cnt > 0
        total, total_sq = cells.total.to_numpy(float), cells.total_sq.to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (total_sq - total**2 / cnt) / (cnt - 1)
        sd = np.sqrt(np.clip(np.where(cnt > 1, var, np.nan), 0, None))
        if not ok.any():
            return out, "", ok
        iv = stats.mean_from_summary(total[ok], cnt[ok], sd[ok], confidence=level)
    elif stat in ("dsr", "isr", "isratio"):
        return _standardised(defn, cells, level, years.to_numpy(float))
    else:
        return out, method, ok
    out[:, ok] = np.vstack([iv.value, iv.lower, iv.upper])
    per_person = defn.numerator.value.startswith("per:")  # said as what it allows for
    return out, METHOD_PER_PERSON if per_person else iv.method, ok


def _standardised(defn: Definition, cells: pd.DataFrame, level: float, years: np.ndarray):
    """cells carry per-band arrays in columns num_bands / den_bands (and exp for ISR).
    Rates over a registered population are per person-year, as crude rates are: a DSR or
    ISR over a quarter is per year, like the same indicator over a year."""
    x, n = band_matrix(cells.num_bands), band_matrix(cells.den_bands)
    if not isinstance(defn.denominator, Population):
        years = np.ones(len(cells))
    n = n * years[:, None]
    out = np.full((3, len(cells)), np.nan)
    if defn.statistic == "dsr":
        # Standardised to the standard population of the ages the denominator covers:
        # a DSR for ages 40-79 weighs those bands only (divided by all of ESP2013 it was
        # half the rate). Events outside those ages leave the value missing, with a note.
        bands = list(_band_range(defn))
        outside = events_outside_ages(defn, cells)
        x, n = x[:, bands], n[:, bands]
        ok = ~((x > 0) & (n <= 0)).any(axis=1) & (n.sum(axis=1) > 0) & ~outside
        safe_n = np.where(n > 0, n, 1.0)  # empty band with no events contributes 0
        if ok.any():
            iv = stats.dsr(x[ok], safe_n[ok], confidence=level, multiplier=defn.scale,
                           stdpop=stats.ESP2013[bands])
            out[:, ok] = np.vstack([iv.value, iv.lower, iv.upper])
            return out, iv.method, ok
        return out, "", ok
    observed = x.sum(axis=1)
    expected = cells.expected.to_numpy(float)
    ok = np.isfinite(expected) & (expected > 0)
    if ok.any():
        if defn.statistic == "isratio":
            iv = stats.isratio(observed[ok], expected[ok], confidence=level,
                               refvalue=defn.scale)
        else:
            ref_rate = cells.ref_rate.to_numpy(float) / years  # per person-year
            iv = stats.israte(observed[ok], expected[ok], ref_rate[ok],
                              confidence=level, multiplier=defn.scale)
        out[:, ok] = np.vstack([iv.value, iv.lower, iv.upper])
        return out, iv.method, ok
    return out, "", ok


def band_matrix(column: pd.Series) -> np.ndarray:
    """Per-row band arrays as one (rows, bands) matrix: one concatenation, where
    ``np.vstack`` checked each row's array on its own (seconds on England)."""
    if column.empty:
        return np.empty((0, len(AGE_BANDS)))
    return np.concatenate(column.to_numpy()).reshape(len(column), -1)


def _band_range(defn: Definition) -> range:
    den = defn.denominator
    return den.band_range() if isinstance(den, Population) else range(len(AGE_BANDS))


def events_outside_ages(defn: Definition, cells: pd.DataFrame) -> np.ndarray:
    """Cells of a DSR with events in age bands its population does not cover."""
    if defn.statistic != "dsr" or "num_bands" not in cells:
        return np.zeros(len(cells), bool)
    x = band_matrix(cells.num_bands)
    return np.delete(x, list(_band_range(defn)), axis=1).sum(axis=1) > 0


def apply_statistic(defn: Definition, cells: pd.DataFrame, years: pd.Series) -> pd.DataFrame:
    cells = cells.copy()
    method = ""
    for level, suffix in ((CONF_95, "95"), (CONF_998, "998")):
        values, m, ok = _interval(defn, cells, level, years)
        method = method or m
        cells["value"] = values[0]
        cells[f"lower{suffix}"] = values[1]
        cells[f"upper{suffix}"] = values[2]
        cells["_ok"] = ok
    cells["method"] = method
    return cells


# ----- recent trend ---------------------------------------------------------------------
def recent_trends(defn: Definition, cells: pd.DataFrame,
                  order: dict[str, int] | None = None) -> pd.Series:
    """The Fingertips recent-trend label at each series' latest period, over its last
    ``TREND_POINTS`` periods, all of them published; other rows get None. A series is an
    area's figures in one breakdown category (Fingertips marks its sex and age rows too).
    A series whose latest value is suppressed or missing has no trend: one was put on an
    earlier period, bridging the suppressed one (a hunt); nor one whose periods skip one
    (``order``, every period's place, gaps too: a review); nor one whose figures leave out
    practices the publisher suppressed in any of those periods; nor one a practice moved
    into or out of in them (a ``MOVED`` column, ``carepath.engine.moves``)."""
    out = pd.Series([None] * len(cells), index=cells.index, dtype=object)
    series = ["area_type", "area_code", "breakdown", "category"]
    mine = cells.sort_values([*series, "period_start"])
    key = mine.groupby(series, sort=False, dropna=False).ngroup()
    position = mine.groupby(key, sort=False).cumcount(ascending=False)  # 0 = latest
    last = mine[position < TREND_POINTS]
    by_series = key[last.index]
    shown = (last.value_state == "published").groupby(by_series, sort=False).transform("sum")
    ok = shown == TREND_POINTS
    if "withheld_units" in last:  # the same practices throughout: a locality at 71% of one
        # practice, the others suppressed by the publisher, read as 'increasing' (a hunt)
        whole = (last.withheld_units.fillna(0) == 0).groupby(by_series, sort=False)
        ok &= whole.transform("all")
    if MOVED in last:  # no practice moved in or out after the first period
        # (``carepath.engine.moves``: a move read as a significant trend both ways)
        inner = last[MOVED] & (position[last.index] < TREND_POINTS - 1)
        ok &= ~inner.groupby(by_series, sort=False).transform("any")
    if order is not None:  # the periods one after another (``order``: the periods' places)
        place = last.period.map(order)
        span = place.groupby(by_series, sort=False).transform("max") - \
            place.groupby(by_series, sort=False).transform("min")
        ok &= span == TREND_POINTS - 1
    tail = last[ok]
    if tail.empty:
        return out
    columns = ["num", "den"] if defn.statistic == "proportion" else \
        ["value", "lower95", "upper95"]
    arrays = [tail[c].to_numpy(float).reshape(-1, TREND_POINTS) for c in columns]
    latest = tail.index.to_numpy().reshape(-1, TREND_POINTS)[:, -1]
    if defn.statistic == "proportion":
        labels = stats.trend_labels(numerator=arrays[0], denominator=arrays[1],
                                    polarity=defn.polarity)
    else:
        labels = stats.trend_labels(values=arrays[0], lower=arrays[1], upper=arrays[2],
                                    polarity=defn.polarity)
    out.loc[latest] = labels
    return out
