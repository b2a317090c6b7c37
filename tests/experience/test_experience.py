from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.experience.reshape import QuestionRule, wide_to_long
from carepath.domain.experience.scoring import (
    MIN_RESPONDENTS,
    casemix_adjusted,
    question_scores,
    summary_scores,
)
from carepath.errors import ValidationError
from carepath.model.schema import SURVEY_RESPONSES
from carepath.workspace import Workspace

START, END = date(2024, 1, 1), date(2024, 12, 31)


def _insert(ws, rows):
    """rows: (org, question, positive, age_band, respondents)"""
    expanded = [(org, q, pos, band) for org, q, pos, band, count in rows for _ in range(count)]
    with ws.transaction() as con:
        con.executemany(
            "INSERT INTO survey_responses (survey, respondent_id, org_code, question_id, "
            "positive, response_date, age_band) VALUES ('cpes', ?, ?, ?, ?, "
            "DATE '2024-06-01', ?)",
            [(f"r{i}", *row) for i, row in enumerate(expanded)])


@pytest.fixture
def survey_ws(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    # T1: 40 respondents, 30 positive on Q1; T2: 10 respondents (suppressed); Q2 has only
    # non-evaluative answers anywhere (a rating, not a % positive question); T3 answered Q1
    # zero positive of 25, and Q3 only non-evaluatively where T1's 30 answered it (missing).
    _insert(ws, [("T1", "Q1", True, "60-64", 30), ("T1", "Q1", False, "60-64", 10),
                 ("T2", "Q1", True, "60-64", 10), ("T1", "Q2", None, "60-64", 5),
                 ("T3", "Q1", False, "60-64", 25), ("T1", "Q3", True, "60-64", 30),
                 ("T3", "Q3", None, "60-64", 5), ("T4", "Q1", True, "60-64", 22)])
    return ws


def test_question_scores_publish_suppress_missing_and_zero(survey_ws):
    with survey_ws.connect(read_only=True) as con:
        s = question_scores(con, survey="cpes", start=START, end=END)
    s = s.set_index(["org_code", "question_id"])
    assert s.loc[("T1", "Q1"), "value"] == pytest.approx(0.75)
    assert s.loc[("T1", "Q1"), "value_state"] == "published"
    assert s.loc[("T2", "Q1"), "value_state"] == "suppressed"
    assert np.isnan(s.loc[("T2", "Q1"), "value"])
    assert s.loc[("T3", "Q3"), "value_state"] == "missing"
    assert "Q2" not in set(s.index.get_level_values("question_id"))
    assert s.loc[("T3", "Q1"), "value"] == 0 and s.loc[("T3", "Q1"), "value_state"] == \
        "published"
    assert s.loc[("national", "Q1"), "respondents"] == 97
    assert s.loc[("national", "Q1"), "positive"] == 62


def test_a_suppressed_score_is_not_given_back_by_subtraction(survey_ws):
    """T2's 10 of 10 was the all-organisations row less T1, T3 and T4 (an independent check
    found 6 of 7 so): the published score with the fewest respondents (T4's 22) goes too,
    and with no published score beside it, the all-organisations figure does."""
    with survey_ws.connect(read_only=True) as con:
        s = question_scores(con, survey="cpes", start=START, end=END)
        adjusted = casemix_adjusted(con, survey="cpes", start=START, end=END)
    s = s.set_index(["org_code", "question_id"])
    assert s.loc[("T4", "Q1"), "value_state"] == "suppressed"
    assert np.isnan(s.loc[("T4", "Q1"), "positive"])
    assert s.loc[("T3", "Q1"), "value_state"] == "published"  # 25 > 22: still shown
    published = s[s["value_state"] == "published"].xs("Q1", level="question_id")
    hidden_sum = published.loc["national", "positive"] - published.drop("national")[
        "positive"].sum()
    assert hidden_sum == 10 + 22  # T2 and T4 together: neither alone
    adj = adjusted.set_index(["org_code", "question_id"])
    assert adj.loc[("T4", "Q1"), "value_state"] == "suppressed"
    assert np.isnan(adj.loc[("T4", "Q1"), "observed"])


def test_a_lone_suppressed_score_hides_the_all_organisations_figure(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    _insert(ws, [("T1", "Q1", True, "60-64", 5), ("T1", "Q1", False, "60-64", 3)])
    with ws.connect(read_only=True) as con:
        s = question_scores(con, survey="cpes", start=START, end=END)
        adjusted = casemix_adjusted(con, survey="cpes", start=START, end=END)
    national = s[s["org_code"] == "national"].iloc[0]
    assert national.value_state == "suppressed" and np.isnan(national.value)
    assert adjusted["national"].isna().all()


def test_a_provider_does_not_see_the_other_provider_as_all_less_its_own():
    """With two trusts, the all-organisations row less a provider's own is the other's."""
    from carepath.web.pages.experience import _without_one_other

    frame = pd.DataFrame({"org_code": ["A", "B", "C", "national", "A", "B", "national"],
                          "question_id": ["Q1"] * 4 + ["Q2"] * 3,
                          "respondents": [30, 40, 50, 120, 30, 40, 70]})
    shown = frame[frame["org_code"].isin(["A", "national"])]
    kept = _without_one_other(frame, shown)
    assert set(zip(kept["org_code"], kept["question_id"], strict=True)) == {
        ("A", "Q1"), ("national", "Q1"), ("A", "Q2")}  # Q2: only B besides A


def test_summary_scores(survey_ws):
    with survey_ws.connect(read_only=True) as con:
        s = question_scores(con, survey="cpes", start=START, end=END)
    summ = summary_scores(s).set_index("org_code")
    assert summ.loc["T1", "summary_score"] == pytest.approx((0.75 + 1.0) / 2)
    assert summ.loc["T1", "questions_withheld"] == 0
    assert summ.loc["T2", "questions_withheld"] == 1
    assert summ.loc["T2", "value_state"] == "suppressed"
    # A question T3's respondents did not answer is not withheld (nothing was hidden).
    assert summ.loc["T3", "questions_withheld"] == 0
    assert summ.loc["T3", "questions_published"] == 1


def test_suppression_threshold_is_a_named_constant(survey_ws):
    with survey_ws.connect(read_only=True) as con:
        lax = question_scores(con, survey="cpes", start=START, end=END, min_respondents=10)
        with pytest.raises(ValidationError, match="min_respondents"):
            question_scores(con, survey="cpes", start=START, end=END, min_respondents=0)
    assert MIN_RESPONDENTS == 21
    row = lax[(lax.org_code == "T2") & (lax.question_id == "Q1")].iloc[0]
    assert row.value_state == "published"


def test_casemix_adjustment_removes_age_effect(tmp_path):
    """Old respondents are more positive everywhere. A has mostly old respondents, B mostly
    young; within each age group both score the same, so adjusted scores are equal."""
    ws = Workspace.init(tmp_path / "cm")
    _insert(ws, [("A", "Q1", True, "80-84", 72), ("A", "Q1", False, "80-84", 8),
                 ("A", "Q1", True, "40-44", 10), ("A", "Q1", False, "40-44", 10),
                 ("B", "Q1", True, "80-84", 18), ("B", "Q1", False, "80-84", 2),
                 ("B", "Q1", True, "40-44", 40), ("B", "Q1", False, "40-44", 40)])
    with ws.connect(read_only=True) as con:
        adj = casemix_adjusted(con, survey="cpes", start=START, end=END).set_index("org_code")
        raw = question_scores(con, survey="cpes", start=START, end=END).set_index("org_code")
    assert raw.loc["A", "value"] == pytest.approx(0.82)
    assert raw.loc["B", "value"] == pytest.approx(0.58)
    assert adj.loc["A", "ratio"] == pytest.approx(1.0)
    assert adj.loc["A", "adjusted_value"] == pytest.approx(adj.loc["B", "adjusted_value"])
    assert adj.loc["A", "adjusted_value"] == pytest.approx(0.70)
    assert (adj.adjusted_lower <= adj.adjusted_value).all()


@pytest.fixture(scope="module")
def memory_con():
    con = duckdb.connect()  # no disk: hypothesis runs many examples
    con.execute(SURVEY_RESPONSES.ddl())
    yield con
    con.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.booleans(),
                          st.sampled_from(["40-44", "70-74", "90+", None])),
                min_size=1, max_size=60))
def test_expected_positives_sum_to_observed_nationally(memory_con, answers):
    """Indirect standardisation invariant: expected positives summed over organisations
    equal the observed national total."""
    con = memory_con
    con.execute("DELETE FROM survey_responses")
    con.executemany("INSERT INTO survey_responses (survey, respondent_id, org_code, "
                    "question_id, positive, response_date, age_band) VALUES "
                    "('cpes', ?, ?, 'Q1', ?, DATE '2024-06-01', ?)",
                    [(f"r{i}", org, pos, band) for i, (org, pos, band) in enumerate(answers)])
    adj = casemix_adjusted(con, survey="cpes", start=START, end=END, min_respondents=1)
    assert adj["expected"].sum() == pytest.approx(sum(p for _, p, _ in answers))


def test_wide_to_long_marks_positive_and_keeps_non_evaluative():
    wide = pd.DataFrame({"respondent_id": ["a", "b"], "org_code": ["T1", "T2"],
                         "response_date": ["2024-06-01", "2024-06-02"],
                         "age_band": ["60-64", None], "Q1": ["1", "3"], "Q2": ["9", None]})
    rules = {"Q1": QuestionRule(positive=frozenset({"1", "2"}), scores={"1": 10, "3": 0}),
             "Q2": QuestionRule(positive=frozenset({"1"}), not_evaluative=frozenset({"9"}))}
    long = wide_to_long(wide, survey="cpes", questions=rules)
    got = {(r.respondent_id, r.question_id): (r.positive, r.score) for r in long.itertuples()}
    assert got[("a", "Q1")] == (True, 10.0)
    assert got[("b", "Q1")] == (False, 0.0)
    assert got[("a", "Q2")][0] is pd.NA  # "not applicable": answered, not evaluated
    assert ("b", "Q2") not in got  # skipped question
    assert set(long.columns) >= {"survey", "sex", "tumour_group", "imd_quintile"}


def test_wide_to_long_names_row_and_column_of_bad_input():
    wide = pd.DataFrame({"respondent_id": ["a", None], "org_code": ["T1", "T2"],
                         "response_date": ["2024-06-01", "2024-06-01"], "Q1": ["1", "1"]})
    rules = {"Q1": QuestionRule(positive=frozenset({"1"}))}
    with pytest.raises(ValidationError, match="row 3, column respondent_id"):
        wide_to_long(wide, survey="cpes", questions=rules, source="cpes.csv")
    with pytest.raises(ValidationError, match="missing column"):
        wide_to_long(wide, survey="cpes", questions={"Q9": rules["Q1"]})
