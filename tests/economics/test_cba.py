"""Green Book CBA: hand-checked known answers and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.economics import constants as K
from carepath.domain.economics import reference
from carepath.domain.economics.cba import discount_factors, payback_year, run_cba
from carepath.domain.economics.definitions import CBAModel

from .conftest import tiny

# 1 + 1/1.035 + 1/1.035^2, by hand: 1 + 0.966183575 + 0.933510700
ANNUITY_3_YEARS = 2.899694275


def test_discount_factors_match_the_green_book_rates():
    assert discount_factors(3) == pytest.approx([1, 1 / 1.035, 1 / 1.035**2], rel=1e-12)
    assert discount_factors(3, health=True) == pytest.approx([1, 1 / 1.015, 1 / 1.015**2])
    assert K.DISCOUNT_RATE == 0.035 and K.HEALTH_DISCOUNT_RATE == 0.015


def test_rate_declines_after_year_30():
    f = discount_factors(33)
    assert f[30] == pytest.approx(1.035**-30)
    assert f[31] == pytest.approx(f[30] / 1.030)  # year 31 onwards: 3.0%
    h = discount_factors(33, health=True)
    assert h[31] == pytest.approx(h[30] / 1.0129)


@given(st.integers(1, K.MAX_HORIZON_YEARS), st.booleans())
def test_discount_factors_fall_monotonically_from_one(horizon, health):
    f = discount_factors(horizon, health=health)
    assert f[0] == 1
    assert np.all(np.diff(f) < 0)
    assert np.all(f > 0)


def test_health_effects_are_discounted_less():
    assert np.all(discount_factors(10, health=True) >= discount_factors(10))


def test_tiny_model_known_answer(tiny_model):
    r = run_cba(tiny_model)
    by = {o.org: o for o in r.organisations}
    assert by["A"].pv_costs == pytest.approx(600 * ANNUITY_3_YEARS)
    assert by["B"].pv_costs == pytest.approx(400 * ANNUITY_3_YEARS)
    # 10 x 50 x (1 - 0.2) x 0.5 = 200 a year
    assert by["C"].pv_benefits == pytest.approx(200 * ANNUITY_3_YEARS)
    assert r.total.npv == pytest.approx(-800 * ANNUITY_3_YEARS)
    assert r.total.bcr == pytest.approx(0.2)
    assert r.total.roi == pytest.approx(-0.8)
    assert r.total.payback_year is None
    assert by["C"].bcr is None and by["C"].payback_year is None  # C pays nothing
    assert r.cost_shift["A"]["C"] == pytest.approx(0.6 * 200 * ANNUITY_3_YEARS)
    assert r.cost_shift["B"]["C"] == pytest.approx(0.4 * 200 * ANNUITY_3_YEARS)


def test_optimism_bias_raises_costs_and_lowers_benefits():
    data = tiny()
    data["services"][0]["confidence"] = 4  # +15% on costs
    data["benefits"][0]["confidence"] = 6  # -40% on benefits
    r = run_cba(CBAModel.model_validate(data))
    assert r.total.pv_costs == pytest.approx(1000 * 1.15 * ANNUITY_3_YEARS)
    assert r.total.pv_benefits == pytest.approx(200 * 0.60 * ANNUITY_3_YEARS)


def test_optimism_bias_makes_a_disbenefit_larger():
    data = tiny()
    data["benefits"][0].update(quantity=-10, confidence=6, deadweight=0, attribution=1)
    r = run_cba(CBAModel.model_validate(data))
    assert r.total.pv_benefits == pytest.approx(-500 * 1.40 * ANNUITY_3_YEARS)


def test_benefit_takes_its_unit_values_grade_by_default():
    data = tiny()
    data["unit_values"][0]["confidence"] = 5  # -25%
    assert run_cba(CBAModel.model_validate(data)).total.pv_benefits == pytest.approx(
        150 * ANNUITY_3_YEARS)


def test_drop_off_and_health_discounting():
    data = tiny()
    data["benefits"][0].update(drop_off=0.1, health=True, deadweight=0, attribution=1)
    r = run_cba(CBAModel.model_validate(data))
    # 500, 450, 405 discounted at 1.5%
    assert r.total.pv_benefits == pytest.approx(500 + 450 / 1.015 + 405 / 1.015**2)


def test_ramp_up_profile_and_start_year():
    data = tiny()
    data["services"][0]["profile"] = [0.5, 1, 1]
    data["benefits"][0].update(service="s", start_year=1, deadweight=0, attribution=1)
    r = run_cba(CBAModel.model_validate(data))
    assert r.total.pv_costs == pytest.approx(500 + 1000 / 1.035 + 1000 / 1.035**2)
    assert r.total.pv_benefits == pytest.approx(500 / 1.035 + 500 / 1.035**2)


def test_payback_is_when_cumulative_net_stays_positive():
    costs = np.array([1000.0, 0, 0, 0])
    benefits = np.array([400.0, 400, 400, 400])
    assert payback_year(costs, benefits) == 3  # -600, -200, +200, +600
    # turns positive then falls back: paid back only when it is positive for good
    assert payback_year(np.array([0.0, 0, 1000, 0]), np.array([300.0, 0, 0, 800])) == 4
    assert payback_year(np.array([10.0, 0]), np.array([0.0, 5])) is None
    assert payback_year(np.zeros(3), np.ones(3)) is None  # nothing spent
    # Never short, paying from year 3: paid back in year 3, not "within the base year"
    # (an independent check)
    assert payback_year(np.array([0.0, 0, 10, 10]), np.array([0.0, 0, 22, 22])) == 3


def test_a_benefit_of_no_service_is_bought_by_the_services_running_that_year():
    """Spread by the whole horizon's cost, B's service starting in year 1 was credited
    with year 0's benefit (an independent check)."""
    data = tiny()
    data["services"] = [
        {"id": "s", "name": "S", "unit_cost": 1000, "activity": 1, "payers": {"A": 1},
         "confidence": 1},
        {"id": "t", "name": "T", "unit_cost": 1000, "activity": 1, "payers": {"B": 1},
         "confidence": 1, "start_year": 1}]
    r = run_cba(CBAModel.model_validate(data))
    later = 200 / 1.035 + 200 / 1.035**2  # 10 x 50 x 0.8 x 0.5 a year
    assert r.cost_shift["A"]["C"] == pytest.approx(200 + later / 2)
    assert r.cost_shift["B"]["C"] == pytest.approx(later / 2)


def test_engine_agrees_with_plain_python_reference_on_the_example():
    from carepath.domain.economics.definitions import load_cba

    from .conftest import EXAMPLES

    model = load_cba(f"{EXAMPLES}/hospice_at_home.yaml")
    assert run_cba(model).total.npv == pytest.approx(reference.total_npv(model), rel=1e-12)


# ----- properties --------------------------------------------------------------------------------
ORGS = ["icb", "acute", "council", "people"]


@st.composite
def models(draw):
    n_services = draw(st.integers(1, 3))
    services = []
    for i in range(n_services):
        payers = draw(st.lists(st.sampled_from(ORGS), min_size=1, max_size=3, unique=True))
        raw = [draw(st.integers(1, 10)) for _ in payers]
        shares = {p: r / sum(raw) for p, r in zip(payers, raw, strict=True)}
        services.append({"id": f"s{i}", "name": f"S{i}", "payers": shares,
                         "unit_cost": draw(st.floats(0, 5000)),
                         "activity": draw(st.floats(0, 500)),
                         "confidence": draw(st.integers(1, 6))})
    horizon = draw(st.integers(1, 12))
    benefits = [{"id": f"b{j}", "outcome": "o", "quantity": draw(st.floats(-100, 1000)),
                 "unit_value": "v", "beneficiary": draw(st.sampled_from(ORGS)),
                 "service": draw(st.sampled_from([None] + [s["id"] for s in services])),
                 "deadweight": draw(st.floats(0, 1)), "attribution": draw(st.floats(0, 1)),
                 "drop_off": draw(st.floats(0, 1)), "health": draw(st.booleans()),
                 "start_year": draw(st.integers(0, horizon - 1))}
                for j in range(draw(st.integers(1, 4)))]
    return CBAModel.model_validate({
        "id": "m", "title": "m", "base_year": 2025, "horizon_years": horizon,
        "organisations": {o: o for o in ORGS},
        "unit_values": [{"id": "v", "value": draw(st.floats(0, 5000)), "unit": "u",
                         "source": "test"}],
        "services": services, "benefits": benefits})


@settings(max_examples=60, deadline=None)
@given(models())
def test_npv_by_organisation_adds_up_to_the_total(model):
    r = run_cba(model)
    assert math.isclose(sum(o.npv for o in r.organisations), r.total.npv,
                        rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(sum(o.pv_costs for o in r.organisations), r.total.pv_costs,
                        rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=60, deadline=None)
@given(models())
def test_cost_shift_matrix_columns_are_the_benefits_each_organisation_feels(model):
    r = run_cba(model)
    felt = {o.org: o.pv_benefits for o in r.organisations}
    for org in ORGS:
        column = sum(r.cost_shift[p][org] for p in ORGS)
        assert math.isclose(column, felt[org], rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=40, deadline=None)
@given(models())
def test_vectorised_engine_matches_the_plain_python_reference(model):
    assert math.isclose(run_cba(model).total.npv, reference.total_npv(model),
                        rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=40, deadline=None)
@given(models(), st.floats(0.001, 0.2))
def test_higher_discount_rate_shrinks_present_values(model, extra):
    from carepath.domain.economics.cba import discount_factors as df

    slower = ((0, K.DISCOUNT_RATE + extra, K.HEALTH_DISCOUNT_RATE + extra),)
    h = model.horizon_years
    assert np.all(df(h, schedule=slower) <= df(h))


@settings(max_examples=40, deadline=None)
@given(models(), st.floats(1.01, 3))
def test_dearer_services_never_raise_npv(model, factor):
    from carepath.domain.economics.cba import compile_model, total_npv

    c = compile_model(model)
    base = total_npv(c, 1)[0]
    dearer = {f"services.{s.id}.unit_cost": np.array([s.unit_cost * factor])
              for s in model.services}
    assert total_npv(c, 1, dearer)[0] <= base + 1e-6


@settings(max_examples=40, deadline=None)
@given(models())
def test_more_deadweight_never_raises_a_positive_benefit(model):
    from carepath.domain.economics.cba import compile_model, total_npv

    c = compile_model(model)
    positive = [b for b in model.benefits if b.quantity >= 0]
    more = {f"benefits.{b.id}.deadweight": np.array([min(1.0, b.deadweight + 0.1)])
            for b in positive}
    assert total_npv(c, 1, more)[0] <= total_npv(c, 1)[0] + 1e-6


def test_share_sum_tolerance_is_a_tenth_of_a_percent():
    from carepath.domain.economics.definitions import check_shares_sum

    assert check_shares_sum({"a": 0.3333, "b": 0.3333, "c": 0.3333})  # 99.99%
    with pytest.raises(ValueError, match="sum to 99.8%"):
        check_shares_sum({"a": 0.5, "b": 0.498})


def test_unit_values_are_brought_to_the_model_price_year():
    data = tiny(price_year=2025, deflators={2021: 100.0, 2025: 125.0})
    data["unit_values"][0]["price_year"] = 2021
    r = run_cba(CBAModel.model_validate(data))
    assert r.total.pv_benefits == pytest.approx(200 * 1.25 * ANNUITY_3_YEARS)
    line = r.benefit_lines[0]
    assert line["unit_value"] == 50 and line["in_model_prices"] == pytest.approx(62.5)
    assert r.total.npv == pytest.approx(reference.total_npv(CBAModel.model_validate(data)))


def test_a_price_year_without_deflators_is_refused():
    data = tiny(price_year=2025, deflators={2025: 125.0})
    data["unit_values"][0]["price_year"] = 2021
    with pytest.raises(ValueError, match="in 2021 prices and the model in 2025 prices: give "
                                         "deflators for 2021"):
        CBAModel.model_validate(data)


# ----- drop-off counts from when the benefit starts ---------------------------------------------
def _late_service(**service) -> CBAModel:
    data = tiny(horizon_years=4)
    data["services"][0].update(service)
    data["benefits"][0].update(service="s", drop_off=0.5, deadweight=0, attribution=1,
                               quantity=20)
    return CBAModel.model_validate(data)


@pytest.mark.parametrize("service", [
    {"start_year": 2},  # the service (and so the benefit) starts in year 2
    {"profile": [0, 0, 1, 1]},  # a ramp-up with leading zeros: the same
], ids=["service-start-year", "profile-leading-zeros"])
def test_drop_off_counts_from_the_first_year_the_benefit_runs(service):
    model = _late_service(**service)
    r = run_cba(model)
    felt = [y["benefit"] for y in r.yearly if y["org"] == "C"]
    # 20 x 50 = 1,000 in its first year, halving after: not 250 (as if it began in year 0)
    assert felt == pytest.approx([0, 0, 1000, 500])
    assert r.total.npv == pytest.approx(reference.total_npv(model))
