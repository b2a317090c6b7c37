from __future__ import annotations

from datetime import date

from carepath.domain.journeys.flows import pathway_flows
from carepath.domain.journeys.hna import concerns_by_domain, top_concerns
from carepath.domain.journeys.quality import findings
from carepath.domain.journeys.recovery import ELEMENTS, coverage, equity_view
from carepath.workspace import Workspace

from .conftest import END, START

AS_OF = date(2026, 1, 1)  # every element due for the cohort


def _cov(df, dimension, group, element):
    r = df[(df.dimension == dimension) & (df.group == group) & (df.element == element)]
    assert len(r) == 1
    return int(r.recorded.iloc[0]), int(r.denominator.iloc[0])


def test_coverage_known_answers(jws):
    with jws.connect(read_only=True) as con:
        cov = coverage(con, start=START, end=END, as_of=AS_OF)
    assert _cov(cov, "all", "all", "hna") == (1, 3)  # B's HNA was not offered
    # A's review is not tied to the tumour; B died before a review was due (not eligible)
    assert _cov(cov, "all", "all", "cancer_care_review") == (1, 2)
    assert _cov(cov, "all", "all", "health_wellbeing") == (0, 2)
    assert _cov(cov, "all", "all", "supported_self_management") == (1, 1)  # A's decision
    assert _cov(cov, "trust", "T1", "hna") == (1, 1)
    assert _cov(cov, "trust", "T2", "hna") == (0, 2)
    assert _cov(cov, "locality", "L2", "care_plan") == (0, 1)
    assert _cov(cov, "imd_quintile", "1", "hna") == (1, 1)
    assert _cov(cov, "age_group", "75-84", "hna") == (0, 1)
    assert set(cov.dimension) == {"all", "tumour_group", "trust", "locality", "age_group",
                                  "imd_quintile"}
    some = cov[cov.denominator > 0]
    assert ((some.lower <= some.value) & (some.value <= some.upper)).all()
    assert cov[cov.denominator == 0].value.isna().all()  # none eligible: no share, not 0%


def test_the_ineligible_are_in_no_denominator(jws):
    """Those who died before an element fell due, untreated tumours for a treatment
    summary, cancers without stratified follow-up, and for supported self-management those
    with no follow-up decision stayed in the denominators: a review read 68.3% where 84.5%
    of those alive for it had one (an independent check)."""
    with jws.connect(read_only=True) as con:
        cov = coverage(con, start=START, end=END, as_of=AS_OF)
    eligible = {el: (_cov(cov, "all", "all", el)[1],
                     int(cov[(cov.dimension == "all") & (cov.element == el)].not_eligible.iloc[0]))
                for el in ELEMENTS}
    # B (lung, treated) died 2024-08-10, 117 days after diagnosis; C (lower GI) untreated
    assert eligible["treatment_summary"] == (1, 2)  # B died before day 270, C untreated
    assert eligible["follow_up_pathway"] == (2, 1)  # B's lung cancer has none: A and C
    assert eligible["supported_self_management"] == (1, 2)  # only A had a decision
    assert eligible["hna"] == (3, 0)  # B lived past day 90: not offered is not recorded
    assert _cov(cov, "tumour_group", "lung", "follow_up_pathway") == (0, 0)


def test_an_element_not_yet_due_is_in_no_denominator(jws):
    """The latest year's cancer care reviews read 29% beside 68% the year before (a new
    user's walkthrough): most were not due. Looked at from before their due dates, the
    elements are not due, neither recorded nor missing."""
    with jws.connect(read_only=True) as con:
        diagnosed = sorted(d for (d,) in con.execute(
            "SELECT diagnosis_date FROM tumours WHERE diagnosis_date BETWEEN ? AND ?",
            [START, END]).fetchall())
        early = coverage(con, start=START, end=END, as_of=diagnosed[-1])
        late = coverage(con, start=START, end=END, as_of=AS_OF)
    for element in ELEMENTS:
        row = early[(early.dimension == "all") & (early.element == element)].iloc[0]
        assert row.denominator + row.not_due + row.not_eligible == len(diagnosed)
        assert row.not_due >= 1  # the last diagnosed has had no time
        done = late[(late.dimension == "all") & (late.element == element)].iloc[0]
        assert (done.denominator + done.not_eligible, done.not_due) == (len(diagnosed), 0)


def _planted_trusts(tmp_path) -> Workspace:
    """300 tumours at each of three trusts; T3 offers HNAs to 20%, the others to 70%."""
    ws = Workspace.init(tmp_path / "planted")
    with ws.transaction() as con:
        con.execute("""
            INSERT INTO tumours (tumour_id, patient_id, practice_code, icd10, tumour_group,
                                 stage, route, diagnosis_date, diagnosing_trust)
            SELECT 'T' || i, 'p' || i, 'P1', 'C50', 'breast', '2', 'gp_referral',
                   DATE '2024-03-01', 'T' || (i % 3 + 1) FROM range(900) r(i)""")
        con.execute("""
            INSERT INTO care_events (event_id, patient_id, tumour_id, event_type, event_date)
            SELECT 'e' || i, 'p' || i, 'T' || i, 'hna', DATE '2024-03-10' FROM range(900) r(i)
            WHERE (i % 3 = 2 AND (i // 3) % 10 < 2) OR (i % 3 < 2 AND (i // 3) % 10 < 7)""")
    return ws


def test_equity_view_finds_planted_low_hna_trust(tmp_path):
    ws = _planted_trusts(tmp_path)
    with ws.connect(read_only=True) as con:
        eq = equity_view(coverage(con, start=START, end=END, as_of=AS_OF))
    hna = eq[(eq.element == "hna") & (eq.dimension == "trust")].iloc[0]
    assert hna.below == "T3"
    assert hna.above == "T1, T2"
    assert hna.depends and hna.p_value < 1e-6
    assert abs(hna.range - 0.5) < 1e-9
    assert eq.iloc[0].depends  # significant gaps sort first
    tumour = eq[(eq.element == "hna") & (eq.dimension == "tumour_group")]
    assert tumour.empty  # one tumour group: nothing to compare


def test_hna_concerns_by_domain_keeps_true_zero(jws):
    with jws.connect(read_only=True) as con:
        by_domain = concerns_by_domain(con, start=START, end=END)
        top = top_concerns(con, start=START, end=END, top=1)
    breast = by_domain[by_domain.tumour_group == "breast"].set_index("domain")
    assert len(breast) == 7
    assert breast.loc["emotional", "raised"] == 1 and breast.loc["physical", "raised"] == 1
    assert breast.loc["financial", "raised"] == 0  # scored 2, below the threshold
    assert breast.loc["spiritual", "raised"] == 0
    assert breast.loc["emotional", "rank"] == 1
    assert top.to_dict("records") == [
        {"tumour_group": "breast", "domain": "emotional", "concern": "worry", "raised": 1}]


def test_quality_findings_counts_after_death_out_of_order_and_bad_codes(jws):
    with jws.connect() as con:
        con.execute("INSERT INTO care_events (event_id, patient_id, event_type, event_date, "
                    "cosd_status) VALUES ('BAD', 'A', 'hna', DATE '2024-02-01', 'maybe')")
        found = dict(zip(findings(con)["finding"], findings(con)["rows"], strict=True))
    assert found == {"eol_register_after_death": 1, "diagnosis_outcome_before_referral": 1,
                     "unknown_cosd_status": 1}


def test_pathway_flows(jws):
    with jws.connect(read_only=True) as con:
        flows = pathway_flows(con, start=START, end=date(2024, 12, 31))
    edges = {(r.source, r.target): r.tumours for r in flows.itertuples()}
    assert edges[("two_week_wait", "surgery")] == 1
    assert edges[("chemotherapy", "none_recorded")] == 1
    assert edges[("none_recorded", "died_hospital")] == 1
    assert edges[("supported_self_management", "alive")] == 1
    for stage in ("route", "first_treatment", "follow_up"):
        assert flows[flows.from_stage == stage].tumours.sum() == 3


def test_looking_from_before_the_period_is_refused(jws):
    import pytest

    from carepath.errors import ValidationError

    with jws.connect(read_only=True) as con, pytest.raises(ValidationError,
                                                           match="before the period starts"):
        coverage(con, start=START, end=END, as_of=date(2023, 1, 1))
