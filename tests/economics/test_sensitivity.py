"""One-way and probabilistic sensitivity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.economics import reference
from carepath.domain.economics.cba import run_cba
from carepath.domain.economics.definitions import CBAModel, load_cba
from carepath.domain.economics.distributions import Distribution
from carepath.domain.economics.sensitivity import monte_carlo, sample_parameters, tornado

from .conftest import EXAMPLES, tiny


def _with_uncertainty(*entries) -> CBAModel:
    return CBAModel.model_validate(tiny(uncertainty=list(entries)))


def test_tornado_bars_are_the_npv_at_each_quantile():
    model = _with_uncertainty(
        {"parameter": "benefits.b.quantity",
         "distribution": {"kind": "uniform", "low": 0, "high": 100}},
        {"parameter": "services.s.unit_cost",
         "distribution": {"kind": "uniform", "low": 900, "high": 1100}})
    base, bars = tornado(model)
    assert base == pytest.approx(run_cba(model).total.npv)
    q = {b.parameter: b for b in bars}["benefits.b.quantity"]
    assert q.low_value == pytest.approx(2.5) and q.high_value == pytest.approx(97.5)
    assert q.npv_at_low == pytest.approx(reference.total_npv(model, {q.parameter: 2.5}))
    assert q.npv_at_high == pytest.approx(reference.total_npv(model, {q.parameter: 97.5}))
    assert bars[0].parameter == "benefits.b.quantity"  # widest swing first
    assert bars[0].swing >= bars[1].swing


def test_monte_carlo_is_reproducible_with_a_seed_and_matches_the_loop():
    model = load_cba(f"{EXAMPLES}/hospice_at_home.yaml")
    a = monte_carlo(model, draws=500, seed=7)
    b = monte_carlo(model, draws=500, seed=7)
    assert np.array_equal(a.npv_samples, b.npv_samples)
    draws = sample_parameters(model, 500, np.random.default_rng(7))
    loop = reference.monte_carlo_loop(model, {k: v.tolist() for k, v in draws.items()}, 50)
    assert a.npv_samples[:50] == pytest.approx(loop, rel=1e-9)


def test_monte_carlo_summary_is_consistent():
    model = load_cba(f"{EXAMPLES}/hospice_at_home.yaml")
    mc = monte_carlo(model, draws=2000, seed=1)
    total = mc.npv_total
    assert total.low < total.mean < total.high
    assert total.p_positive == pytest.approx((mc.npv_samples > 0).mean())
    by_org = sum(i.mean for i in mc.npv_by_org.values())
    assert by_org == pytest.approx(total.mean, rel=1e-9)
    assert 0 < mc.p_npv_positive < 1  # the demo model is a close call
    assert mc.bcr_total.p_positive == pytest.approx(total.p_positive)  # BCR > 1 iff NPV > 0


def test_no_uncertainty_gives_a_point_and_certainty():
    model = CBAModel.model_validate(tiny())
    mc = monte_carlo(model, draws=10, seed=1)
    assert mc.npv_total.low == pytest.approx(mc.npv_total.high)
    assert mc.p_npv_positive == 0.0  # NPV is negative for sure
    assert tornado(model)[1] == []


@pytest.mark.parametrize("spec", [
    {"kind": "uniform", "low": 1, "high": 3},
    {"kind": "triangular", "low": 1, "mode": 2, "high": 4},
    {"kind": "normal", "mean": 5, "sd": 2},
    {"kind": "lognormal", "mean": 5, "sd": 2},
    {"kind": "gamma", "mean": 5, "sd": 2},
    {"kind": "beta", "alpha": 2, "beta": 6},
])
def test_sampling_matches_the_distribution(spec):
    d = Distribution.model_validate(spec)
    x = d.sample(np.random.default_rng(3), 40_000)
    assert x.mean() == pytest.approx(d.frozen().mean(), rel=0.02, abs=0.01)
    assert np.quantile(x, 0.9) == pytest.approx(d.ppf(0.9), rel=0.03)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.01, 1e4), st.floats(0.01, 3))
def test_gamma_and_lognormal_keep_the_given_mean_and_sd(mean, cv):
    sd = mean * cv  # coefficients of variation an analyst would use
    for kind in ("gamma", "lognormal"):
        f = Distribution(kind=kind, mean=mean, sd=sd).frozen()
        assert f.mean() == pytest.approx(mean, rel=1e-6)
        assert f.std() == pytest.approx(sd, rel=1e-6)


def test_switching_values_by_hand():
    from carepath.domain.economics.cba import compile_model
    from carepath.domain.economics.sensitivity import switching_value

    c = compile_model(CBAModel.model_validate(tiny()))
    # PV benefits = q x 50 x 0.8 x 0.5 x annuity = 20 q annuity; PV costs = 1000 annuity
    assert switching_value(c, "benefits.b.quantity", 20) == pytest.approx(50)
    # benefits 200 a year: the unit cost at which costs fall to 200
    assert switching_value(c, "services.s.unit_cost", 1000) == pytest.approx(200)
    # even with no deadweight the benefit (250 a year) cannot cover the cost
    assert switching_value(c, "benefits.b.deadweight", 0.5) is None


def test_a_quantitys_switching_value_keeps_its_sign():
    """A benefit whose NPV stays positive at zero quantity has no switching value: turned
    into a disbenefit it switched at -3,866 carer hours "saved" (an independent check)."""
    from carepath.domain.economics.cba import compile_model
    from carepath.domain.economics.sensitivity import switching_value

    data = tiny()
    data["services"][0]["unit_cost"] = 100  # costs 100 a year; a second benefit pays 500
    data["benefits"].append({**data["benefits"][0], "id": "b2", "deadweight": 0,
                             "attribution": 1})
    c = compile_model(CBAModel.model_validate(data))
    assert switching_value(c, "benefits.b.quantity", 20) is None
    data["benefits"][0]["quantity"] = -10  # a disbenefit: it switches at -20, not above 0
    c = compile_model(CBAModel.model_validate(data))
    assert switching_value(c, "benefits.b.quantity", -5) == pytest.approx(-20)


def test_tornado_rows_carry_switching_values():
    model = _with_uncertainty({"parameter": "unit_values.v.value",
                               "distribution": {"kind": "uniform", "low": 40, "high": 60}})
    bar = tornado(model)[1][0]
    assert bar.switching_value == pytest.approx(250)  # 10 x v x 0.4 = 1000


def test_a_distribution_far_from_its_base_value_is_warned_about():
    from carepath.domain.economics import constants as K
    from carepath.domain.economics.sensitivity import mean_gap_warnings

    model = _with_uncertainty(
        {"parameter": "services.s.unit_cost",  # base 1,000: mean ten times that
         "distribution": {"kind": "gamma", "mean": 10_000, "sd": 250}},
        {"parameter": "benefits.b.quantity",  # base 10: mean 10.5, within the threshold
         "distribution": {"kind": "uniform", "low": 9, "high": 12}})
    assert K.MEAN_BASE_GAP == 0.10
    (warning,) = mean_gap_warnings(model)
    assert warning.startswith("services.s.unit_cost: the gamma distribution's mean (10,000)")
    assert "900% away from the base value (1,000)" in warning


def test_the_report_sets_the_npv_at_the_means_beside_the_base_case():
    from carepath.domain.economics.report import build_cba_report

    model = load_cba(f"{EXAMPLES}/hospice_at_home.yaml")
    rep = build_cba_report(model, draws=2000, seed=1)
    means = {u.parameter: float(u.distribution.frozen().mean()) for u in model.uncertainty}
    assert rep.npv_at_means == pytest.approx(reference.total_npv(model, means))
    assert rep.npv_at_means == pytest.approx(68_569, abs=1)  # base case: 301,972
    assert abs(rep.monte_carlo.npv_total.mean - rep.npv_at_means) < abs(
        rep.monte_carlo.npv_total.mean - rep.base_npv)
    assert rep.warnings == ()  # each mean is within 10% of its base value
