"""A tiny workspace with a hierarchy and hand-written indicator values (known answers)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from carepath.workspace import Workspace

PERIOD = ("2024/25", date(2024, 4, 1), date(2025, 3, 31))
META = {
    "early_stage": {"title": "Early stage %", "higher_is_better": True, "unit": "%"},
    "usc_ratio": {"title": "USC referral ratio", "higher_is_better": None, "unit": ""},
}


def _value_row(ind, code, name, area_type, value, lo998, hi998, state="published", num=50,
               den=100, cmp_nat="similar"):
    return (ind, "1", "h", code, name, area_type, None, *PERIOD, "all", "all", num, den, value,
            value - 5, value + 5, lo998, hi998, "proportion", "Wilson", "similar", cmp_nat,
            None, None, state, None if state == "published" else "suppressed: count 1-7", "",
            "0.1.0", datetime(2025, 6, 1))


@pytest.fixture
def meta():
    return META


@pytest.fixture
def rug_workspace(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    orgs = [("L1", "North Locality", "locality"), ("L2", "South Locality", "locality"),
            ("I1", "Wessex ICB", "icb")]
    pracs = [("P1", "Alpha Surgery", "L1"), ("P2", "Beta Practice", "L1"),
             ("P3", "Gamma Health", "L2")]
    with ws.transaction() as con:
        for code, name, typ in orgs:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, ?, DATE '2015-01-01')", [code, name, typ])
        for code, name, loc in pracs:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, 'practice', DATE '2015-01-01')", [code, name])
            con.execute("INSERT INTO org_hierarchy VALUES (?, ?, 'locality', DATE '2015-01-01', "
                        "NULL)", [code, loc])
            con.execute("INSERT INTO org_hierarchy VALUES (?, 'I1', 'icb', DATE '2015-01-01', "
                        "NULL)", [code])
        rows = [
            _value_row("early_stage", "national", "England", "national", 55, 54, 56),
            _value_row("early_stage", "L1", "North Locality", "locality", 50, 45, 55),
            _value_row("early_stage", "I1", "Wessex ICB", "icb", 54, 52, 56),
            # P1 significantly low (worse), P2 within limits, P3 suppressed
            _value_row("early_stage", "P1", "Alpha Surgery", "practice", 40, 33, 47,
                       cmp_nat="worse"),
            _value_row("early_stage", "P2", "Beta Practice", "practice", 57, 45, 69),
            _value_row("early_stage", "P3", "Gamma Health", "practice", 60, 40, 80,
                       state="suppressed"),
            _value_row("usc_ratio", "national", "England", "national", 100, 99, 101),
            _value_row("usc_ratio", "P1", "Alpha Surgery", "practice", 130, 120, 140,
                       cmp_nat="higher"),
            _value_row("usc_ratio", "P2", "Beta Practice", "practice", 95, 85, 105),
        ]
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})", rows)
    return ws
