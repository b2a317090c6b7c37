"""End-of-life measures over the people who died in a period, leaving out deaths from external
causes (sudden deaths; see ``not_external_cause``).

Definitions (one row per death):

* *on register*: on the EoL register when they died: an entry dated on or before the death
  and not removed before it (as the indicator ``eol_register_before_death``);
* *preference recorded*: a preferred place other than ``not_stated`` recorded on or before
  the death; the latest such preference is the one that counts;
* *achieved*: the place of death equals that preferred place;
* *last 90 days*: emergency admissions starting in the 90 days up to and including the
  death, and bed days (any admission) falling inside that window.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from carepath.domain.journeys._shared import (
    ON_REGISTER_AT_DEATH,
    age_group_sql,
    check_choice,
    check_period,
    financial_year_sql,
    locality_join,
    not_external_cause,
    with_wilson,
)
from carepath.model.codes import USUAL_RESIDENCE_PLACES

LAST_DAYS_WINDOW = 90
# The ambition that "90% of people die where they chose".
PLACE_OF_CHOICE_TARGET = 0.9
# ICD-10 chapter C (malignant neoplasms) marks a cancer death.
CANCER_CAUSE_PREFIX = "C"
GROUPS = {
    "all": "'all'",
    "locality": "coalesce(loc.parent_code, 'unknown')",
    "practice": "d.practice_code",
    "cause": f"CASE WHEN d.underlying_cause LIKE '{CANCER_CAUSE_PREFIX}%' THEN 'cancer' "
             "WHEN d.underlying_cause IS NULL THEN 'unknown' ELSE 'other' END",
    "age_group": age_group_sql("d.age_at_death"),
    "imd_quintile": "coalesce(CAST(p.imd_quintile AS VARCHAR), 'unknown')",
    "year": financial_year_sql("d.date_of_death"),
    "place_of_death": "d.place_of_death",
}
_RESIDENCE = ", ".join(f"'{p}'" for p in USUAL_RESIDENCE_PLACES)


def _per_death_sql(group: str) -> str:
    return f"""
    WITH d AS (SELECT * FROM deaths WHERE date_of_death BETWEEN $start AND $end
               AND {not_external_cause('underlying_cause')}),
    reg AS (SELECT DISTINCT e.patient_id FROM eol_register e JOIN d USING (patient_id)
            WHERE {ON_REGISTER_AT_DEATH}),
    pref AS (SELECT pr.patient_id, arg_max(pr.preferred_place, pr.date_recorded) AS preferred
             FROM preferences pr JOIN d USING (patient_id)
             WHERE pr.date_recorded <= d.date_of_death AND pr.preferred_place <> 'not_stated'
             GROUP BY pr.patient_id),
    adm AS (
      SELECT a.patient_id,
             count(*) FILTER (WHERE a.admission_type = 'emergency' AND a.admission_date >
               d.date_of_death - INTERVAL ({LAST_DAYS_WINDOW}) DAY) AS emergency_admissions,
             sum(greatest(0, date_diff('day',
                   greatest(a.admission_date,
                            (d.date_of_death - INTERVAL ({LAST_DAYS_WINDOW}) DAY)::DATE),
                   least(coalesce(a.discharge_date,
                                  a.admission_date + INTERVAL (coalesce(a.bed_days, 0)) DAY),
                         d.date_of_death)))) AS bed_days
      FROM admissions a JOIN d USING (patient_id)
      WHERE a.admission_date <= d.date_of_death
        AND coalesce(a.discharge_date, a.admission_date + INTERVAL (coalesce(a.bed_days, 0))
                     DAY) > d.date_of_death - INTERVAL ({LAST_DAYS_WINDOW}) DAY
      GROUP BY a.patient_id)
    SELECT {GROUPS[group]} AS "group", d.patient_id, d.place_of_death,
           reg.patient_id IS NOT NULL AS on_register, pref.preferred,
           pref.preferred = d.place_of_death AS achieved,
           coalesce(adm.emergency_admissions, 0) AS emergency_admissions,
           coalesce(adm.bed_days, 0) AS bed_days
    FROM d LEFT JOIN patients p ON p.patient_id = d.patient_id
    LEFT JOIN reg ON reg.patient_id = d.patient_id
    LEFT JOIN pref ON pref.patient_id = d.patient_id
    LEFT JOIN adm ON adm.patient_id = d.patient_id
    {locality_join('d.practice_code', 'd.date_of_death')}
    """


def _params(start: date, end: date, group: str) -> dict:
    check_period(start, end, "end of life")
    check_choice(group, GROUPS, "group", "end of life")
    return {"start": start, "end": end}


def eol_summary(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                group: str = "all") -> pd.DataFrame:
    """Per group: deaths; on register, preference recorded, achieved, died in hospital, died
    in usual residence, with an emergency admission in the last 90 days (counts, shares with
    Wilson 95% intervals); emergency admissions and bed days in the last 90 days."""
    params = _params(start, end, group)
    df = con.execute(f"""
        SELECT "group", count(*) AS deaths,
               count(*) FILTER (WHERE on_register) AS on_register,
               count(preferred) AS preference_recorded,
               count(*) FILTER (WHERE achieved) AS achieved,
               count(*) FILTER (WHERE place_of_death = 'hospital') AS died_in_hospital,
               count(*) FILTER (WHERE place_of_death IN ({_RESIDENCE}))
                 AS died_in_usual_residence,
               count(*) FILTER (WHERE emergency_admissions > 0) AS with_emergency_admission,
               sum(emergency_admissions) AS emergency_admissions,
               sum(bed_days) AS bed_days_last_90
        FROM ({_per_death_sql(group)}) GROUP BY "group" ORDER BY "group"
    """, params).df()
    for col in ("on_register", "preference_recorded", "died_in_hospital",
                "died_in_usual_residence", "with_emergency_admission"):
        df = with_wilson(df, col, "deaths", prefix=f"{col}_")
    df = with_wilson(df, "achieved", "preference_recorded", prefix="achieved_")
    df["bed_days_per_death"] = df["bed_days_last_90"] / df["deaths"]
    return df


def place_of_death(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                   group: str = "all") -> pd.DataFrame:
    """Deaths by place within each group, with shares (a place nobody died in shows 0)."""
    params = _params(start, end, group)
    from carepath.model.codes import PLACES_OF_DEATH

    places = " UNION ALL ".join(f"SELECT '{p}' AS place" for p in PLACES_OF_DEATH)
    df = con.execute(f"""
        WITH x AS ({_per_death_sql(group)}),
        g AS (SELECT "group", count(*) AS total FROM x GROUP BY ALL)
        SELECT g."group", pl.place, count(x.patient_id) AS deaths, any_value(g.total) AS total
        FROM g CROSS JOIN ({places}) pl
        LEFT JOIN x ON x."group" = g."group" AND x.place_of_death = pl.place
        GROUP BY ALL ORDER BY g."group", pl.place
    """, params).df()
    return with_wilson(df, "deaths", "total")


def preference_vs_actual(con: duckdb.DuckDBPyConnection, *, start: date,
                         end: date) -> pd.DataFrame:
    """Cross-tab of preferred place (or 'not_recorded') against actual place of death."""
    params = _params(start, end, "all")
    return con.execute(f"""
        SELECT coalesce(preferred, 'not_recorded') AS preferred, place_of_death AS actual,
               count(*) AS deaths
        FROM ({_per_death_sql('all')}) GROUP BY ALL ORDER BY ALL
    """, params).df()


def choice_progress(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                    group: str = "all", target: float = PLACE_OF_CHOICE_TARGET
                    ) -> pd.DataFrame:
    """Progress towards dying where people chose, per group: the share achieved among those
    with a recorded preference and among all deaths (not recording a preference is part of
    the gap), the people short of the target, and whether the group is significantly below
    the target and below the overall figure. Status: ``met`` where the 95% interval lies at
    or above the target, ``at_target_within_uncertainty`` where the value does but its
    interval reaches below, ``significantly_below_target``, ``below_target``."""
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    s = eol_summary(con, start=start, end=end, group=group)
    everyone = eol_summary(con, start=start, end=end)["achieved_value"]
    # No deaths in the period: no groups and no overall figure (it was a 500: a review).
    overall = everyone.iloc[0] if len(everyone) else np.nan
    out = s[["group", "deaths", "preference_recorded", "achieved", "achieved_value",
             "achieved_lower", "achieved_upper"]].copy()
    out = with_wilson(out, "achieved", "deaths", prefix="achieved_of_all_")
    out["target"] = target
    out["people_short"] = np.maximum(
        0, np.ceil(target * out["preference_recorded"] - 1e-9) - out["achieved"]).astype(int)
    # "Met" only where the interval says so: 1 of 1 read "met" (an independent check).
    out["status"] = np.select(
        [out["achieved_value"].isna(), out["achieved_lower"] >= target,
         out["achieved_value"] >= target, out["achieved_upper"] < target],
        ["no_preferences", "met", "at_target_within_uncertainty",
         "significantly_below_target"], "below_target")
    out["below_overall"] = out["achieved_upper"] < overall
    return out
