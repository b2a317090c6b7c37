"""Helpers shared by the journeys, end-of-life, experience and co-production pages: period
choice, scope filtering of trust rows, frames to template rows and interval bars."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
from fastapi import Query

from carepath.domain.experience.scoring import ALL_ORGANISATIONS
from carepath.domain.journeys._shared import default_period
from carepath.errors import CarepathError, ValidationError
from carepath.web.scopes import Principal, allowed_restricted_codes

PERCENT = 100
DATE_TEXT_MAX = 20  # characters of a date field


def period(con: duckdb.DuckDBPyConnection, topic: str, start: date | None,
           end: date | None) -> tuple[date, date]:
    return default_period(con, topic, start, end)


@dataclass(frozen=True)
class PeriodAsked:
    """The From and To fields as typed: empty is no choice."""

    start: str
    end: str


def period_asked(start: str = Query("", max_length=DATE_TEXT_MAX),
                 end: str = Query("", max_length=DATE_TEXT_MAX)) -> PeriodAsked:
    return PeriodAsked(start.strip(), end.strip())


def period_shown(con: duckdb.DuckDBPyConnection, topic: str, asked: PeriodAsked
                 ) -> tuple[date, date, str | None]:
    """The period to show and what was wrong with the one asked for, said above the form
    of a page showing the default period: an empty field was a 422 about 'query.start',
    dates the wrong way round a bare 400, neither with a form to mend them (a
    walkthrough)."""
    latest_year = period(con, topic, None, None)
    if not (asked.start or asked.end):
        return (*latest_year, None)
    try:
        start, end = (_date(asked.start, "From"), _date(asked.end, "To"))
        shown = period(con, topic, start, end or latest_year[1])
        if shown[0] > latest_year[1]:  # a bare 400 from the measures after it (a review)
            raise ValidationError(f"From: {shown[0]} is after the latest date in the data "
                                  f"({latest_year[1]})")
        return (*shown, None)
    except CarepathError as exc:
        return (*latest_year, f"{exc.message}; showing the latest year")


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{field}: {text!r} is not a date like 2025-03-31") from None


def visible(con: duckdb.DuckDBPyConnection, who: Principal, frame: pd.DataFrame, *,
            group_col: str = "group", dim_col: str | None = "dimension",
            restricted_dims: tuple[str, ...] = ("trust",),
            always: tuple[str, ...] = ()) -> pd.DataFrame:
    """Drop rows about providers (trusts) the caller may not see: a provider sees its own
    trust only, a locality lead none; wide roles see all. ``always``: groups everyone sees
    (the row of all organisations together)."""
    allowed = allowed_restricted_codes(con, who)
    if allowed is None or frame.empty:
        return frame
    if dim_col is None:
        return frame[frame[group_col].isin(allowed) | frame[group_col].isin(always)]
    restricted = frame[dim_col].isin(restricted_dims)
    return frame[~restricted | frame[group_col].isin(allowed)]


def org_names(con: duckdb.DuckDBPyConnection, *frames: pd.DataFrame,
              code_col: str = "org_code") -> dict[str, str]:
    """Names of the organisations in any of ``frames`` (one query for all of them)."""
    codes = sorted({str(c) for f in frames if not f.empty for c in f[code_col].dropna()})
    return dict(con.execute("SELECT org_code, arg_max(name, valid_from) FROM organisations WHERE "
                            "org_code IN (SELECT unnest(?)) GROUP BY 1", [codes]).fetchall())


def with_org_names(frame: pd.DataFrame, names: dict[str, str], *, code_col: str = "org_code",
                   total_code: str = "national") -> pd.DataFrame:
    """``frame`` with ``org_name``: the organisation's name and code ("Casterbridge Hospitals
    (RWZ)"), the code alone when it has no name, and ALL_ORGANISATIONS for the total row."""
    def label(code) -> str:
        if code == total_code:
            return ALL_ORGANISATIONS
        return f"{names[code]} ({code})" if names.get(code) else str(code)

    return frame.assign(org_name=[label(c) for c in frame[code_col]] if not frame.empty
                        else pd.Series(dtype="object"))


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows for templates: NaN and NA become None so the filters show blanks."""
    out = []
    for row in frame.to_dict("records"):
        out.append({k: None if _blank(v) else v for k, v in row.items()})
    return out


def _blank(v) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def bars(frame: pd.DataFrame, *, name: str, overall: float | None, value: str = "value",
         lower: str = "lower", upper: str = "upper",
         higher_is_better: bool | None = None) -> list[dict]:
    """Rows for charts.bar_with_intervals, in percent, marked lower/higher than overall when
    the interval excludes it, as better/worse where higher is better or worse (the same
    measure read Higher here and Better on its indicator page: a walkthrough)."""
    words = {"higher": "higher", "lower": "lower", "similar": "similar"}
    if higher_is_better is not None:
        good, bad = ("higher", "lower") if higher_is_better else ("lower", "higher")
        words.update({good: "better", bad: "worse"})
    rows = []
    for r in records(frame):
        if r.get(value) is None:
            continue
        sig = "similar"
        if overall is not None and r[upper] is not None and r[upper] < overall:
            sig = "lower"
        elif overall is not None and r[lower] is not None and r[lower] > overall:
            sig = "higher"
        rows.append({"name": str(r[name]), "value": r[value] * PERCENT,
                     "lower": r[lower] * PERCENT, "upper": r[upper] * PERCENT,
                     "significance": words[sig]})
    return rows


# Aggregate read models are recomputed only when the data changes: a load writes to the load
# log, so (loads, latest load time) versions the data. Person-level output is never cached.
CACHE_SIZE = 64
_cache: dict[tuple, object] = {}


def data_version(con: duckdb.DuckDBPyConnection) -> tuple:
    """Which database (one process may serve several in tests) and which loads."""
    return con.execute(
        "SELECT (SELECT path FROM duckdb_databases() WHERE database_name = "
        "current_database()), count(*), max(loaded_at) FROM load_log").fetchone()


def cached(con: duckdb.DuckDBPyConnection, key: tuple, compute):
    full = (data_version(con), *key)
    if full not in _cache:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[full] = compute()
    return _cache[full]
