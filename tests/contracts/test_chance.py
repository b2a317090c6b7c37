"""The risk of paying for chance: seeded, and right where the answer is known."""

from __future__ import annotations

import copy

import pytest

from carepath.domain.contracts import chance
from carepath.domain.contracts.data import ContractData, read_values
from carepath.domain.contracts.definitions import load_contract
from carepath.errors import ValidationError
from carepath.indicators.library import load_library

from .conftest import CONTRACT, FRAMEWORK, write_pair

LIB = load_library()
DRAWS = 4000


def _inputs(n_stage: float, n_fds: float, baseline_fds: float = 71.0) -> dict:
    return {"stage": chance.SimInput("proportion", 100, n_stage, 50.0),
            "fds": chance.SimInput("proportion", 100, n_fds, baseline_fds)}


@pytest.fixture
def loaded(contract_file):
    return load_contract(contract_file, LIB)


def test_seeded_and_reproducible(loaded):
    c, fw = loaded
    a = chance.simulate(c, fw, LIB, _inputs(1000, 1400), 3, draws=DRAWS, seed=7)
    b = chance.simulate(c, fw, LIB, _inputs(1000, 1400), 3, draws=DRAWS, seed=7)
    assert a.total == b.total and [r.p_over for r in a.rows] == [r.p_over for r in b.rows]


def test_on_target_with_benefit_of_doubt_penalised_about_2_5_percent(loaded):
    """True value on target: paid less only when the interval lies wholly below it,
    which a 95% interval does about 2.5% of the time."""
    c, fw = loaded
    r = chance.simulate(c, fw, LIB, _inputs(100_000, 100_000), 3, draws=10_000, seed=1)
    for row in r.rows:
        assert 0.015 < row.p_under["target"] < 0.035
        assert row.p_over["target"] == 0  # cap 1: beating the target earns no more
    assert r.total["target"]["entitled"] == pytest.approx(100_000)


def test_small_step_pays_for_chance_at_baseline_large_volume_does_not(loaded):
    c, fw = loaded
    small = chance.simulate(c, fw, LIB, _inputs(500, 500), 3, draws=DRAWS, seed=2)
    stage = small.rows[0]  # step 2 points with n = 500: MDC about 8.9 points
    assert not stage.detectable and stage.p_over["baseline"] > 0.8
    big = chance.simulate(c, fw, LIB, _inputs(2_000_000, 2_000_000), 3, draws=DRAWS,
                          seed=2)
    assert big.rows[0].detectable and big.rows[0].p_over["baseline"] < 0.01


def test_minimum_detectable_change_hand_checked(loaded):
    c, fw = loaded
    r = chance.simulate(c, fw, LIB, _inputs(10_000, 1400), 3, draws=10, seed=3)
    # SE = 100 * sqrt(0.25 / 10000) = 0.5; (1.959964 + 0.841621) * 0.5
    assert r.rows[0].mdc == pytest.approx(1.4007925, rel=1e-6)
    assert r.rows[0].step == pytest.approx(2.0)


def test_fee_based_year_risks_nothing(loaded):
    c, fw = loaded
    r = chance.simulate(c, fw, LIB, _inputs(100, 100), 1, draws=DRAWS, seed=4)
    assert r.at_risk == 0
    assert all(row.pot == 0 and row.p_under["target"] == 0 for row in r.rows)
    assert r.total["target"]["p_under"] == 0 and r.total["baseline"]["p_over"] == 0


def test_poisson_and_normal_sampling_models(loaded):
    c, fw = loaded
    inputs = {"stage": chance.SimInput("crude_rate", 100, 100_000, 50.0),
              "fds": chance.SimInput("mean", 1, 500, 71.0, se=0.01)}
    r = chance.simulate(c, fw, LIB, inputs, 3, draws=DRAWS, seed=5)
    assert 0.01 < r.rows[0].p_under["target"] < 0.05
    assert r.rows[1].mdc == pytest.approx((1.959964 + 0.841621) * 0.01, rel=1e-5)


def test_inputs_from_data_and_design_mode(contract_ws, loaded, tmp_path):
    c, fw = loaded
    with contract_ws.connect(read_only=True) as con:
        data = ContractData(read_values(con, c, fw), c, LIB)
    inputs = chance.inputs_from_data(data, fw, 3)
    assert inputs["stage"].denominator == 1000 and inputs["stage"].baseline == 50.0
    assert inputs["fds"].denominator == 1400
    with pytest.raises(ValidationError, match="expected_denominator"):
        chance.inputs_from_definitions(fw, LIB)
    design = copy.deepcopy(FRAMEWORK)
    for d in design["domains"]:
        d["outcomes"][0].update(baseline_value=50.0, expected_denominator=900)
    c2, fw2 = load_contract(write_pair(tmp_path / "design", design, CONTRACT), LIB)
    got = chance.inputs_from_definitions(fw2, LIB)
    assert got["fds"].denominator == 900
    assert chance.first_year_at_risk(c2) == 3


def test_materiality_counts_only_differences_that_matter(loaded):
    c, fw = loaded
    strict = chance.simulate(c, fw, LIB, _inputs(200_000, 200_000), 3, draws=DRAWS, seed=6,
                             materiality=0)
    # at baseline a linear rule pays pennies for half the noise; none of it is material
    assert 0.4 < strict.rows[0].p_over["baseline"] < 0.6


def test_draws_and_materiality_validated(loaded):
    c, fw = loaded
    with pytest.raises(ValidationError, match="draws"):
        chance.simulate(c, fw, LIB, _inputs(100, 100), 3, draws=0)
    with pytest.raises(ValidationError, match="materiality"):
        chance.simulate(c, fw, LIB, _inputs(100, 100), 3, materiality=1.5)


def test_with_a_workspace_the_years_own_volume_is_used(contract_ws, tmp_path):
    """expected_denominator (400) was used although the workspace had the year's volume
    (the docs said so): the year's pooled volume wins, the agreed one is the fallback."""
    design = copy.deepcopy(FRAMEWORK)
    design["domains"][1]["outcomes"][0]["expected_denominator"] = 400
    design["domains"][0]["outcomes"][0]["expected_denominator"] = 900
    c, fw = load_contract(write_pair(tmp_path / "vol", design, CONTRACT), LIB)
    with contract_ws.connect(read_only=True) as con:
        data = ContractData(read_values(con, c, fw), c, LIB)
    assert chance.inputs_from_data(data, fw, 3)["fds"].denominator == 1400  # 2023/24
    later = chance.inputs_from_data(data, fw, 5)  # no 2025/26 data
    assert later["fds"].denominator == 1400  # the baseline's volume
    assert later["stage"].denominator == 900  # no volume in the workspace: the agreed one
