"""A person's journey across providers on one timeline (person-level; every view audited).

Referral, diagnosis, treatments, personalised-care events, EoL register and preferences,
admissions and death come from their own tables and are put in date order. Events that are
out of order (a treatment before its diagnosis, a discharge before its admission) or after
death are kept and flagged, never dropped: they are data-quality findings.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from carepath.domain.journeys._shared import require_person_level
from carepath.errors import ValidationError
from carepath.ingest.nhs_number import looks_like_nhs_number
from carepath.workspace import Workspace

# Stage order breaks ties between events on the same day (a referral comes before the
# diagnosis it led to; death comes last).
STAGES = ("referral", "diagnosis", "treatment", "personalised_care", "admission", "eol",
          "death")

# Each table is read once with only the pseudonym as filter, so DuckDB answers it from the
# patient_id index; the branches below then work on those few rows. (An extra condition in
# the same WHERE would turn the index lookup into a scan of the whole table.)
_EVENTS_SQL = """
WITH r AS MATERIALIZED (SELECT * FROM referrals WHERE patient_id = $pid),
tu AS MATERIALIZED (SELECT * FROM tumours WHERE patient_id = $pid),
tr AS MATERIALIZED (SELECT * FROM treatments WHERE patient_id = $pid),
ce AS MATERIALIZED (SELECT * FROM care_events WHERE patient_id = $pid),
ad AS MATERIALIZED (SELECT * FROM admissions WHERE patient_id = $pid),
er AS MATERIALIZED (SELECT * FROM eol_register WHERE patient_id = $pid),
pr AS MATERIALIZED (SELECT * FROM preferences WHERE patient_id = $pid),
de AS MATERIALIZED (SELECT * FROM deaths WHERE patient_id = $pid)
SELECT referral_date AS date, 'referral' AS stage, 'referral_' || referral_type AS event,
       practice_code AS org_code, coalesce(suspected_site, '') AS detail,
       'referrals' AS source, referral_id AS source_id, NULL::DATE AS ref_date
  FROM r
UNION ALL
SELECT first_seen_date, 'referral', 'first_seen', first_seen_provider, '', 'referrals',
       referral_id, referral_date FROM r WHERE first_seen_date IS NOT NULL
UNION ALL
SELECT faster_diagnosis_date, 'diagnosis', 'faster_diagnosis_outcome', first_seen_provider,
       coalesce(outcome, ''), 'referrals', referral_id, referral_date
  FROM r WHERE faster_diagnosis_date IS NOT NULL
UNION ALL
SELECT diagnosis_date, 'diagnosis', 'diagnosis', diagnosing_trust,
       tumour_group || ' stage ' || stage || ' via ' || route, 'tumours', tumour_id, NULL
  FROM tu
UNION ALL
SELECT decision_to_treat_date, 'treatment', 'decision_to_treat', diagnosing_trust,
       tumour_group, 'tumours', tumour_id, diagnosis_date
  FROM tu WHERE decision_to_treat_date IS NOT NULL
UNION ALL
SELECT tr.start_date, 'treatment', 'treatment', tr.provider_code,
       tr.modality || CASE WHEN tr.first_treatment THEN ' (first definitive)' ELSE '' END,
       'treatments', tr.treatment_id, tx.diagnosis_date
  FROM tr LEFT JOIN (SELECT tumour_id, diagnosis_date FROM tu) tx USING (tumour_id)
UNION ALL
SELECT event_date, 'personalised_care', event_type, provider_code,
       coalesce(cosd_status, '') || coalesce(' ' || follow_up_pathway, ''), 'care_events',
       event_id, NULL FROM ce
UNION ALL
SELECT admission_date, 'admission', 'admission_' || admission_type, provider_code,
       coalesce(bed_days::VARCHAR || ' bed days', ''), 'admissions', admission_id, NULL
  FROM ad
UNION ALL
SELECT discharge_date, 'admission', 'discharge', provider_code, '', 'admissions',
       admission_id, admission_date FROM ad WHERE discharge_date IS NOT NULL
UNION ALL
SELECT entry_date, 'eol', 'eol_register_entry', practice_code, '', 'eol_register',
       NULL, NULL FROM er
UNION ALL
SELECT exit_date, 'eol', 'eol_register_exit', practice_code, '', 'eol_register', NULL,
       entry_date FROM er WHERE exit_date IS NOT NULL
UNION ALL
SELECT date_recorded, 'eol', 'preferred_place_recorded', NULL, preferred_place,
       'preferences', NULL, NULL FROM pr
UNION ALL
SELECT date_of_death, 'death', 'death', practice_code, place_of_death, 'deaths', NULL, NULL
  FROM de
"""

TIMELINE_COLUMNS = ("date", "stage", "event", "org_code", "org_name", "detail", "source",
                    "source_id", "flag")


# Person-level tables looked up by pseudonym. An ART index on patient_id turns each branch
# of the timeline query from a scan of the whole table into a point lookup, so the journey
# page costs about the same on the county and on England.
INDEXED_TABLES = ("patients", "referrals", "tumours", "treatments", "care_events",
                  "admissions", "eol_register", "preferences", "deaths")


def ensure_person_indexes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the missing patient_id indexes (idempotent); returns the ones created."""
    have = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    made = []
    for table in INDEXED_TABLES:
        name = f"idx_{table}_patient_id"
        if name not in have:
            con.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" (patient_id)')
            made.append(name)
    return made


def person_timeline(ws: Workspace, patient_id: str, *, actor: str,
                    can_see_person_level: bool,
                    con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The person's events in date order with provider names and data-quality flags.

    Raises PersonLevelDenied for callers without person-level authority (nothing is shown,
    so nothing is audited). The read and its audit event share one transaction, so a view
    is never shown unaudited. Pass ``con`` (a writable connection, e.g. the web server's) to
    avoid opening the database again.
    """
    require_person_level(can_see_person_level, "a person's journey")
    if not patient_id or not patient_id.strip():
        raise ValidationError("a patient id (pseudonym) is required", where="journey")
    if not actor or not actor.strip():
        raise ValidationError("an actor is required for person-level views", where="journey")
    if con is None:
        with ws.transaction() as own:
            return _timeline(ws, own, patient_id, actor)
    return _timeline(ws, con, patient_id, actor)


def known_person(con: duckdb.DuckDBPyConnection, patient_id: str) -> bool:
    """Whether the workspace holds anything about this pseudonym (a search form asks
    before opening a journey, which is audited)."""
    ensure_person_indexes(con)
    if con.execute("SELECT count(*) FROM patients WHERE patient_id = ?",
                   [patient_id]).fetchone()[0]:
        return True
    return bool(con.execute(f"SELECT count(*) FROM ({_EVENTS_SQL}) e",
                            {"pid": patient_id}).fetchone()[0])


def person_in_any_case(con: duckdb.DuckDBPyConnection, typed: str) -> str | None:
    """The one person whose pseudonym is ``typed`` in another letter case (the search
    found 'PSN-1A2B' for psn-1a2b by nobody: a walkthrough); None when no one, or more
    than one, is."""
    ensure_person_indexes(con)
    found = con.execute("SELECT DISTINCT patient_id FROM patients WHERE lower(patient_id) = "
                        "lower(?) LIMIT 2", [typed]).fetchall()
    return found[0][0] if len(found) == 1 else None


NHS_NUMBER_HINT = ("that looks like an NHS number: journeys take the pseudonym a load gave "
                   "the person (NHS numbers are not kept)")


def _timeline(ws: Workspace, con: duckdb.DuckDBPyConnection, patient_id: str,
              actor: str) -> pd.DataFrame:
    ensure_person_indexes(con)
    known = con.execute("SELECT count(*) FROM patients WHERE patient_id = ?",
                        [patient_id]).fetchone()[0]
    events = con.execute(
        f"SELECT e.*, o.name AS org_name FROM ({_EVENTS_SQL}) e "
        "LEFT JOIN (SELECT org_code, arg_max(name, valid_from) AS name FROM organisations "
        "GROUP BY org_code) o USING (org_code)", {"pid": patient_id}).df()
    if not known and events.empty:
        # An NHS number given for a pseudonym found no one, unexplained (a walkthrough);
        # it is not echoed, and never looked up: journeys take pseudonyms only.
        hint = (f"; {NHS_NUMBER_HINT}" if looks_like_nhs_number(patient_id) else "")
        raise ValidationError(f"no person with this pseudonym in the workspace{hint}",
                              where="journey")
    timeline = _order_and_flag(events)
    ws.audit(con, actor=actor, action="journey.view", target=patient_id,
             detail=json.dumps({"events": len(timeline)}))
    return timeline


def _order_and_flag(events: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    ev["ref_date"] = pd.to_datetime(ev["ref_date"])
    ev["_stage_order"] = ev["stage"].map({s: i for i, s in enumerate(STAGES)})
    death = ev.loc[ev["event"] == "death", "date"].min()
    flags = pd.Series("", index=ev.index)
    flags = flags.mask(ev["date"] < ev["ref_date"], "out_of_order")
    if pd.notna(death):
        flags = flags.mask((ev["date"] > death) & (ev["event"] != "death"), "after_death")
    ev["flag"] = flags
    ev = ev.sort_values(["date", "_stage_order", "event"], kind="stable")
    ev["date"] = ev["date"].dt.date
    return ev[list(TIMELINE_COLUMNS)].reset_index(drop=True)
