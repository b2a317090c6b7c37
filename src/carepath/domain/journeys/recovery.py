"""Recovery Package and stratified follow-up coverage, by tumour group, trust, locality, age
and deprivation, with an equity view of where support depends on cancer or trust.

The cohort is the tumours diagnosed in a period. An element counts as recorded when an
event of that type for the person (for this tumour, or not tied to a tumour) is on or after
diagnosis (less a small tolerance) and was not recorded as ``not_offered``. Each element
has a due time (``DUE_DAYS``: a holistic needs assessment 90 days after diagnosis, a cancer
care review 365) and counts only the tumours it has fallen due for by ``as_of``; the others are ``not_due``, in no
denominator (the latest year's reviews read 29% beside 68% the year before: a walkthrough).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from carepath.domain.journeys._shared import (
    age_group_sql,
    check_period,
    locality_join,
    with_wilson,
)
from carepath.domain.journeys.gaps import ELEMENT_DUE_DAYS, ELEMENT_EARLY_TOLERANCE_DAYS
from carepath.errors import ValidationError

# Elements reported, in the order a person meets them. ``follow_up_pathway`` is any
# stratified follow-up decision; ``supported_self_management`` the share stratified to it.
ELEMENTS = ("hna", "care_plan", "treatment_summary", "cancer_care_review", "health_wellbeing",
            "follow_up_pathway", "supported_self_management")
DIMENSIONS = {
    "all": "'all'",
    "tumour_group": "t.tumour_group",
    "trust": "coalesce(t.diagnosing_trust, 'unknown')",
    "locality": "coalesce(loc.parent_code, 'unknown')",
    "age_group": age_group_sql("t.age_at_diagnosis"),
    "imd_quintile": "coalesce(CAST(p.imd_quintile AS VARCHAR), 'unknown')",
}
# When each element is due after diagnosis: the gaps rules' times, and for the elements at
# the end of treatment (health and wellbeing event, follow-up decision) the first year, as
# for the cancer care review: counted sooner, the latest year's follow-up read 15% beside
# 26% the year before (a walkthrough).
END_OF_TREATMENT_DAYS = 365
DUE_DAYS = {**ELEMENT_DUE_DAYS, "health_wellbeing": END_OF_TREATMENT_DAYS,
            "follow_up_pathway": END_OF_TREATMENT_DAYS,
            "supported_self_management": END_OF_TREATMENT_DAYS}
# Stratified follow-up is established for these tumour groups only (NHS England's
# personalised stratified follow-up: breast, colorectal and prostate); elsewhere there is no
# decision to record, and counting every group read 25% beside 58% where it applies (an
# independent check).
STRATIFIED_FOLLOW_UP_GROUPS = ("breast", "lower_gi", "urological")
FOLLOW_UP_ELEMENTS = ("follow_up_pathway", "supported_self_management")
# Element states per tumour (``recorded`` before counting): not due is NULL.
RECORDED, NOT_RECORDED, NOT_ELIGIBLE = 1, 0, -1
# Equity view: a group is flagged when its interval lies wholly below (or above) the
# overall value; heterogeneity across groups is tested with a chi-square test.
EQUITY_SIGNIFICANCE = 0.05


def _flags_sql() -> str:
    flags = ",\n".join(
        f"bool_or(e.event_type = '{el}') AS {el}" for el in ELEMENTS[:-1])
    dims = ",\n".join(f'{sql} AS "{name}"' for name, sql in DIMENSIONS.items())
    return f"""
    WITH cohort AS (
      SELECT t.tumour_id, t.patient_id, t.diagnosis_date, d.date_of_death,
             t.tumour_id IN (SELECT tumour_id FROM treatments) AS treated, {dims}
      FROM tumours t LEFT JOIN patients p ON p.patient_id = t.patient_id
      LEFT JOIN deaths d ON d.patient_id = t.patient_id
      {locality_join('t.practice_code', 't.diagnosis_date')}
      WHERE t.diagnosis_date BETWEEN $start AND $end),
    ev AS (
      SELECT c.tumour_id, {flags},
             bool_or(e.event_type = 'follow_up_pathway'
                     AND e.follow_up_pathway = 'supported_self_management')
               AS supported_self_management
      FROM cohort c JOIN care_events e ON e.patient_id = c.patient_id
       AND (e.tumour_id = c.tumour_id OR e.tumour_id IS NULL)
       AND e.event_date >= c.diagnosis_date - INTERVAL ({ELEMENT_EARLY_TOLERANCE_DAYS}) DAY
       AND e.event_date <= $as_of  -- as things stood then, as `pathway gaps` counts
       AND coalesce(e.cosd_status, '') <> 'not_offered'
      GROUP BY c.tumour_id)
    SELECT c.*, {', '.join(_element_sql(el) for el in ELEMENTS)}
    FROM cohort c LEFT JOIN ev USING (tumour_id)
    """


def all_due_by(as_of: date) -> date:
    """The last diagnosis date every element has fallen due for by ``as_of``: the end of
    the latest cohort whose coverage is complete (the CLI's default year, the page's link)."""
    return as_of - timedelta(days=max(DUE_DAYS.values()))


def _element_sql(element: str) -> str:
    """``RECORDED``, ``NOT_RECORDED``, ``NOT_ELIGIBLE`` (not recorded, and the person died
    before it fell due, was never treated for a treatment summary, has a cancer without
    stratified follow-up, or for supported self-management had no follow-up decision), or
    NULL: not yet due. Those who died or were untreated stayed in the denominators, so a
    review read 68.3% where 84.5% of those alive for it had one (an independent check, and
    as `pathway gaps` counts)."""
    due = f"c.diagnosis_date + INTERVAL ({DUE_DAYS[element]}) DAY"
    ineligible = [f"c.date_of_death <= {due}"]
    if element == "treatment_summary":
        ineligible.append("NOT c.treated")
    if element in FOLLOW_UP_ELEMENTS:
        groups = ", ".join(f"'{g}'" for g in STRATIFIED_FOLLOW_UP_GROUPS)
        ineligible.append(f'coalesce(c."tumour_group" NOT IN ({groups}), true)')
    if element == "supported_self_management":
        ineligible.append("NOT coalesce(ev.follow_up_pathway, false)")
    return (f"CASE WHEN {due} > $as_of THEN NULL "
            f"WHEN coalesce(ev.{element}, false) THEN {RECORDED} "
            f"WHEN {' OR '.join(f'coalesce({x}, false)' for x in ineligible)} "
            f"THEN {NOT_ELIGIBLE} ELSE {NOT_RECORDED} END AS {element}")


def coverage(con: duckdb.DuckDBPyConnection, *, start: date, end: date, as_of: date
             ) -> pd.DataFrame:
    """Long table: dimension, group, element, recorded, denominator, not_due, not_eligible,
    value, lower, upper; ``as_of``: the date elements have fallen due by (the latest in the
    data). Supported self-management is a share of the follow-up decisions."""
    check_period(start, end, "recovery package")
    if as_of < start:  # every element would be not due: a table of nothing (a review)
        raise ValidationError(f"as of {as_of} is before the period starts ({start}): no "
                              "element could have fallen due", where="--as-of")
    dims = ", ".join(f'"{d}"' for d in DIMENSIONS)
    els = ", ".join(ELEMENTS)
    df = con.execute(f"""
        WITH base AS ({_flags_sql()}),
        long AS (UNPIVOT (SELECT * FROM base UNPIVOT INCLUDE NULLS
                          (recorded FOR element IN ({els})))
                 ON {dims} INTO NAME dimension VALUE "group")
        SELECT dimension, "group", element,
               count(*) FILTER (WHERE recorded = {RECORDED}) AS recorded,
               count(*) FILTER (WHERE recorded IN ({RECORDED}, {NOT_RECORDED}))
                 AS denominator,
               count(*) FILTER (WHERE recorded IS NULL) AS not_due,
               count(*) FILTER (WHERE recorded = {NOT_ELIGIBLE}) AS not_eligible
        FROM long GROUP BY ALL
    """, {"start": start, "end": end, "as_of": as_of}).df()
    order = {"dimension": list(DIMENSIONS), "element": list(ELEMENTS)}
    df = df.sort_values(["dimension", "element", "group"],
                        key=lambda s: s.map({v: i for i, v in enumerate(order[s.name])})
                        if s.name in order else s).reset_index(drop=True)
    return with_wilson(df, "recorded", "denominator")


def equity_view(cov: pd.DataFrame) -> pd.DataFrame:
    """For each element and dimension: the spread between groups, a chi-square test of
    whether coverage depends on the dimension, and the groups significantly below and above
    the overall figure. Sorted so the widest significant gaps come first."""
    overall = cov[cov["dimension"] == "all"].set_index("element")["value"]
    rows = []
    for (dim, el), g in cov[cov["dimension"] != "all"].groupby(["dimension", "element"]):
        g = g[g["denominator"] > 0]
        if len(g) < 2:
            continue
        ref = overall.get(el, np.nan)
        rows.append({
            "element": el, "dimension": dim, "groups": len(g), "overall": ref,
            "lowest": g["value"].min(), "highest": g["value"].max(),
            "range": g["value"].max() - g["value"].min(),
            "p_value": _heterogeneity_p(g),
            "below": ", ".join(g.loc[g["upper"] < ref, "group"].astype(str)),
            "above": ", ".join(g.loc[g["lower"] > ref, "group"].astype(str)),
        })
    out = pd.DataFrame(rows, columns=["element", "dimension", "groups", "overall", "lowest",
                                      "highest", "range", "p_value", "below", "above"])
    out["depends"] = out["p_value"] < EQUITY_SIGNIFICANCE
    return out.sort_values(["depends", "range"], ascending=[False, False]).reset_index(drop=True)


def _heterogeneity_p(g: pd.DataFrame) -> float:
    table = np.column_stack([g["recorded"], g["denominator"] - g["recorded"]]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # everyone or no one recorded: coverage cannot depend on group
        return 1.0
    return float(chi2_contingency(table, correction=False)[1])
