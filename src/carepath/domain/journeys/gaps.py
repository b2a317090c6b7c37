"""People who fell between services.

Three rules, counted for everyone and listed (person by person) only for callers with
person-level authority, every list audited:

* ``no_contact`` — a pathway (a tumour from diagnosis for up to ``ACTIVE_PATHWAY_DAYS``,
  ending early at death) with a stretch of more than ``no_contact_days`` without any
  recorded contact: referral, outpatient visit, treatment, personalised-care event,
  admission or EoL register entry. It is due once the pathway is over by ``as_of`` and
  only if it lasted more than ``no_contact_days``.
* ``missing_<element>`` — a Recovery Package element (HNA, care plan, treatment summary,
  cancer care review) not recorded by the time it was due. An event recorded as
  ``not_offered`` does not count: the person was not offered it. One extra rule,
  ``missing_any_rp_element``, counts pathways missing at least one due element.
* ``death_without_eol_register`` — a death (not from an external cause) of someone not on
  the EoL register when they died (never entered, or removed before).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from carepath.domain.journeys._shared import (
    ON_REGISTER_AT_DEATH,
    check_choice,
    check_period,
    locality_join,
    not_external_cause,
    require_person_level,
    with_wilson,
)
from carepath.errors import ValidationError
from carepath.workspace import Workspace

DEFAULT_NO_CONTACT_DAYS = 90
# A cancer pathway counts as active for the first year after diagnosis.
ACTIVE_PATHWAY_DAYS = 365
# An element recorded up to this many days before the diagnosis date still counts (an HNA
# is often offered at the diagnosis appointment, recorded against a provisional date).
ELEMENT_EARLY_TOLERANCE_DAYS = 31
# Days after diagnosis by which each element is due (HNA and care plan around diagnosis;
# treatment summary at the end of a first course; cancer care review within 12 months).
ELEMENT_DUE_DAYS = {
    "hna": 90,
    "care_plan": 90,
    "treatment_summary": 270,
    "cancer_care_review": 365,
}
# Elements only due for people who were treated.
TREATED_ONLY_ELEMENTS = ("treatment_summary",)
RULES = ("no_contact", *(f"missing_{e}" for e in ELEMENT_DUE_DAYS), "missing_any_rp_element",
         "death_without_eol_register")
GROUPS = {
    "all": "'all'",
    "tumour_group": "coalesce(tumour_group, 'none')",
    "trust": "coalesce(trust, 'unknown')",
    "locality": "coalesce(locality, 'unknown')",
}

_CONTACTS = """
SELECT patient_id, referral_date AS d FROM referrals
UNION ALL SELECT patient_id, first_seen_date FROM referrals WHERE first_seen_date IS NOT NULL
UNION ALL SELECT patient_id, start_date FROM treatments
UNION ALL SELECT patient_id, event_date FROM care_events
UNION ALL SELECT patient_id, admission_date FROM admissions
UNION ALL SELECT patient_id, discharge_date FROM admissions WHERE discharge_date IS NOT NULL
UNION ALL SELECT patient_id, entry_date FROM eol_register
"""

_COHORT = f"""
SELECT t.tumour_id, t.patient_id, t.tumour_group, t.diagnosing_trust AS trust,
       loc.parent_code AS locality, t.diagnosis_date, d.date_of_death
FROM tumours t LEFT JOIN deaths d ON d.patient_id = t.patient_id
{locality_join('t.practice_code', 't.diagnosis_date')}
WHERE t.diagnosis_date BETWEEN $start AND $end AND t.diagnosis_date <= $as_of
"""


# The rules share one WITH chain, so the cohort and the missing-element rows are computed
# once even though several rules read them.
def _no_contact_ctes() -> str:
    return f"""
    win AS (SELECT *, least(diagnosis_date + INTERVAL ({ACTIVE_PATHWAY_DAYS}) DAY,
                            coalesce(date_of_death, $as_of), $as_of)::DATE AS window_end
            FROM cohort),
    pts AS (
      SELECT w.tumour_id, c.d FROM win w JOIN ({_CONTACTS}) c
        ON c.patient_id = w.patient_id AND c.d > w.diagnosis_date AND c.d < w.window_end
      UNION ALL SELECT tumour_id, diagnosis_date FROM win
      UNION ALL SELECT tumour_id, window_end FROM win),
    gaps AS (SELECT tumour_id, max(date_diff('day', prev, d)) AS longest_gap_days
             FROM (SELECT tumour_id, d, lag(d) OVER (PARTITION BY tumour_id ORDER BY d) AS prev
                   FROM pts) GROUP BY tumour_id),
    no_contact AS (
      SELECT 'no_contact' AS rule, w.patient_id, w.tumour_id, w.tumour_group, w.trust,
             w.locality, coalesce(g.longest_gap_days, 0) > $days AS flagged,
             'longest gap ' || coalesce(g.longest_gap_days, 0) || ' days' AS detail
      FROM win w LEFT JOIN gaps g USING (tumour_id)
      -- Due, as the elements are: the active year over by as_of (or ended by death), and
      -- long enough to hold a gap. Cut short by as_of, pathways that could not yet be
      -- flagged filled the denominator (33% against 78% for a year fully seen: a check).
      WHERE (w.diagnosis_date + INTERVAL ({ACTIVE_PATHWAY_DAYS}) DAY <= $as_of
             OR w.date_of_death <= $as_of)
        AND date_diff('day', w.diagnosis_date, w.window_end) > $days)"""


def _missing_element_ctes() -> str:
    due = " UNION ALL ".join(f"SELECT '{e}' AS element, {d} AS due_days"
                             for e, d in ELEMENT_DUE_DAYS.items())
    treated_only = ", ".join(f"'{e}'" for e in TREATED_ONLY_ELEMENTS)
    return f"""
    treated AS (SELECT DISTINCT tumour_id FROM treatments),
    expected AS (
      SELECT c.*, e.element, e.due_days,
             e.element NOT IN ({treated_only})
               OR c.tumour_id IN (SELECT tumour_id FROM treated) AS eligible_treated
      FROM cohort c CROSS JOIN ({due}) e
      WHERE c.diagnosis_date + INTERVAL (e.due_days) DAY <= $as_of),
    recorded AS (
      SELECT DISTINCT x.tumour_id, x.element FROM expected x JOIN care_events ev
        ON ev.patient_id = x.patient_id AND ev.event_type = x.element
       AND (ev.tumour_id = x.tumour_id OR ev.tumour_id IS NULL)
       AND ev.event_date >= x.diagnosis_date - INTERVAL ({ELEMENT_EARLY_TOLERANCE_DAYS}) DAY
       AND ev.event_date <= $as_of  -- as things stood then: later records did count
       AND coalesce(ev.cosd_status, '') <> 'not_offered'),
    missing AS (
      SELECT 'missing_' || x.element AS rule, x.patient_id, x.tumour_id, x.tumour_group,
             x.trust, x.locality, r.tumour_id IS NULL AS flagged,
             x.element || ' due by day ' || x.due_days AS detail
      FROM expected x LEFT JOIN recorded r USING (tumour_id, element)
      -- Someone who died before it fell due (or was never treated, for a treatment
      -- summary) is in no denominator, unless they had it: as the Recovery Package
      -- counts them, so missing and recorded make the whole (a walkthrough read 50.8%
      -- missing beside 51.3% recorded).
      WHERE r.tumour_id IS NOT NULL
         OR ((x.date_of_death IS NULL
              OR x.date_of_death > x.diagnosis_date + INTERVAL (x.due_days) DAY)
             AND x.eligible_treated)),
    missing_any AS (
      SELECT 'missing_any_rp_element' AS rule, patient_id, tumour_id,
             any_value(tumour_group) AS tumour_group, any_value(trust) AS trust,
             any_value(locality) AS locality, bool_or(flagged) AS flagged,
             string_agg(CASE WHEN flagged THEN replace(rule, 'missing_', '') END, ', ')
               AS detail
      FROM missing GROUP BY patient_id, tumour_id)"""


def _death_without_register_cte() -> str:
    return f"""
    death_no_register AS (
      SELECT 'death_without_eol_register' AS rule, d.patient_id, NULL AS tumour_id,
             t.tumour_group, NULL AS trust, loc.parent_code AS locality,
             NOT EXISTS (SELECT 1 FROM eol_register e WHERE e.patient_id = d.patient_id
                         AND {ON_REGISTER_AT_DEATH}) AS flagged,
             'died ' || d.place_of_death AS detail
      FROM deaths d
      LEFT JOIN (SELECT patient_id, arg_min(tumour_group, diagnosis_date) AS tumour_group
                 FROM tumours GROUP BY patient_id) t ON t.patient_id = d.patient_id
      {locality_join('d.practice_code', 'd.date_of_death')}
      WHERE d.date_of_death BETWEEN $start AND $end AND d.date_of_death <= $as_of
        AND {not_external_cause('d.underlying_cause')})"""


def _all_rules_sql() -> str:
    return f"""
    WITH cohort AS ({_COHORT}),
    {_no_contact_ctes()},
    {_missing_element_ctes()},
    {_death_without_register_cte()}
    SELECT * FROM no_contact UNION ALL SELECT * FROM missing
    UNION ALL SELECT * FROM missing_any UNION ALL SELECT * FROM death_no_register"""


@dataclass(frozen=True)
class FellBetween:
    counts: pd.DataFrame  # rule, group, flagged, denominator, value, lower, upper
    lists: pd.DataFrame | None  # person-level rows; None unless the caller may see them


def _params(start: date, end: date, as_of: date, no_contact_days: int) -> dict:
    check_period(start, end, "fell between services")
    if as_of < start:  # every count was 0 and read as nobody falling (a walkthrough)
        raise ValidationError(f"as of {as_of} is before the period starts ({start}): "
                              "nothing in it could have fallen due yet",
                              where="fell between services")
    if no_contact_days < 1:
        raise ValueError(f"no_contact_days must be >= 1, got {no_contact_days}")
    return {"start": start, "end": end, "as_of": as_of, "days": no_contact_days}


def fell_between_counts(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                        as_of: date, no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
                        group: str = "all") -> pd.DataFrame:
    """Counts for every rule (and group): pathways or deaths flagged, out of those the rule
    applies to, with the share and its Wilson 95% interval. Safe for every role."""
    check_choice(group, GROUPS, "group", "fell between services")
    params = _params(start, end, as_of, no_contact_days)
    df = con.execute(f"""
        SELECT rule, {GROUPS[group]} AS "group", count(*) FILTER (WHERE flagged) AS flagged,
               count(*) AS denominator
        FROM ({_all_rules_sql()}) GROUP BY ALL ORDER BY rule, "group"
    """, params).df()
    if group == "all":
        # A rule nobody was due for yet is reported with a zero denominator and a missing
        # value, so a reader sees it was checked rather than wondering where it went.
        absent = [r for r in RULES if r not in set(df["rule"])]
        df = pd.concat([df, pd.DataFrame({"rule": absent, "group": "all", "flagged": 0,
                                          "denominator": 0})], ignore_index=True)
        df = df.sort_values("rule", key=lambda s: s.map(RULES.index)).reset_index(drop=True)
    return with_wilson(df, "flagged", "denominator")


def fell_between_lists(ws: Workspace, *, start: date, end: date, as_of: date,
                       actor: str, can_see_person_level: bool,
                       no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
                       con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The flagged people themselves (pseudonyms), for authorised roles. The list and its
    audit event share one connection (pass the web server's to avoid reopening)."""
    require_person_level(can_see_person_level, "the list of people who fell between services")
    if not actor or not actor.strip():
        raise ValidationError("an actor is required for person-level views", where="audit")
    params = _params(start, end, as_of, no_contact_days)
    if con is None:
        with ws.transaction() as own:
            return _list(ws, own, params, actor)
    return _list(ws, con, params, actor)


def _list(ws: Workspace, con: duckdb.DuckDBPyConnection, params: dict,
          actor: str) -> pd.DataFrame:
    df = con.execute(f"SELECT * EXCLUDE (flagged) FROM ({_all_rules_sql()}) "
                     "WHERE flagged ORDER BY rule, patient_id, tumour_id", params).df()
    ws.audit(con, actor=actor, action="fell_between.list", target=None,
             detail=json.dumps({**params, "rows": len(df)}, default=str, sort_keys=True))
    return df


def fell_between_services(ws: Workspace, *, start: date, end: date, as_of: date,
                          actor: str, can_see_person_level: bool,
                          no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
                          group: str = "all") -> FellBetween:
    """Counts for all callers; lists too when the caller may see person-level data."""
    with ws.connect(read_only=True) as con:
        counts = fell_between_counts(con, start=start, end=end, as_of=as_of,
                                     no_contact_days=no_contact_days, group=group)
    lists = None
    if can_see_person_level:
        lists = fell_between_lists(ws, start=start, end=end, as_of=as_of, actor=actor,
                                   can_see_person_level=True, no_contact_days=no_contact_days)
    return FellBetween(counts, lists)
