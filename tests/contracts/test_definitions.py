"""Framework and contract YAML: the examples load; bad input is rejected naming file+field."""

from __future__ import annotations

import copy

import pytest

from carepath.domain.contracts import EXAMPLES_DIR
from carepath.domain.contracts.definitions import load_contract
from carepath.errors import ValidationError
from carepath.indicators.library import load_library

from .conftest import CONTRACT, FRAMEWORK, write_pair

LIB = load_library()


@pytest.mark.parametrize("name", ["wessex_cancer_contract", "wessex_eol_contract"])
def test_examples_load_with_real_library_ids(name):
    contract, fw = load_contract(EXAMPLES_DIR / f"{name}.yaml", LIB)
    assert abs(sum(o.weight for o in fw.outcomes) - 1) < 1e-9
    assert all(o.indicator in LIB for o in fw.outcomes)
    assert contract.fee_based(1) and not contract.fee_based(3)
    assert 7 <= contract.term.years <= 10


def test_shares_given_as_percent_and_rules_inherit_the_default(contract_file):
    contract, _fw = load_contract(contract_file, LIB)
    assert contract.share_at_risk[3] == pytest.approx(0.10)
    assert contract.at_risk(3) == pytest.approx(100_000)
    assert contract.term.period(3) == "2023/24"
    c, _ = load_contract(EXAMPLES_DIR / "wessex_cancer_contract.yaml", LIB)
    survival = c.rule("survival_one_year")
    assert survival.risk_share == 0.5 and survival.cap == 1.2 and survival.gain_share == 0.5
    assert c.rule("treatment_31").rule == "threshold" and c.rule("treatment_31").cap == 1


def _bad(tmp_path, fw_edit=None, c_edit=None):
    fw, c = copy.deepcopy(FRAMEWORK), copy.deepcopy(CONTRACT)
    if fw_edit:
        fw_edit(fw)
    if c_edit:
        c_edit(c)
    path = write_pair(tmp_path / "bad", fw, c)
    with pytest.raises(ValidationError) as err:
        load_contract(path, LIB)
    return err.value


def _outcome(fw, i=0):
    return fw["domains"][i]["outcomes"][0]


def test_weights_not_summing_to_one(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw).update(weight=0.5))
    assert "framework.yaml" in err.where
    assert "weights must sum to 1" in err.message and "0.9" in err.message


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_money_and_targets_are_finite_numbers(tmp_path, value):
    """'.inf' as the annual value passed check and issued a statement of £nan."""
    err = _bad(tmp_path, c_edit=lambda c: c.update(annual_value=value))
    assert "contract.yaml" in err.where
    assert "annual_value: Input should be a finite number" in err.message
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw)["trajectory"].update({3: value}))
    assert "framework.yaml" in err.where and "finite number" in err.message


def test_one_bad_outcome_is_one_error_and_percent_weights_get_a_hint(tmp_path):
    """Each bad outcome also said 'outcomes: Tuple should have at least 1 item', and
    weights written 30/25/... got no hint (a walkthrough)."""
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw, 1).update(baseline_value="high"))
    assert "baseline_value: Input should be a valid number" in err.message
    assert "Tuple should have at least 1 item" not in err.message
    err = _bad(tmp_path, fw_edit=lambda fw: [_outcome(fw, i).update(weight=w)
                                             for i, w in ((0, 60), (1, 40))])
    assert "weights are shares of 1 that sum to 1: 0.3 or '30%' for 30%" in err.message
    err = _bad(tmp_path, c_edit=lambda c: c["term"].update(first_year=2021))
    assert "term.first_year: Input should be a valid string (a financial year such as " \
        "'2021/22')" in err.message
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw).update(indicator="local_one"))
    assert "a workspace's own are known when the command is given it (-w WS)" in err.message


def test_weights_may_be_written_as_percentages(tmp_path):
    fw = copy.deepcopy(FRAMEWORK)
    _outcome(fw, 0)["weight"], _outcome(fw, 1)["weight"] = "60%", "40%"
    _, loaded = load_contract(write_pair(tmp_path / "pct", fw, CONTRACT), LIB)
    assert [o.weight for o in loaded.outcomes] == pytest.approx([0.6, 0.4])


def test_trajectory_year_outside_term(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw)["trajectory"].update({8: 61}))
    assert "framework.yaml" in err.where
    assert "stage" in err.message and "[8]" in err.message and "outside the term" in err.message


def test_unknown_indicator(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw).update(indicator="no_such_thing"))
    assert "framework.yaml" in err.where
    assert "domains[0].outcomes[0] (id stage).indicator" in err.message
    assert "unknown indicator 'no_such_thing'" in err.message


def test_indicator_without_direction_of_good_cannot_be_paid_on(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw).update(
        indicator="cancer_incidence_crude"))
    assert "no_judgement" in err.message


def test_share_at_risk_above_100_percent(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c["share_at_risk"].update({5: "120%"}))
    assert "contract.yaml" in err.where
    assert "share_at_risk.5" in err.message and "less than or equal to 1" in err.message


def test_subcontractor_without_service_lines(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c["subcontractors"][0].update(service_lines=[]))
    assert "contract.yaml" in err.where
    assert "subcontractors[0] (id RBB).service_lines" in err.message


def test_missing_year_term_mismatch_and_unknown_payment_outcome(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c["share_at_risk"].pop(7))
    assert "missing [7]" in err.message
    err = _bad(tmp_path / "b", c_edit=lambda c: c["term"].update(years=8) or
               c["share_at_risk"].update({8: 0.15}))
    assert "term.years" in err.message and "term_years 7" in err.message
    err = _bad(tmp_path / "c", c_edit=lambda c: c["payment"].update(
        outcomes={"nope": {"cap": 1}}))
    assert "payment.outcomes.nope" in err.message


def test_term_outside_7_to_10_years_and_threshold_rule_needs_threshold(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: fw.update(term_years=5))
    assert "term_years" in err.message
    err = _bad(tmp_path / "b", c_edit=lambda c: c["payment"].update(
        default={"rule": "threshold"}))
    assert "needs threshold" in err.message


def test_missing_framework_file_and_bad_yaml(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c.update(framework="elsewhere.yaml"))
    assert "field framework" in err.message and "not found" in err.message
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(ValidationError) as exc:
        load_contract(path, LIB)
    assert "not valid YAML" in exc.value.message and "line" in exc.value.where


def test_value_by_year_must_be_positive_naming_the_year(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c.update(value_by_year={3: 900_000, 4: -5}))
    assert "contract.yaml" in err.where
    assert "value_by_year" in err.message and "year 4: -5" in err.message
    err = _bad(tmp_path / "b", c_edit=lambda c: c.update(value_by_year={5: 0}))
    assert "year 5: 0" in err.message


def test_a_linear_outcome_does_not_inherit_a_threshold_defaults_threshold(tmp_path):
    """Default {threshold rule, threshold 1}, outcome {linear, cap 1.2, gain share 0.5}:
    the outcome took threshold 1 as a floor and earned nothing at 70% of the way."""
    c = copy.deepcopy(CONTRACT)
    c["payment"] = {"default": {"rule": "threshold", "threshold": 1,
                                "data_quality_gate": "forfeit"},
                    "outcomes": {"stage": {"rule": "linear", "cap": 1.2, "gain_share": 0.5}}}
    contract, _ = load_contract(write_pair(tmp_path / "p", contract=c), LIB)
    stage = contract.rule("stage")
    assert stage.rule == "linear" and stage.threshold is None
    assert stage.data_quality_gate == "forfeit"  # rule-neutral fields still inherited
    assert contract.rule("fds").threshold == 1


def test_weights_must_sum_to_one_to_the_penny_and_the_message_shows_the_sum(tmp_path):
    """1.0000009 passed a 1e-6 tolerance (pots £87.75 over the amount at risk on £97.5M)
    and a rejection read "must sum to 1; they sum to 1"."""
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw).update(weight=0.6000009))
    assert "they sum to 1.0000009" in err.message
    err = _bad(tmp_path / "b", fw_edit=lambda fw: _outcome(fw).update(weight=0.60000001))
    assert "they sum to 1.00000001" in err.message


def test_an_outcome_indicator_must_have_financial_year_periods(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw, 1).update(
        indicator="emergency_presentation_pct_quarterly"))
    assert "framework.yaml" in err.where
    assert "domains[1].outcomes[0] (id fds).indicator" in err.message
    assert "quarter" in err.message and "financial years" in err.message
    # as the SPC series a quarterly indicator is fine
    fw = copy.deepcopy(FRAMEWORK)
    _outcome(fw, 1)["spc_indicator"] = "emergency_presentation_pct_quarterly"
    load_contract(write_pair(tmp_path / "ok", fw, CONTRACT), LIB)


def test_impossible_targets_baselines_and_minimums_are_refused(tmp_path):
    err = _bad(tmp_path, fw_edit=lambda fw: _outcome(fw)["trajectory"].update({5: 545}))
    assert "(id stage).trajectory.5: 545 is impossible" in err.message
    assert "0 to 100" in err.message
    err = _bad(tmp_path / "b", fw_edit=lambda fw: _outcome(fw).update(baseline_value=-9))
    assert "(id stage).baseline_value: -9 is impossible" in err.message

    def score(fw):
        _outcome(fw, 1).update(indicator="patient_experience_score", baseline_value=-9,
                               trajectory={y: 9.0 for y in range(1, 8)})
    err = _bad(tmp_path / "c", fw_edit=score)
    assert "(id fds).baseline_value: -9 is impossible" in err.message
    assert "0 to 10" in err.message
    err = _bad(tmp_path / "d", fw_edit=lambda fw: _outcome(fw)["data_quality"].update(
        min_value=170))
    assert "data_quality.min_value: 170 is impossible" in err.message


#: The demo workspace's 2020/21 baselines (`carepath synth`, seed 42; read from the data
#: by the cancer example): its targets must improve on them.
DEMO_BASELINES = {"early_stage": 58.10, "fewer_emergency_diagnoses": 19.58,
                  "faster_diagnosis": 77.58, "treatment_62": 65.25, "treatment_31": 93.43,
                  "survival_one_year": 73.75, "needs_assessed": 43.80, "care_plan": 29.72}


def test_the_cancer_example_targets_are_improvements_on_the_demo_baselines():
    """Its early-stage targets (53.6-58.0) lay below the demo's baseline of 58.10: a
    decline earned the whole pot."""
    from carepath.domain.contracts import payment as pay

    _, fw = load_contract(EXAMPLES_DIR / "wessex_cancer_contract.yaml", LIB)
    for o in fw.outcomes:
        baseline = o.baseline_value if o.baseline_value is not None else \
            DEMO_BASELINES[o.id]
        hib = bool(LIB[o.indicator].higher_is_better)
        worse = [y for y, t in o.trajectory.items()
                 if pay.target_on_worse_side(baseline, t, hib)]
        assert worse == [], (o.id, worse)


@pytest.mark.parametrize("x, shown", [(0.205, "20.5%"), (0.125, "12.5%"), (0.1, "10%"),
                                      (1 / 3, "33.33%"), (0, "0%"), (1, "100%")])
def test_shares_and_weights_are_shown_as_the_percentage_they_are(x, shown):
    """Not rounded to a whole percent: 20.5% at risk read '20%' beside £2,562,500."""
    from carepath.domain.contracts.formatting import share

    assert share(x) == shown


def test_a_repeated_network_code_is_named(tmp_path):
    err = _bad(tmp_path, c_edit=lambda c: c["subcontractors"][0].update(code="RAA"))
    assert "must have distinct codes; repeated: RAA" in err.message
