"""A hand-made workspace with six people whose journeys have known answers.

A  breast, USC referral, every Recovery Package element, alive.
B  lung, routine referral, HNA not offered, emergency admission, died in hospital without
   an EoL register entry though home was the preferred place.
C  lower GI via emergency presentation, no contact at all after diagnosis.
D  no cancer; on the EoL register, preferred home and died at home.
E  no cancer; died in a hospice; register entry dated after death (data-quality finding).
F  referral with a diagnosis date before the referral (out of order), no cancer.
"""

from __future__ import annotations

from datetime import date

import pytest

from carepath.workspace import Workspace

D = date.fromisoformat
START, END, AS_OF = D("2024-01-01"), D("2024-12-31"), D("2025-03-31")
EOL_START, EOL_END = D("2024-04-01"), D("2025-03-31")

ORGS = [("L1", "North", "locality"), ("L2", "South", "locality"), ("P1", "Alpha Surgery",
        "practice"), ("P2", "Beta Practice", "practice"), ("T1", "Wessex General", "trust"),
        ("T2", "Solent Hospitals", "trust")]
PATIENTS = [("A", "F", 1950, "P1", 1), ("B", "M", 1940, "P1", 5), ("C", "F", 1960, "P2", 3),
            ("D", "M", 1935, "P2", 2), ("E", "F", 1930, "P2", 4), ("F", "M", 1970, "P1", 1)]
REFERRALS = [
    ("R1", "A", "P1", "usc", "breast", D("2024-01-02"), D("2024-01-10"), "T1", "cancer",
     D("2024-01-20"), "TA"),
    ("R2", "B", "P1", "routine", "lung", D("2024-03-01"), D("2024-03-20"), "T2", "cancer",
     D("2024-04-15"), "TB"),
    ("R3", "F", "P1", "routine", "lower_gi", D("2024-05-10"), None, "T1", "no_cancer",
     D("2024-05-01"), None),
]
TUMOURS = [
    ("TA", "A", "P1", "C50", "breast", "2", "two_week_wait", D("2024-01-20"), "T1",
     D("2024-02-01"), 73),
    ("TB", "B", "P1", "C34", "lung", "4", "gp_referral", D("2024-04-15"), "T2", None, 84),
    ("TC", "C", "P2", "C18", "lower_gi", "U", "emergency", D("2024-02-01"), "T2", None, 63),
]
TREATMENTS = [("X1", "TA", "A", "surgery", D("2024-02-15"), "T1", True),
              ("X2", "TB", "B", "chemotherapy", D("2024-05-01"), "T2", True)]
CARE_EVENTS = [
    ("E1", "A", "TA", "hna", D("2024-01-25"), "T1", "offered_accepted", None),
    ("E2", "A", "TA", "care_plan", D("2024-01-25"), "T1", "offered_accepted", None),
    ("E3", "A", "TA", "treatment_summary", D("2024-06-01"), "T1", None, None),
    ("E4", "A", None, "cancer_care_review", D("2024-09-01"), "P1", None, None),
    ("E5", "A", "TA", "follow_up_pathway", D("2024-06-01"), "T1", None,
     "supported_self_management"),
    ("E6", "B", "TB", "hna", D("2024-04-20"), "T2", "not_offered", None),
]
HNA = [("E1", "emotional", "worry", 8), ("E1", "physical", "fatigue", 6),
       ("E1", "financial", "money", 2)]
EOL = [("D", "P2", D("2024-06-01"), None), ("E", "P2", D("2024-12-05"), None)]
PREFS = [("B", "home", D("2024-07-01")), ("D", "home", D("2024-06-01")),
         ("E", "not_stated", D("2024-10-01"))]
ADMISSIONS = [
    ("AD1", "B", "T2", "emergency", D("2024-07-20"), D("2024-08-10"), 21, "C34"),
    ("AD2", "D", "T1", "emergency", D("2024-09-15"), D("2024-09-20"), 5, "J18"),
    ("AD3", "D", "T1", "emergency", D("2024-05-01"), D("2024-05-03"), 2, "J18"),
]
DEATHS = [("B", "P1", D("2024-08-10"), "hospital", "C34", 84),
          ("D", "P2", D("2024-11-01"), "home", "J18", 89),
          ("E", "P2", D("2024-12-01"), "hospice", "I50", 94)]


def _insert(con, table, rows, columns=None):
    if not rows:
        return
    cols = f" ({', '.join(columns)})" if columns else ""
    con.executemany(f"INSERT INTO {table}{cols} VALUES ({', '.join('?' * len(rows[0]))})",
                    rows)


def build_journeys_workspace(path) -> Workspace:
    ws = Workspace.init(path)
    with ws.transaction() as con:
        _insert(con, "organisations", [(c, n, t, D("2015-01-01")) for c, n, t in ORGS],
                ["org_code", "name", "org_type", "valid_from"])
        _insert(con, "org_hierarchy", [("P1", "L1", "locality", D("2015-01-01"), None),
                                       ("P2", "L2", "locality", D("2015-01-01"), None)])
        _insert(con, "patients", PATIENTS,
                ["patient_id", "sex", "year_of_birth", "practice_code", "imd_quintile"])
        _insert(con, "referrals", REFERRALS)
        _insert(con, "tumours", TUMOURS)
        _insert(con, "treatments", TREATMENTS)
        _insert(con, "care_events", CARE_EVENTS)
        _insert(con, "hna_concerns", HNA)
        _insert(con, "eol_register", EOL)
        _insert(con, "preferences", PREFS)
        _insert(con, "admissions", ADMISSIONS)
        _insert(con, "deaths", DEATHS)
    return ws


@pytest.fixture
def jws(tmp_path) -> Workspace:
    return build_journeys_workspace(tmp_path / "ws")
