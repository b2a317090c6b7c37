"""Reads of ``indicator_values`` that the indicator pages and the API share.

Every function takes the caller's ``Principal`` where rows could be restricted and drops what
they may not see (``scopes.filter_rows``), so no page can forget to.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd

from carepath.model.codes import AREA_TYPE_NAMES
from carepath.stats.intervals import WEIGHTED_METHODS
from carepath.web import scopes
from carepath.web.cache import VersionedCache
from carepath.web.scopes import Principal

AREA_TYPE_ORDER = ("practice", "pcn", "locality", "sub_icb", "icb", "cancer_alliance",
                   "provider", "group", "national")
AREA_TYPE_LABELS = {code: names[1] for code, names in AREA_TYPE_NAMES.items()}
VALUE_COLUMNS = ["indicator_id", "area_code", "area_name", "area_type", "parent_code",
                 "period", "period_start", "period_end", "numerator", "denominator", "value",
                 "lower95", "upper95", "lower998", "upper998", "statistic", "method",
                 "compared_to_parent", "compared_to_national", "trend", "value_state",
                 "value_note"]
# Funnel limits are drawn for proportions (Wilson), indirectly standardised ratios and crude
# rates (exact Poisson), as PHE draws them; other statistics show the points against the
# average only.
FUNNEL_STATISTICS = {"proportion", "isratio", "crude_rate"}
# Event counts along a rate funnel's axis; denominators along a proportion funnel's.
RATE_FUNNEL_POINTS = 80
PROPORTION_FUNNEL_POINTS = 60
# Limit lines span the areas' denominators with this much room either side.
FUNNEL_X_MARGIN = (0.8, 1.1)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN/NaT turned into None (for templates and JSON). Column-wise
    ``tolist`` is much faster than ``to_dict("records")`` on Arrow-backed strings."""
    cols = list(frame.columns)
    values = [[None if _missing(v) else v for v in frame[c].tolist()] for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _missing(v) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) or (
        v is pd.NA)


def facts(con: duckdb.DuckDBPyConnection, indicator_id: str) -> dict:
    """Periods (in order), area types and each period's breakdowns for one indicator."""
    rows = con.execute(
        "SELECT period, max(period_end), list(DISTINCT area_type) FROM indicator_values "
        "WHERE indicator_id = ? AND breakdown = 'all' GROUP BY period ORDER BY 2",
        [indicator_id]).fetchall()
    breakdowns = con.execute(
        "SELECT period, list(DISTINCT breakdown ORDER BY breakdown) FROM indicator_values "
        "WHERE indicator_id = ? AND breakdown <> 'all' GROUP BY period",
        [indicator_id]).fetchall()
    return {"periods": [r[0] for r in rows], "types": {t for r in rows for t in r[2]},
            "breakdowns": dict(breakdowns)}


def cached_facts(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                 indicator_id: str) -> dict:
    return cache.get(("facts", indicator_id), con, lambda c: facts(c, indicator_id))


def periods(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
            indicator_id: str) -> list[str]:
    return cached_facts(cache, con, indicator_id)["periods"]


def organisation_names(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                       org_type: str) -> dict[str, str]:
    """code -> name of every organisation of one type, ordered by name (read on most
    requests to check that a URL's code exists)."""
    def build(c: duckdb.DuckDBPyConnection) -> dict[str, str]:
        rows = c.execute("SELECT org_code, arg_max(name, valid_from) AS name FROM organisations "
                         "WHERE org_type = ? GROUP BY org_code ORDER BY 2, 1",
                         [org_type]).fetchall()
        return dict(rows)
    return cache.get(("organisations", org_type), con, build)


def area_types(con: duckdb.DuckDBPyConnection, indicator_id: str, who: Principal,
               present: set[str] | None = None) -> list[str]:
    """Area types of this indicator that ``who`` may list, most local first."""
    if present is None:
        present = facts(con, indicator_id)["types"]
    allowed = scopes.allowed_restricted_codes(con, who)
    visible = []
    for t in AREA_TYPE_ORDER:
        if t not in present:
            continue
        if t in scopes.RESTRICTED_TYPES and allowed is not None:
            if who.role is scopes.Role.PROVIDER and t not in scopes.PROVIDER_TYPES:
                continue
            if who.role is scopes.Role.LOCALITY_LEAD and t not in scopes.SUB_LOCALITY_TYPES:
                continue
        visible.append(t)
    return visible


def values(con: duckdb.DuckDBPyConnection, who: Principal, indicator_id: str, *,
           area_type: str | None = None, period: str | None = None,
           area_codes: list[str] | None = None, area_types: list[str] | None = None,
           parent: str | None = None, cache: VersionedCache | None = None) -> pd.DataFrame:
    """Rows of one indicator that ``who`` may see (suppressed rows blanked). With ``cache``
    the unfiltered rows are reused across requests; the scope filter runs every time."""
    key = ("values", indicator_id, area_type, period, tuple(area_codes or ()) or None,
           tuple(area_types or ()) or None, parent)
    def build(c: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return _raw_values(c, indicator_id, area_type=area_type, period=period,
                           area_codes=area_codes, area_types=area_types, parent=parent)
    frame = cache.get(key, con, build) if cache is not None else build(con)
    return hide_unpublished(scopes.filter_rows(con, who, frame))


def all_values(con: duckdb.DuckDBPyConnection, indicator_id: str, area_type: str,
               period: str, cache: VersionedCache | None = None) -> pd.DataFrame:
    """Every area's rows of a level and period, whoever asks: for figures made from all of
    them (an opportunity's peers) of which a page shows only its own areas' part. Never
    shown as they are."""
    return values(con, scopes.Principal(role=scopes.Role.ANALYST), indicator_id,
                  area_type=area_type, period=period, cache=cache)


def _raw_values(con: duckdb.DuckDBPyConnection, indicator_id: str, *, area_type, period,
                area_codes, area_types, parent) -> pd.DataFrame:
    where, params = ["indicator_id = ?", "breakdown = 'all'"], [indicator_id]
    if area_type:
        area_types = [area_type]
    if area_types:
        where.append(f"area_type IN ({', '.join('?' * len(area_types))})")
        params += area_types
    if parent:
        where.append("parent_code = ?")
        params.append(parent)
    if period:
        where.append("period = ?")
        params.append(period)
    if area_codes is not None:
        where.append(f"area_code IN ({', '.join('?' * len(area_codes)) or 'NULL'})")
        params += area_codes
    frame = con.execute(
        f"SELECT {', '.join(VALUE_COLUMNS)} FROM indicator_values WHERE {' AND '.join(where)} "
        "ORDER BY period_end, area_type, area_name", params).df()
    return frame


def breakdown_areas(con: duckdb.DuckDBPyConnection, who: Principal, indicator_id: str,
                    period: str, cache: VersionedCache | None = None) -> pd.DataFrame:
    """The areas (area_type, area_code, area_name) with breakdown rows of one indicator in
    one period that ``who`` may see, national first, then by level and name."""
    def build(c: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return c.execute(
            "SELECT DISTINCT area_type, area_code, area_name FROM indicator_values WHERE "
            "indicator_id = ? AND period = ? AND breakdown <> 'all'",
            [indicator_id, period]).df()
    key = ("breakdown_areas", indicator_id, period)
    frame = scopes.filter_rows(con, who, cache.get(key, con, build) if cache is not None
                               else build(con))
    place = frame["area_type"].map({t: -i for i, t in enumerate(AREA_TYPE_ORDER)})
    return frame.assign(_place=place.fillna(1)).sort_values(
        ["_place", "area_name"]).drop(columns="_place").reset_index(drop=True)


def breakdown_values(con: duckdb.DuckDBPyConnection, who: Principal, indicator_id: str,
                     period: str, area_type: str, area_code: str) -> pd.DataFrame:
    """One area's rows of one indicator and period, its own ('all') and every breakdown's,
    if ``who`` may see them (suppressed rows blanked)."""
    frame = con.execute(
        f"SELECT {', '.join(VALUE_COLUMNS)}, breakdown, category FROM indicator_values "
        "WHERE indicator_id = ? AND period = ? AND area_type = ? AND area_code = ?",
        [indicator_id, period, area_type, area_code]).df()
    return hide_unpublished(scopes.filter_rows(con, who, frame))


def hide_unpublished(frame: pd.DataFrame) -> pd.DataFrame:
    """A suppressed or missing row shows no value, count or interval anywhere."""
    hidden = frame["value_state"] != "published"
    if hidden.any():
        frame = frame.copy()
        cols = [c for c in ("numerator", "denominator", "value", "lower95", "upper95",
                            "lower998", "upper998") if c in frame.columns]
        frame[cols] = frame[cols].astype("float64")
        frame.loc[hidden, cols] = float("nan")
    return frame


def national_value(con: duckdb.DuckDBPyConnection, indicator_id: str,
                   period: str) -> float | None:
    row = con.execute(
        "SELECT value FROM indicator_values WHERE indicator_id = ? AND period = ? AND "
        "area_type = 'national' AND breakdown = 'all' AND value_state = 'published' LIMIT 1",
        [indicator_id, period]).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def provenance(con: duckdb.DuckDBPyConnection, indicator_id: str) -> dict | None:
    row = con.execute(
        """SELECT any_value(indicator_version), any_value(definition_hash),
                  max(computed_at), string_agg(DISTINCT load_ids, '; '),
                  any_value(carepath_version), any_value(method), any_value(statistic),
                  count(*)
           FROM indicator_values WHERE indicator_id = ?""", [indicator_id]).fetchone()
    if row is None or row[7] == 0:
        return None
    keys = ("version", "definition_hash", "computed_at", "load_ids", "carepath_version",
            "method", "statistic", "rows")
    return dict(zip(keys, row, strict=True))


PERCENT = 100.0


def funnel_limits(rows: list[dict], statistic: str | None, average: float | None,
                  multiplier: float = PERCENT, years: float = 1.0) -> list[dict]:
    """95% and 99.8% lines around ``average`` across the rows' denominators
    (:func:`carepath.stats.funnels.funnel_limits`). For a crude rate, ``multiplier`` is its
    scale (per 100,000 ...) and ``years`` the person-years each unit of denominator stands
    for (the period's length for a rate per head per year, 1 for a rate per counted
    event)."""
    import numpy as np

    from carepath.stats.funnels import funnel_limits as lines_for

    pairs = np.array([(r["numerator"], r["denominator"]) for r in rows
                      if r.get("value_state") == "published" and r.get("denominator")
                      and r.get("numerator") is not None], dtype=float).reshape(-1, 2)
    if statistic not in FUNNEL_STATISTICS or average is None or len(pairs) < 2:
        return []
    if any(r.get("method") in WEIGHTED_METHODS for r in rows):
        # A sum over weighted events (bed days): Poisson lines on the days would be far too
        # narrow, and the rows do not carry the events and weights the right ones need.
        return []
    x, den = pairs[:, 0], pairs[:, 1]
    low, high = FUNNEL_X_MARGIN
    shown = (den.min() * low, den.max() * high)
    if statistic == "isratio":
        # The national ratio is 1 by construction, so the national value is its scale.
        lines = lines_for(x, den, statistic="ratio", ratio_type="ratio")
        return _exact_lines(lines, shown, scale=average)
    if statistic == "crude_rate":
        per_unit = average / multiplier * years  # expected events per unit of denominator
        if not per_unit > 0:
            return []
        # Counts from well below the smallest area's expected events to above the largest's.
        events = np.unique(np.geomspace(max(1.0, shown[0] * per_unit / 2),
                                        max(2.0, shown[1] * per_unit * 2),
                                        RATE_FUNNEL_POINTS).round())
        lines = lines_for(x, den * years, statistic="rate", multiplier=multiplier,
                          points=events, baseline=average, years_of_data=years)
        return _exact_lines(lines, shown, scale=1.0)
    axis = np.unique(np.geomspace(max(1.0, shown[0]), shown[1], PROPORTION_FUNNEL_POINTS)
                     .round())
    return lines_for(x, den, statistic="proportion", multiplier=multiplier, points=axis,
                     baseline=average / multiplier).rows()


def _exact_lines(lines, shown: tuple[float, float], scale: float) -> list[dict]:
    """Exact Poisson lines (ratios, rates) as chart rows: each line point sits at the
    denominator where a count just reaches the limit, so the lower and upper lines have
    points at different denominators (each row carries one line's value)."""
    import numpy as np

    from carepath.stats.funnels import CONF_95, CONF_998

    out = []
    for conf, tag in ((CONF_95, "95"), (CONF_998, "998")):
        for side, values, at in (("lower", lines.lower[conf], lines.lower_denominator[conf]),
                                 ("upper", lines.upper[conf], lines.upper_denominator[conf])):
            ok = np.isfinite(values) & np.isfinite(at) & (at >= shown[0]) & (at <= shown[1])
            out += [{"denominator": float(d), f"{side}{tag}": float(v * scale)}
                    for d, v in zip(at[ok], values[ok], strict=True)]
    return sorted(out, key=lambda r: r["denominator"])
