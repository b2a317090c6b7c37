"""PBMA: weighted scores with spread, cost-value ratios, marginal analysis, decisions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.economics.decisions import DecisionInput, decisions, record_decision
from carepath.domain.economics.pbma import Exercise, load_exercise, score_options, select
from carepath.errors import ValidationError

from .conftest import EXAMPLES


def exercise(options, scores, headroom=0.0, criteria=None) -> Exercise:
    return Exercise.model_validate({
        "id": "ex", "title": "Ex", "programme": "P", "year": 2025, "headroom": headroom,
        "criteria": criteria or [{"id": "c1", "name": "Health", "weight": 3},
                                 {"id": "c2", "name": "Experience", "weight": 1}],
        "panel": [{"id": "m1", "group": "patient"}, {"id": "m2", "group": "clinician"}],
        "options": options, "scores": scores})


def scored(option, c1, c2):
    """Both members score an option: c1 and c2 are (m1, m2) pairs."""
    return [{"option": option, "criterion": c, "member": m, "score": s}
            for c, pair in (("c1", c1), ("c2", c2)) for m, s in zip(("m1", "m2"), pair,
                                                                    strict=True)]


def test_weighted_score_spread_and_cost_value_ratio_by_hand():
    ex = exercise([{"id": "a", "name": "A", "list": "wish", "cost": 1000}],
                  scored("a", (6, 8), (2, 4)))
    (s,) = score_options(ex)
    # weights 0.75 / 0.25; means 7 and 3 -> 0.75 * 7 + 0.25 * 3 = 6.0
    assert s.weighted == pytest.approx(6.0)
    assert s.cvr == pytest.approx(1000 / 6)
    # m1: 0.75*6 + 0.25*2 = 5.0; m2: 0.75*8 + 0.25*4 = 7.0
    assert s.member_spread.low == 5.0 and s.member_spread.high == 7.0
    assert s.member_spread.sd == pytest.approx(math.sqrt(2))
    assert s.by_group == {"clinician": 7.0, "patient": 5.0}
    assert s.by_criterion["c1"].sd == pytest.approx(math.sqrt(2))


def test_missing_scores_stay_missing_and_are_not_selected():
    ex = exercise([{"id": "a", "name": "A", "list": "wish", "cost": 10}],
                  [{"option": "a", "criterion": "c1", "member": "m1", "score": 9}],
                  headroom=100)
    (s,) = score_options(ex)
    assert s.weighted is None and s.cvr is None
    assert "not scored on c2" in s.note
    sel = select(ex)
    assert sel.invest == [] and [u.option.id for u in sel.unscored] == ["a"]


def test_zero_benefit_has_an_infinite_ratio_not_an_error():
    ex = exercise([{"id": "a", "name": "A", "list": "wish", "cost": 10}],
                  scored("a", (0, 0), (0, 0)))
    assert score_options(ex)[0].cvr == math.inf


def test_selection_fills_from_the_shift_list_when_worth_it():
    ex = exercise(
        [{"id": "good", "name": "Good", "list": "wish", "cost": 100},  # 100 / 8 = 12.5
         {"id": "poor", "name": "Poor", "list": "wish", "cost": 100},  # 100 / 2 = 50
         {"id": "cheap_loss", "name": "Cut A", "list": "shift", "cost": 100},  # 100 / 1
         {"id": "dear_loss", "name": "Cut B", "list": "shift", "cost": 100}],  # 100 / 4 = 25
        scored("good", (8, 8), (8, 8)) + scored("poor", (2, 2), (2, 2))
        + scored("cheap_loss", (1, 1), (1, 1)) + scored("dear_loss", (4, 4), (4, 4)),
        headroom=50)
    sel = select(ex)
    # good: needs 100, has 50; releasing cheap_loss loses 1/100 per pound < gains 8/100
    assert [s.option.id for s in sel.invest] == ["good"]
    assert [s.option.id for s in sel.disinvest] == ["cheap_loss"]
    # poor (2/100 per pound) is not worth dear_loss (4/100 per pound lost)
    assert [s.option.id for s in sel.not_funded] == ["poor"]
    assert [s.option.id for s in sel.not_released] == ["dear_loss"]
    assert sel.remaining == pytest.approx(50)
    assert sel.benefit_gained == pytest.approx(8) and sel.benefit_lost == pytest.approx(1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["wish", "shift"]), st.integers(0, 500),
                          st.integers(0, 10), st.integers(0, 10)), min_size=1, max_size=8),
       st.integers(0, 1000))
def test_selection_never_overspends_and_disinvests_only_for_better_value(rows, headroom):
    options, scores = [], []
    for i, (lst, cost, s1, s2) in enumerate(rows):
        options.append({"id": f"o{i}", "name": f"O{i}", "list": lst, "cost": cost})
        scores += scored(f"o{i}", (s1, s2), (s2, s1))
    ex = exercise(options, scores, headroom=headroom)
    sel = select(ex)
    assert sel.spent <= headroom + sel.released + 1e-9
    assert sel.remaining >= -1e-9
    chosen = {s.option.id for s in sel.invest + sel.disinvest}
    assert len(chosen) == len(sel.invest) + len(sel.disinvest)
    if sel.disinvest:  # a disinvestment is made only to fund an investment
        assert sel.invest
    # benefit lost per pound released is below the best benefit gained per pound invested
    for d in sel.disinvest:
        assert any(d.weighted * w.option.cost <= w.weighted * d.option.cost
                   for w in sel.invest)


def test_scores_must_refer_to_known_options_members_criteria(tmp_path):
    option = [{"id": "a", "name": "A", "list": "wish", "cost": 1}]
    for scores, message in (
            ([{"option": "a", "criterion": "c1", "member": "zz", "score": 1}],
             "unknown member 'zz'"),
            ([{"option": "a", "criterion": "c1", "member": "m1", "score": 1}] * 2,
             "scored a on c1 twice")):
        with pytest.raises(ValidationError, match=message) as err:
            exercise(option, scores).check_scores(scores, tmp_path / "ex.yaml")
        assert "ex.yaml: scores[" in err.value.where


def _scores_file_error(tmp_path, rows: str) -> ValidationError:
    """The error of loading a one-criterion exercise whose scores CSV has ``rows``."""
    (tmp_path / "ex.yaml").write_text(
        "id: ex\ntitle: Ex\nprogramme: P\nyear: 2025\n"
        "criteria: [{id: c1, name: C, weight: 1}]\npanel: [{id: m1, group: patient}]\n"
        "options: [{id: a, name: A, list: wish, cost: 5}]\nscores: s.csv\n")
    (tmp_path / "s.csv").write_text("option,criterion,member,score\n" + rows)
    with pytest.raises(ValidationError) as err:
        load_exercise(tmp_path / "ex.yaml")
    return err.value


def test_a_bad_score_in_its_csv_names_that_file_and_row(tmp_path):
    """The YAML and a 0-based 'scores[1]' were named (a walkthrough)."""
    err = _scores_file_error(tmp_path, "a,c1,m1,3\na,c1,m2,4\n")
    assert err.where == f"{tmp_path / 's.csv'}, row 3"
    assert err.message.startswith("unknown member 'm2'")


def test_score_out_of_range_in_csv_names_file_and_row(tmp_path):
    err = _scores_file_error(tmp_path, "a,c1,m1,11\n")
    assert err.where.endswith("s.csv") and "row 2" in err.message
    assert "less than or equal to 10" in err.message


def test_example_exercise_selects_within_budget():
    ex = load_exercise(f"{EXAMPLES}/wessex_lwbc_pbma.yaml")
    sel = select(ex)
    assert sel.invest and sel.disinvest
    assert sel.spent <= ex.headroom + sel.released
    assert {s.option.list for s in sel.invest} == {"wish"}


def test_decisions_are_recorded_with_rationale_and_audited(empty_workspace):
    ws = empty_workspace
    ex = load_exercise(f"{EXAMPLES}/wessex_lwbc_pbma.yaml")
    did = record_decision(ws, ex, DecisionInput("psfu", "disinvest",
                                                "Patients on the panel supported PSFU."),
                          by="analyst")
    with ws.connect(read_only=True) as con:
        frame = decisions(con, ex.id)
        audit = con.execute("SELECT actor, action, target FROM audit_log "
                            "WHERE action = 'economics.pbma.decision'").fetchall()
    assert frame.loc[0, "decision_id"] == did
    assert frame.loc[0, "option_list"] == "shift" and frame.loc[0, "cost"] == 180000
    assert frame.loc[0, "weighted_score"] > 0
    assert audit == [("analyst", "economics.pbma.decision", did)]


@pytest.mark.parametrize(("option", "decision", "rationale", "reason"), [
    ("psfu", "invest", "A good long reason.", "can be disinvest / reject / defer"),
    ("prehab", "disinvest", "A good long reason.", "can be invest / reject / defer"),
    ("prehab", "invest", "ok", "rationale is required"),
    ("nope", "invest", "A good long reason.", "has no option 'nope'"),
    ("prehab", "maybe", "A good long reason.", "is not one of"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(empty_workspace, option, decision,
                                                          rationale, reason):
    ex = load_exercise(f"{EXAMPLES}/wessex_lwbc_pbma.yaml")
    with pytest.raises(ValidationError, match=reason):
        record_decision(empty_workspace, ex, DecisionInput(option, decision, rationale), by="x")
    with empty_workspace.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pbma_decisions").fetchone()[0] == 0


def test_process_notes_flag_an_empty_shift_list_a_panel_without_patients_and_disagreement():
    from carepath.domain.economics.pbma import process_notes

    ex = Exercise.model_validate({
        "id": "ex", "title": "Ex", "programme": "P", "year": 2025,
        "criteria": [{"id": "c1", "name": "C", "weight": 1}],
        "panel": [{"id": "m1", "group": "clinician"}, {"id": "m2", "group": "manager"}],
        "options": [{"id": "a", "name": "Option A", "list": "wish", "cost": 10},
                    {"id": "b", "name": "Option B", "list": "wish", "cost": 10}],
        "scores": [{"option": "a", "criterion": "c1", "member": "m1", "score": 1},
                   {"option": "a", "criterion": "c1", "member": "m2", "score": 9}]})
    notes = " ".join(process_notes(ex, score_options(ex)))
    assert "shift list is empty" in notes
    assert "no patients, carers or members of the public" in notes
    assert "Not fully scored, so left out of the selection: b" in notes
    assert "disagrees on Option A (sd 5.7, 1.0 to 9.0)" in notes


def test_a_well_run_example_has_no_process_notes():
    from carepath.domain.economics.pbma import process_notes

    ex = load_exercise(f"{EXAMPLES}/wessex_lwbc_pbma.yaml")
    assert process_notes(ex, score_options(ex)) == []


def test_an_investment_with_no_benefit_is_not_funded_from_spare_money():
    from carepath.domain.economics.report import options_frame

    ex = exercise([{"id": "good", "name": "Good", "list": "wish", "cost": 10},
                   {"id": "nothing", "name": "Nothing", "list": "wish", "cost": 10}],
                  scored("good", (5, 5), (5, 5)) + scored("nothing", (0, 0), (0, 0)),
                  headroom=1000)
    scores = score_options(ex)
    sel = select(ex, scores)
    assert [s.option.id for s in sel.invest] == ["good"]
    assert [s.option.id for s in sel.no_benefit] == ["nothing"]
    assert sel.spent == 10
    row = options_frame(scores, sel).set_index("option").loc["nothing"]
    assert row["selection"] == "no benefit" and "weighted score 0" in row["note"]
    from carepath.domain.economics.pbma import process_notes

    assert any("no benefit" in n and "nothing" in n for n in process_notes(ex, scores))


def test_a_scores_file_that_is_not_there_is_named_with_its_section(tmp_path):
    (tmp_path / "ex.yaml").write_text(
        "id: ex\ntitle: Ex\nprogramme: P\nyear: 2025\n"
        "criteria: [{id: c1, name: C, weight: 1}]\npanel: [{id: m1, group: patient}]\n"
        "options: [{id: a, name: A, list: wish, cost: 5}]\nscores: nothere.csv\n")
    with pytest.raises(ValidationError) as err:
        load_exercise(tmp_path / "ex.yaml")
    assert err.value.where == str(tmp_path / "ex.yaml")
    assert err.value.message.startswith("scores: 'nothere.csv' names a file that is not there")
