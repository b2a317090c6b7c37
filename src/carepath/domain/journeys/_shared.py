"""Helpers shared by the journeys, EoL, experience and co-production read models."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from carepath.errors import CarepathError, ValidationError
from carepath.workspace import Workspace

CONFIDENCE = 0.95

# Coarse age groups for equity views: five-year bands are too thin once split by trust.
AGE_GROUP_EDGES = (50, 65, 75, 85)
AGE_GROUP_SQL_TEMPLATE = (
    "CASE WHEN {age} IS NULL THEN 'unknown' WHEN {age} < 50 THEN '<50' "
    "WHEN {age} < 65 THEN '50-64' WHEN {age} < 75 THEN '65-74' "
    "WHEN {age} < 85 THEN '75-84' ELSE '85+' END"
)


class PersonLevelDenied(CarepathError):
    """The caller asked for person-level data without the authority to see it."""

    exit_code = 3


def age_group_sql(age_expr: str) -> str:
    return AGE_GROUP_SQL_TEMPLATE.format(age=age_expr)


def financial_year_sql(date_expr: str) -> str:
    """The financial year a date falls in, as the periods elsewhere write it (2024/25):
    calendar years inside a financial-year period read as a full 2024 and a 2025 of three
    months (a walkthrough, and an independent check of the end-of-life view)."""
    fy = f"(year({date_expr}) - CAST(month({date_expr}) < 4 AS INT))"
    return f"printf('%d/%02d', {fy}, ({fy} + 1) % 100)"


def locality_join(practice_expr: str, at_expr: str, alias: str = "loc") -> str:
    """LEFT JOIN that finds the locality of a practice on a date, using the hierarchy valid
    then (geographies change, so a link outside its validity dates must not count)."""
    return (
        f"LEFT JOIN org_hierarchy {alias} ON {alias}.child_code = {practice_expr} "
        f"AND {alias}.parent_type = 'locality' AND {alias}.valid_from <= {at_expr} "
        f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= {at_expr})"
    )


def require_person_level(can_see_person_level: bool, what: str) -> None:
    if not can_see_person_level:
        raise PersonLevelDenied(
            f"{what} is person-level data; your role may see counts only", where="access")


def audit_view(ws: Workspace, *, actor: str, action: str, target: str | None,
               detail: dict) -> None:
    """Write one audit event for a person-level view (its own short transaction)."""
    if not actor or not actor.strip():
        raise ValidationError("an actor is required for person-level views", where="audit")
    with ws.transaction() as con:
        ws.audit(con, actor=actor, action=action, target=target,
                 detail=json.dumps(detail, default=str, sort_keys=True))


def check_period(start: date, end: date, where: str) -> None:
    if start > end:
        raise ValidationError(f"period start {start} is after its end {end}", where=where)


def check_choice(value: str, allowed, name: str, where: str) -> None:
    if value not in allowed:
        raise ValidationError(
            f"{name} {value!r} is not one of {', '.join(map(str, allowed))}", where=where)


def with_wilson(df: pd.DataFrame, x: str, n: str, prefix: str = "",
                confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Add ``{prefix}value``/``lower``/``upper`` (Wilson, as proportions) for x out of n.
    Rows with n = 0 get missing values, not zero: there is nothing to estimate."""
    out = df.copy()
    xs = out[x].to_numpy(dtype=float)
    ns = out[n].to_numpy(dtype=float)
    value = np.full(len(out), np.nan)
    lower = value.copy()
    upper = value.copy()
    ok = ns > 0
    if ok.any():
        value[ok], lower[ok], upper[ok] = _wilson(xs[ok], ns[ok], confidence)
    out[f"{prefix}value"], out[f"{prefix}lower"], out[f"{prefix}upper"] = value, lower, upper
    return out


def _wilson(x: np.ndarray, n: np.ndarray, confidence: float):
    try:
        from carepath.stats import proportion
    except ImportError:  # the statistics package landing concurrently may not export it yet
        try:
            from carepath.stats.intervals import proportion
        except ImportError:
            return _wilson_fallback(x, n, confidence)
    interval = proportion(x, n, confidence=confidence)
    return interval.value, interval.lower, interval.upper


def _wilson_fallback(x: np.ndarray, n: np.ndarray, confidence: float):
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    p = x / n
    centre = (2 * x + z**2) / (2 * (n + z**2))
    half = z * np.sqrt(z**2 + 4 * x * (1 - p)) / (2 * (n + z**2))
    return p, centre - half, centre + half


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


# Latest dates per topic: a period defaults to the year ending on the latest date in the data.
LATEST_SQL = {
    "cancer": ("(SELECT max(diagnosis_date) FROM tumours)",
               "(SELECT max(referral_date) FROM referrals)"),
    "contacts": ("(SELECT max(diagnosis_date) FROM tumours)",
                 "(SELECT max(referral_date) FROM referrals)",
                 "(SELECT max(event_date) FROM care_events)",
                 "(SELECT max(admission_date) FROM admissions)",
                 "(SELECT max(date_of_death) FROM deaths)"),
    "care_events": ("(SELECT max(event_date) FROM care_events)",),
    "deaths": ("(SELECT max(date_of_death) FROM deaths)",),
    "surveys": ("(SELECT max(response_date) FROM survey_responses)",),
}


def latest_date(con: duckdb.DuckDBPyConnection, topic: str) -> date | None:
    """The latest date in the data of ``topic`` (None when it has no rows)."""
    return con.execute(f"SELECT greatest({', '.join(LATEST_SQL[topic])})").fetchone()[0]


def default_period(con: duckdb.DuckDBPyConnection, topic: str, start: date | None = None,
                   end: date | None = None) -> tuple[date, date]:
    """The period asked for; missing ends default to the year up to the latest date."""
    if end is None:
        end = latest_date(con, topic) or date.today()
    if start is None:  # the calendar year to ``end``: 365 days began a day late after
        # a 29 February (2023-04-02 to 2024-03-31: a walkthrough)
        start = _year_before(end) + timedelta(days=1)
    check_period(start, end, "period")
    return start, end


def _year_before(day: date) -> date:
    """The same day a year earlier (28 February for a 29th)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28)) if (
        day.month, day.day) == (2, 29) else day.replace(year=day.year - 1)


# On the EoL register when they died: entered by then and not removed before, as the
# indicator library counts it (register entry ``e``, death ``d``). One spelling for the
# end-of-life measures and the fell-between rule, which disagreed (a walkthrough).
ON_REGISTER_AT_DEATH = ("e.entry_date <= d.date_of_death AND (e.exit_date IS NULL OR "
                        "e.exit_date >= d.date_of_death)")


# Deaths from external causes (ICD-10 V01-Y89, and U50.9) are sudden: nobody could have put
# the person on an EoL register or asked where they wanted to die. EoL measures leave them
# out, as the indicator library does.
def not_external_cause(cause_expr: str) -> str:
    return (f"({cause_expr} IS NULL OR NOT ({cause_expr} BETWEEN 'V01' AND 'Y899' "
            f"OR starts_with({cause_expr}, 'U509')))")
