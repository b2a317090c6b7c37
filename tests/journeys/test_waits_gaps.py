from __future__ import annotations

from datetime import date, timedelta

import pytest

from carepath.domain.journeys._shared import PersonLevelDenied
from carepath.domain.journeys.gaps import fell_between_counts, fell_between_services
from carepath.domain.journeys.waits import wait_histogram, wait_summary
from carepath.errors import ValidationError

from .conftest import AS_OF, END, START

# With 150 days, only C (no contact at all for a year) fell out of touch; A's longest gap
# is 140 days (cancer care review to the end of the first year).
NO_CONTACT = 150


def _row(df, **match):
    for k, v in match.items():
        df = df[df[k] == v]
    assert len(df) == 1, match
    return df.iloc[0]


def test_referral_to_diagnosis_counts_urgent_suspected_cancer_referrals_only(jws):
    """Routine referrals (B's, and F's out-of-order one) are outside the faster diagnosis
    standard: counted, they made ruled-out routine referrals read as pending (an
    independent check). Pending and negative are counted apart in the property tests."""
    with jws.connect(read_only=True) as con:
        s = wait_summary(con, "referral_to_diagnosis", start=START, end=END,
                         data_end=AS_OF)
    r = _row(s, group="all")
    assert (r.completed, r.pending, r.negative, r.too_recent) == (1, 0, 0, 0)
    assert r["median"] == 18  # A: referred 2 January, diagnosed 20 January
    assert r.within_standard == 1
    assert 0.2 < r.within_standard_lower < 1 == pytest.approx(r.within_standard_upper)


def test_diagnosis_to_treatment_by_tumour_group(jws):
    with jws.connect(read_only=True) as con:
        s = wait_summary(con, "diagnosis_to_treatment", start=START, end=END,
                         group="tumour_group")
        dtt = wait_summary(con, "decision_to_treatment", start=START, end=END)
        rtt = wait_summary(con, "referral_to_treatment", start=START, end=END)
        hist = wait_histogram(con, "diagnosis_to_treatment", start=START, end=END)
    assert _row(s, group="breast")["median"] == 26
    assert _row(s, group="lung")["median"] == 16
    assert _row(s, group="lower_gi").pending == 1
    assert _row(dtt, group="all")["median"] == 14
    assert _row(rtt, group="all")["median"] == 44
    assert hist.to_dict("list") == {"bin_start": [14, 21], "waits": [1, 1]}


def test_waits_by_year_are_financial_years_of_their_start(jws):
    """Calendar years inside a financial-year period read as a full 2024 and a 2025 of
    three months (a walkthrough)."""
    with jws.connect(read_only=True) as con:
        by_year = wait_summary(con, "diagnosis_to_treatment", start=date(2023, 4, 1),
                               end=date(2025, 3, 31), group="year")
        starts = [d for (d,) in con.execute(
            "SELECT diagnosis_date FROM tumours WHERE diagnosis_date BETWEEN "
            "DATE '2023-04-01' AND DATE '2025-03-31'").fetchall()]
    expected = {f"{d.year - (d.month < 4)}/{(d.year + 1 - (d.month < 4)) % 100:02d}"
                for d in starts}
    assert set(by_year["group"]) == expected and expected <= {"2023/24", "2024/25"}


def test_waits_too_recent_to_judge_are_counted_apart(tmp_path, jws):
    """A wait begun less than its standard before the data's end can only have ended
    quickly so far: counted in the share it flattered 62-day waits (64.3% against 63.0%)."""
    with jws.connect(read_only=True) as con:
        starts = [d for (d,) in con.execute(
            "SELECT referral_date FROM referrals WHERE referral_type = 'usc' AND "
            "referral_date BETWEEN ? AND ?", [START, END]).fetchall()]
        last = max(starts)
        judged = wait_summary(con, "referral_to_diagnosis", start=START, end=END,
                              data_end=last + timedelta(days=28)).iloc[0]
        recent = wait_summary(con, "referral_to_diagnosis", start=START, end=END,
                              data_end=last + timedelta(days=27)).iloc[0]
    assert judged.too_recent == 0
    assert recent.too_recent == starts.count(last) > 0
    assert (recent.completed + recent.pending + recent.negative + recent.too_recent
            == judged.completed + judged.pending + judged.negative)


def test_a_ruled_out_referral_has_an_age_from_the_year_of_birth(jws):
    """Ruled-out referrals have no tumour, so no age at diagnosis: 92% of waits read
    "unknown" by age (an independent check). F, born 1970, was 53 or 54 in June 2024."""
    with jws.transaction() as con:
        con.execute("UPDATE referrals SET referral_type = 'usc', faster_diagnosis_date = "
                    "DATE '2024-05-20' WHERE referral_id = 'R3'")
    with jws.connect(read_only=True) as con:
        by_age = wait_summary(con, "referral_to_diagnosis", start=START, end=END,
                              group="age_group", data_end=AS_OF).set_index("group")
    assert by_age.loc["50-64", "completed"] == 1  # F, 10 days
    assert by_age.loc["65-74", "completed"] == 1  # A, 73 at diagnosis
    assert "unknown" not in by_age.index


def test_a_wait_to_treatment_belongs_to_the_trust_that_treated(jws):
    """As the 31- and 62-day indicators count it: B, diagnosed at T2, treated at T1."""
    with jws.transaction() as con:
        con.execute("UPDATE treatments SET provider_code = 'T1' WHERE treatment_id = 'X2'")
    with jws.connect(read_only=True) as con:
        by_trust = wait_summary(con, "diagnosis_to_treatment", start=START, end=END,
                                group="trust").set_index("group")
    assert by_trust.loc["T1", "completed"] == 2  # A's and B's
    assert by_trust.loc["T2", "pending"] == 1  # C, untreated: its diagnosing trust


def test_waits_reject_unknown_measure_and_inverted_period(jws):
    with jws.connect(read_only=True) as con:
        with pytest.raises(ValidationError, match="measure 'x'"):
            wait_summary(con, "x", start=START, end=END)
        with pytest.raises(ValidationError, match="after its end"):
            wait_summary(con, "referral_to_diagnosis", start=END, end=START)


def test_fell_between_counts_known_answers(jws):
    with jws.connect(read_only=True) as con:
        c = fell_between_counts(con, start=START, end=END, as_of=AS_OF,
                                no_contact_days=NO_CONTACT)
    got = {r.rule: (r.flagged, r.denominator) for r in c.itertuples()}
    # B died 117 days after diagnosis: too short a pathway to hold a 150-day gap, so out
    assert got["no_contact"] == (1, 2)
    assert got["missing_hna"] == (2, 3)
    assert got["missing_care_plan"] == (2, 3)
    assert got["missing_treatment_summary"] == (0, 1)  # only A was treated and lived to it
    assert got["missing_cancer_care_review"] == (1, 2)  # B died before it was due
    assert got["missing_any_rp_element"] == (2, 3)
    # deaths from 2024-01-01: B and E (register entry after death) had no entry before death
    assert got["death_without_eol_register"] == (2, 3)


def test_an_element_recorded_after_as_of_was_missing_as_of_then(jws):
    """C's care plan, recorded late on 10 January 2025, counted as there as of 31 December
    2024 (an independent check)."""
    with jws.transaction() as con:
        con.execute("INSERT INTO care_events (event_id, patient_id, tumour_id, event_type, "
                    "event_date) VALUES ('E9', 'C', 'TC', 'care_plan', DATE '2025-01-10')")

    def missing_care_plan(as_of):
        with jws.connect(read_only=True) as con:
            c = fell_between_counts(con, start=START, end=END, as_of=as_of,
                                    no_contact_days=NO_CONTACT).set_index("rule")
        return c.loc["missing_care_plan", "flagged"]

    assert missing_care_plan(date(2024, 12, 31)) == 2  # B (not offered) and C
    assert missing_care_plan(AS_OF) == 1


def test_fell_between_counts_by_locality(jws):
    with jws.connect(read_only=True) as con:
        c = fell_between_counts(con, start=START, end=END, as_of=AS_OF,
                                no_contact_days=NO_CONTACT, group="locality")
    assert _row(c, rule="no_contact", group="L2").flagged == 1
    assert _row(c, rule="no_contact", group="L1").flagged == 0


def test_fell_between_lists_only_for_authorised_and_audited(jws):
    public = fell_between_services(jws, start=START, end=END, as_of=AS_OF, actor="viewer",
                                   can_see_person_level=False, no_contact_days=NO_CONTACT)
    assert public.lists is None and len(public.counts) == 7
    full = fell_between_services(jws, start=START, end=END, as_of=AS_OF, actor="analyst",
                                 can_see_person_level=True, no_contact_days=NO_CONTACT)
    nc = full.lists[full.lists["rule"] == "no_contact"]
    assert nc["patient_id"].tolist() == ["C"]
    dwr = full.lists[full.lists["rule"] == "death_without_eol_register"]
    assert sorted(dwr["patient_id"]) == ["B", "E"]
    with jws.connect(read_only=True) as con:
        audit = con.execute("SELECT actor, action FROM audit_log").fetchall()
    assert audit == [("analyst", "fell_between.list")]
    from carepath.domain.journeys.gaps import fell_between_lists
    with pytest.raises(PersonLevelDenied):
        fell_between_lists(jws, start=START, end=END, as_of=AS_OF, actor="x",
                           can_see_person_level=False)


def test_rules_not_yet_due_are_reported_as_missing_not_dropped(jws):
    with jws.connect(read_only=True) as con:
        c = fell_between_counts(con, start=START, end=END, as_of=START.replace(month=3))
    hna = _row(c, rule="missing_hna")
    assert hna.denominator == 0 and hna.flagged == 0
    assert hna.value != hna.value  # NaN: missing, not a true zero
    assert next(iter(c.rule)) == "no_contact" and len(c) == 7


def test_a_death_after_leaving_the_register_is_counted_as_the_eol_page_counts_it(jws):
    """Removed from the register before death is not on it at death: the journeys page
    counted any earlier entry, the end-of-life page and the indicator did not (a
    walkthrough: 30.6% against 30.5%)."""
    from carepath.domain.eol.measures import eol_summary

    with jws.transaction() as con:  # B entered in June and left in July; died in August
        con.execute("INSERT INTO eol_register (patient_id, practice_code, entry_date, "
                    "exit_date) VALUES ('B', 'P1', DATE '2024-06-01', DATE '2024-07-01')")
    with jws.connect(read_only=True) as con:
        c = fell_between_counts(con, start=START, end=END, as_of=AS_OF,
                                no_contact_days=NO_CONTACT)
        eol = eol_summary(con, start=START, end=END)
    flagged, deaths = next((r.flagged, r.denominator) for r in c.itertuples()
                           if r.rule == "death_without_eol_register")
    assert (flagged, deaths) == (2, 3)  # B still flagged, with E
    assert eol["on_register"].iloc[0] == deaths - flagged


def test_waits_on_a_workspace_with_no_cancer_data_yet(tmp_path):
    """NULL - INTERVAL was ambiguous to DuckDB: the journeys page was a 500 (a check)."""
    from datetime import date

    from carepath.domain.journeys.waits import MEASURES, wait_summary
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "empty")
    with ws.connect(read_only=True) as con:
        for measure in MEASURES:
            out = wait_summary(con, measure, start=date(2024, 4, 1), end=date(2025, 3, 31))
            assert out.empty or int(out["completed"].sum()) == 0
