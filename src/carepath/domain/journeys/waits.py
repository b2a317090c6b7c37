"""Pathway waits: distributions of days from referral to diagnosis and from diagnosis (or
the decision to treat) to first treatment, with the share within the national standard.

A wait whose end is missing is *pending* (still waiting or not recorded), a wait that ends
before it starts is *negative* (data out of order): both are counted and reported, never
mixed into the distribution and never silently dropped. A wait that began less than its
standard's days before the data's end is *too recent*: only its quick ends could be in the
data yet, so it would flatter the share within the standard (64.3% for 62 days where the
waits old enough to judge gave 63.0%: an independent check). It is counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from carepath.domain.journeys._shared import (
    age_group_sql,
    check_choice,
    check_period,
    financial_year_sql,
    latest_date,
    locality_join,
    with_wilson,
)

# National Cancer Waiting Times standards (days).
FASTER_DIAGNOSIS_STANDARD_DAYS = 28
DECISION_TO_TREAT_STANDARD_DAYS = 31
REFERRAL_TO_TREATMENT_STANDARD_DAYS = 62
HISTOGRAM_BIN_DAYS = 7

_FIRST_TX = ("(SELECT tumour_id, min(start_date) AS start_date, "
             "arg_min(provider_code, start_date) AS provider_code FROM treatments "
             "GROUP BY tumour_id)")


@dataclass(frozen=True)
class WaitMeasure:
    name: str
    title: str
    source: str  # FROM clause, aliases r (referrals), t (tumours), ft (first treatment)
    start: str
    end: str
    standard_days: int | None
    where: str = "TRUE"


MEASURES = {m.name: m for m in (
    # Urgent suspected cancer referrals only, as the standard and the fds_28_day indicator:
    # routine referrals ruled out with no diagnosis date read as pending (an independent
    # check).
    WaitMeasure("referral_to_diagnosis",
                "Urgent suspected cancer referral to diagnosis or ruling out",
                "referrals r LEFT JOIN tumours t ON t.tumour_id = r.tumour_id "
                "LEFT JOIN patients pt ON pt.patient_id = r.patient_id",
                "r.referral_date", "r.faster_diagnosis_date", FASTER_DIAGNOSIS_STANDARD_DAYS,
                "r.referral_type = 'usc'"),
    WaitMeasure("diagnosis_to_treatment", "Diagnosis to first treatment",
                f"tumours t LEFT JOIN {_FIRST_TX} ft ON ft.tumour_id = t.tumour_id",
                "t.diagnosis_date", "ft.start_date", None),
    WaitMeasure("decision_to_treatment", "Decision to treat to first treatment",
                f"tumours t LEFT JOIN {_FIRST_TX} ft ON ft.tumour_id = t.tumour_id",
                "t.decision_to_treat_date", "ft.start_date", DECISION_TO_TREAT_STANDARD_DAYS,
                "t.decision_to_treat_date IS NOT NULL"),
    WaitMeasure("referral_to_treatment", "Urgent suspected cancer referral to first treatment",
                f"referrals r JOIN tumours t ON t.tumour_id = r.tumour_id "
                f"LEFT JOIN {_FIRST_TX} ft ON ft.tumour_id = t.tumour_id",
                "r.referral_date", "ft.start_date", REFERRAL_TO_TREATMENT_STANDARD_DAYS,
                "r.referral_type = 'usc'"),
)}

# Breakdowns: SQL over the measure's aliases. Trust is where the wait was managed: first
# seen for a diagnosis, first treated for a treatment (diagnosing trust while untreated).
_TRUST = "coalesce(t.diagnosing_trust, 'unknown')"
GROUPS = {
    "all": "'all'",
    "tumour_group": "coalesce(t.tumour_group, 'unknown')",
    "trust": _TRUST,
    "locality": "coalesce(loc.parent_code, 'unknown')",
    "age_group": age_group_sql("t.age_at_diagnosis"),
    "year": financial_year_sql("{start}"),  # of the wait's start
}


def _base_sql(measure: WaitMeasure, group: str) -> str:
    practice = "r.practice_code" if measure.source.startswith("referrals") else "t.practice_code"
    key = GROUPS[group].format(start=measure.start)
    if group == "tumour_group" and measure.name == "referral_to_diagnosis":
        key = "coalesce(t.tumour_group, r.suspected_site, 'unknown')"
    if group == "trust" and measure.name == "referral_to_diagnosis":
        key = "coalesce(r.first_seen_provider, 'unknown')"
    if group == "trust" and measure.end == "ft.start_date":
        # A wait to treatment belongs to the trust that treated, as the 31- and 62-day
        # indicators count it (681 diagnosed at one trust were treated at the other)
        key = "coalesce(ft.provider_code, t.diagnosing_trust, 'unknown')"
    if group == "age_group" and measure.name == "referral_to_diagnosis":
        # Most referrals are ruled out and have no tumour, so no age at diagnosis: 92% read
        # "unknown" (an independent check). Their age at referral is taken from the year
        # of birth, born mid-year (exact only to within a year at a band's edge).
        key = age_group_sql("coalesce(t.age_at_diagnosis, floor(date_diff('day', "
                            "make_date(pt.year_of_birth, 7, 2), r.referral_date) / 365.25))")
    # Typed: with no cancer data yet the parameter is NULL, and NULL - INTERVAL is
    # ambiguous to DuckDB (the journeys page was a 500 on such a workspace: a check).
    recent = (f"{measure.start} > CAST($data_end AS DATE) - INTERVAL "
              f"{int(measure.standard_days)} DAY"
              if measure.standard_days is not None else "FALSE")
    return (
        f"SELECT {key} AS grp, date_diff('day', {measure.start}, {measure.end}) AS days, "
        f"coalesce({recent}, FALSE) AS recent "
        f"FROM {measure.source} {locality_join(practice, measure.start)} "
        f"WHERE {measure.where} AND {measure.start} BETWEEN $start AND $end"
    )


def _params(measure: WaitMeasure, start: date, end: date, data_end: date | None) -> dict:
    """Query parameters: the data's end only where a standard uses it (DuckDB refuses a
    parameter the query does not name)."""
    params = {"start": start, "end": end}
    return params if measure.standard_days is None else {**params, "data_end": data_end}


def wait_summary(con: duckdb.DuckDBPyConnection, measure: str, *, start: date, end: date,
                 group: str = "all", data_end: date | None = None) -> pd.DataFrame:
    """One row per group: completed waits, pending and negative counts, quartiles, 90th
    centile, mean, and the number and share (Wilson 95% CI) within the standard. Waits
    begun within the standard's days of ``data_end`` (default: the latest referral or
    diagnosis) are counted as ``too_recent`` and in nothing else."""
    check_choice(measure, MEASURES, "measure", "waits")
    check_choice(group, GROUPS, "group", "waits")
    check_period(start, end, "waits")
    m = MEASURES[measure]
    standard = m.standard_days if m.standard_days is not None else "NULL"
    data_end = data_end or latest_date(con, "cancer")
    judged = "NOT recent AND days"  # old enough to judge, and ended (or not)
    sql = f"""
    WITH w AS ({_base_sql(m, group)})
    SELECT grp AS "group",
           count(days) FILTER (WHERE {judged} >= 0) AS completed,
           count(*) FILTER (WHERE NOT recent AND days IS NULL) AS pending,
           count(*) FILTER (WHERE {judged} < 0) AS negative,
           count(*) FILTER (WHERE recent) AS too_recent,
           quantile_cont(days, 0.25) FILTER (WHERE {judged} >= 0) AS p25,
           quantile_cont(days, 0.5) FILTER (WHERE {judged} >= 0) AS median,
           quantile_cont(days, 0.75) FILTER (WHERE {judged} >= 0) AS p75,
           quantile_cont(days, 0.9) FILTER (WHERE {judged} >= 0) AS p90,
           avg(days) FILTER (WHERE {judged} >= 0) AS mean,
           count(*) FILTER (WHERE {judged} >= 0 AND days <= {standard}) AS within_standard
    FROM w GROUP BY grp ORDER BY grp
    """
    df = con.execute(sql, _params(m, start, end, data_end)).df()
    df.insert(0, "measure", measure)
    df["standard_days"] = m.standard_days
    if m.standard_days is None:
        df["within_standard"] = pd.NA
        return df
    return with_wilson(df, "within_standard", "completed", prefix="within_standard_")


def wait_histogram(con: duckdb.DuckDBPyConnection, measure: str, *, start: date, end: date,
                   bin_days: int = HISTOGRAM_BIN_DAYS) -> pd.DataFrame:
    """Completed waits counted in bins of ``bin_days`` (0-6, 7-13, ... days)."""
    check_choice(measure, MEASURES, "measure", "waits")
    check_period(start, end, "waits")
    if bin_days < 1:
        raise ValueError(f"bin_days must be >= 1, got {bin_days}")
    sql = f"""
    WITH w AS ({_base_sql(MEASURES[measure], 'all')})
    SELECT (days // {int(bin_days)}) * {int(bin_days)} AS bin_start, count(*) AS waits
    FROM w WHERE NOT recent AND days >= 0 GROUP BY 1 ORDER BY 1
    """
    return con.execute(sql, _params(MEASURES[measure], start, end,
                                    latest_date(con, "cancer"))).df()
