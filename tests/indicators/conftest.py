"""A small hand-made workspace whose indicator values can be counted by hand.

Two localities (L1: P1, P2; L2: P3) in one ICB, financial year 2023/24 only.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from carepath.model.codes import AGE_BANDS
from carepath.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))  # for disclosure_helpers

PRACTICES = {"P1": "L1", "P2": "L1", "P3": "L2"}
QUARTERS = [date(2023, 4, 1), date(2023, 7, 1), date(2023, 10, 1), date(2024, 1, 1)]
# People per practice, sex and band in every quarter (P3 grows in the last quarter).
BAND_POP = {"P1": 100, "P2": 50, "P3": 20}

# (practice, stage, route, tumour_group, icd10, diagnosis date)
TUMOURS = [
    ("P1", "1", "two_week_wait", "breast", "C50", date(2023, 5, 1)),
    ("P1", "2", "gp_referral", "lung", "C34", date(2023, 6, 1)),
    ("P1", "3", "emergency", "lung", "C34", date(2023, 7, 1)),
    ("P1", "U", "emergency", "lower_gi", "C18", date(2023, 8, 1)),
    ("P2", "4", "emergency", "lung", "C34", date(2023, 9, 1)),
    ("P2", "1", "two_week_wait", "breast", "C50", date(2024, 1, 5)),
    ("P3", "2", "screening", "breast", "C50", date(2024, 2, 1)),
    ("P3", "1", "two_week_wait", "skin", "C44", date(2024, 3, 1)),  # NMSC: excluded
    ("P3", "1", "two_week_wait", "breast", "C50", date(2023, 3, 31)),  # before the year
]


def _insert(con, table, rows):
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def build(path):
    ws = Workspace.init(path)
    orgs = [("L1", "North", "locality"), ("L2", "South", "locality"), ("I1", "Wessex ICB", "icb"),
            ("T1", "Wessex Hospital", "trust")]
    orgs += [(p, f"Practice {p}", "practice") for p in PRACTICES]
    with ws.transaction() as con:
        _insert(con, "organisations", [(c, n, t, date(2015, 1, 1), None, None, None, None)
                                       for c, n, t in orgs])
        hier = [(p, loc, "locality", date(2015, 1, 1), None) for p, loc in PRACTICES.items()]
        hier += [(p, "I1", "icb", date(2015, 1, 1), None) for p in PRACTICES]
        _insert(con, "org_hierarchy", hier)
        pop = []
        for p, n in BAND_POP.items():
            for q in QUARTERS:
                extra = 10 if (p == "P3" and q == QUARTERS[-1]) else 0
                pop += [(p, q, s, b, n + extra) for s in ("M", "F") for b in AGE_BANDS]
        _insert(con, "registered_population", pop)
        patients, tumours, deaths, refs = [], [], [], []
        for i, (p, stage, route, group, icd, when) in enumerate(TUMOURS):
            pid = f"pt{i}"
            patients.append((pid, "F" if group == "breast" else "M", 1950, p, None, None, 3,
                             "white"))
            tumours.append((f"t{i}", pid, p, icd, group, stage, route, when, "T1",
                            when + timedelta(days=10), 73))
        # Deaths: pt2 (P1) died in hospital, pt4 (P2) at home.
        deaths = [("pt2", "P1", date(2023, 12, 1), "hospital", "C34", 73),
                  ("pt4", "P2", date(2024, 2, 1), "home", "C34", 74),
                  ("pt6", "P3", date(2023, 4, 15), "care_home", "I21", 74),
                  ("pt7", "P3", date(2024, 3, 20), "hospice", "C44", 74)]
        # USC referrals: P1 has 4 (1 cancer), P2 2 (1 cancer), P3 none.
        for j, (p, outcome) in enumerate([("P1", "cancer"), ("P1", "no_cancer"),
                                          ("P1", "no_cancer"), ("P1", "no_cancer"),
                                          ("P2", "cancer"), ("P2", "no_cancer")]):
            seen = date(2023, 4, 10) + timedelta(days=70 * j)
            refs.append((f"r{j}", "pt0" if p == "P1" else "pt4", p, "usc", "breast",
                         seen - timedelta(days=10), seen, "T1", outcome,
                         seen + timedelta(days=10 + 5 * j), None))
        # A routine referral after the year: its outcomes' follow-up (62 days, the
        # conversion rate's) is then in the data; it counts in no USC figure.
        refs.append(("r9", "pt4", "P2", "routine", "breast", date(2024, 6, 20),
                     date(2024, 6, 30), "T1", "no_cancer", date(2024, 7, 10), None))
        _insert(con, "patients", patients)
        _insert(con, "tumours", tumours)
        _insert(con, "deaths", deaths)
        _insert(con, "referrals", refs)
        con.execute("INSERT INTO load_log VALUES ('load-1', 'tumours', 'hand', NULL, 9, 9, 0, "
                    "'test', TIMESTAMP '2024-06-01 00:00:00')")
    return ws


@pytest.fixture
def small_ws(tmp_path):
    return build(tmp_path / "ws")


@pytest.fixture
def build_small_ws():
    """The builder itself, for tests that need two identical workspaces."""
    return build
