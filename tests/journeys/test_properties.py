"""Property tests: the SQL rules agree with a plain-Python reference on random journeys."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.journeys.gaps import (
    ACTIVE_PATHWAY_DAYS,
    fell_between_counts,
    fell_between_lists,
)
from carepath.domain.journeys.waits import wait_summary
from carepath.model.schema import ALL_TABLES
from carepath.workspace import Workspace

AS_OF = date(2025, 6, 30)
BASE = date(2024, 1, 1)
DAYS = st.integers(0, 500)
person = st.fixed_dictionaries({
    "diagnosis": DAYS,
    "contacts": st.lists(DAYS, max_size=6),
    "death": st.none() | DAYS,
})


@pytest.fixture(scope="module")
def scratch():
    """An in-memory database with every table (no disk: hypothesis runs many examples);
    the Workspace object only lends its audit helper, which writes on the given connection."""
    con = duckdb.connect()
    for table in ALL_TABLES:
        con.execute(table.ddl())
    yield Workspace(Path("in-memory")), con
    con.close()


def _day(n: int) -> date:
    return BASE + timedelta(days=n)


def _load(con, people: list[dict]) -> None:
    for t in ("tumours", "care_events", "deaths", "referrals", "audit_log"):
        con.execute(f"DELETE FROM {t}")
    for i, p in enumerate(people):
        con.execute("INSERT INTO tumours (tumour_id, patient_id, practice_code, icd10, "
                    "tumour_group, stage, route, diagnosis_date) VALUES "
                    "(?, ?, 'P1', 'C50', 'breast', '1', 'gp_referral', ?)",
                    [f"t{i}", f"p{i}", _day(p["diagnosis"])])
        for j, c in enumerate(p["contacts"]):
            con.execute("INSERT INTO care_events (event_id, patient_id, event_type, "
                        "event_date) VALUES (?, ?, 'health_wellbeing', ?)",
                        [f"e{i}_{j}", f"p{i}", _day(c)])
        if p["death"] is not None:
            con.execute("INSERT INTO deaths (patient_id, practice_code, date_of_death, "
                        "place_of_death) VALUES (?, 'P1', ?, 'home')",
                        [f"p{i}", _day(p["death"])])


def _longest_gap(p: dict) -> int:
    """Reference: the longest stretch without contact in the pathway window."""
    diag = _day(p["diagnosis"])
    ends = [diag + timedelta(days=ACTIVE_PATHWAY_DAYS), AS_OF]
    if p["death"] is not None:
        ends.append(_day(p["death"]))
    end = min(ends)
    pts = sorted([diag, end] + [_day(c) for c in p["contacts"] if diag < _day(c) < end])
    return max((b - a).days for a, b in itertools.pairwise(pts))


@settings(max_examples=30, deadline=None)
@given(people=st.lists(person, min_size=1, max_size=4), days=st.integers(1, 200))
def test_no_contact_matches_reference(scratch, people, days):
    ws, con = scratch
    _load(con, people)
    lists = fell_between_lists(ws, start=BASE, end=AS_OF, as_of=AS_OF, actor="prop",
                               can_see_person_level=True, no_contact_days=days, con=con)
    flagged = set(lists.loc[lists["rule"] == "no_contact", "patient_id"])
    expected = {f"p{i}" for i, p in enumerate(people)
                if _pathway_over(p) and _window_days(p) > days and _longest_gap(p) > days}
    assert flagged == expected
    counts = fell_between_counts(con, start=BASE, end=AS_OF, as_of=AS_OF,
                                 no_contact_days=days).set_index("rule")
    # Only pathways over by as_of and longer than the gap asked for are in the denominator
    due = [p for p in people if _pathway_over(p) and _window_days(p) > days]
    assert counts.loc["no_contact", "denominator"] == len(due)


def _pathway_over(p: dict) -> bool:
    diag = _day(p["diagnosis"])
    died = p["death"] is not None and _day(p["death"]) <= AS_OF
    return diag <= AS_OF and (diag + timedelta(days=ACTIVE_PATHWAY_DAYS) <= AS_OF or died)


def _window_days(p: dict) -> int:
    diag = _day(p["diagnosis"])
    ends = [diag + timedelta(days=ACTIVE_PATHWAY_DAYS), AS_OF]
    if p["death"] is not None:
        ends.append(_day(p["death"]))
    return (min(ends) - diag).days


@settings(max_examples=30, deadline=None)
@given(waits=st.lists(st.none() | st.integers(-30, 120), min_size=1, max_size=12),
       data_end_after=st.integers(0, 60))
def test_wait_counts_partition_every_referral(scratch, waits, data_end_after):
    _, con = scratch
    con.execute("DELETE FROM referrals")
    for i, w in enumerate(waits):
        con.execute("INSERT INTO referrals (referral_id, patient_id, practice_code, "
                    "referral_type, referral_date, faster_diagnosis_date) VALUES "
                    "(?, 'p', 'P1', 'usc', ?, ?)",
                    [f"r{i}", _day(200), None if w is None else _day(200 + w)])
    s = wait_summary(con, "referral_to_diagnosis", start=BASE, end=AS_OF,
                     data_end=_day(200 + data_end_after)).iloc[0]
    assert s.completed + s.pending + s.negative + s.too_recent == len(waits)
    # Begun within the standard's 28 days of the data's end: too recent, and in nothing else
    if data_end_after < 28:
        assert (s.too_recent, s.completed, s.within_standard) == (len(waits), 0, 0)
        return
    assert s.too_recent == 0
    assert s.within_standard == sum(1 for w in waits if w is not None and 0 <= w <= 28)
    done = sorted(w for w in waits if w is not None and w >= 0)
    if done:
        assert s["median"] == pytest.approx((done[(len(done) - 1) // 2] + done[len(done) // 2])
                                            / 2)
