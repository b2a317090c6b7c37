"""Data-quality findings on journeys: events after death, events out of order, codes outside
the code lists and references to missing rows. Ingest quarantines what it can see in one
file; these checks need several tables together, so they are reported here (counts, never
silently dropped)."""

from __future__ import annotations

import duckdb
import pandas as pd

from carepath.model.schema import TABLES_BY_NAME

# (finding, table, SQL counting the rows it applies to)
_AFTER_DEATH = {
    "referrals": "referral_date", "treatments": "start_date", "care_events": "event_date",
    "admissions": "admission_date", "eol_register": "entry_date",
    "preferences": "date_recorded",
}
_ORDER_CHECKS = (
    ("first_seen_before_referral", "referrals", "first_seen_date < referral_date"),
    ("diagnosis_outcome_before_referral", "referrals", "faster_diagnosis_date < referral_date"),
    ("discharge_before_admission", "admissions", "discharge_date < admission_date"),
    ("register_exit_before_entry", "eol_register", "exit_date < entry_date"),
    ("decision_to_treat_before_diagnosis", "tumours",
     "decision_to_treat_date < diagnosis_date"),
)
_JOURNEY_TABLES = ("referrals", "tumours", "treatments", "care_events", "hna_concerns",
                   "eol_register", "preferences", "admissions", "deaths")


def _checks() -> list[tuple[str, str, str]]:
    checks = [(f"{table}_after_death", table,
               (f"SELECT count(*) FROM {table} x JOIN deaths d USING (patient_id) "
               f"WHERE x.{col} > d.date_of_death")) for table, col in _AFTER_DEATH.items()]
    checks += [(name, table, f"SELECT count(*) FROM {table} WHERE {cond}")
               for name, table, cond in _ORDER_CHECKS]
    checks.append(("treatment_before_diagnosis", "treatments",
                   ("SELECT count(*) FROM treatments x JOIN tumours t USING (tumour_id) "
                   "WHERE x.start_date < t.diagnosis_date")))
    checks.append(("care_event_unknown_tumour", "care_events",
                   ("SELECT count(*) FROM care_events WHERE tumour_id IS NOT NULL AND "
                   "tumour_id NOT IN (SELECT tumour_id FROM tumours)")))
    checks.append(("treatment_patient_mismatch", "treatments",
                   ("SELECT count(*) FROM treatments x JOIN tumours t USING (tumour_id) "
                   "WHERE x.patient_id <> t.patient_id")))
    checks += _code_checks()
    return checks


def _code_checks() -> list[tuple[str, str, str]]:
    out = []
    for name in _JOURNEY_TABLES:
        for col in TABLES_BY_NAME[name].columns:
            if col.codes:
                allowed = ", ".join(f"'{v}'" for v in col.codes)
                out.append((f"unknown_{col.name}", name,
                            (f"SELECT count(*) FROM {name} WHERE {col.name} IS NOT NULL "
                            f"AND CAST({col.name} AS VARCHAR) NOT IN ({allowed})")))
    return out


def findings(con: duckdb.DuckDBPyConnection, *, include_zero: bool = False) -> pd.DataFrame:
    """One row per check: finding, table, rows affected (counts only; no person ids)."""
    rows = [(name, table, con.execute(sql).fetchone()[0]) for name, table, sql in _checks()]
    df = pd.DataFrame(rows, columns=["finding", "table", "rows"])
    if not include_zero:
        df = df[df["rows"] > 0]
    return df.sort_values(["rows", "finding"], ascending=[False, True]).reset_index(drop=True)
