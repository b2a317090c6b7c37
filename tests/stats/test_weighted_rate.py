"""``weighted_rate``: a sum over Poisson events each weighing its own value (bed days per
death), with Dobson's limits. Checked against PHE's DSR (the same formula with weights
standard population / band population) and against the crude rate (every weight 1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath import stats

SETTINGS = settings(max_examples=150, deadline=None)
LEVELS = {"95_0": stats.CONF_95, "99_8": stats.CONF_998}


def test_a_dsr_is_a_weighted_rate_as_phe_computes_it(phe):
    inputs = phe("dsr_inputs.csv")
    expected = phe("dsr_expected.csv")
    expected = expected[expected.independent_events]
    checked = 0
    for row in expected.itertuples(index=False):
        area = inputs[inputs.area == row.area]
        x, n = area["count"].to_numpy(float), area["pop"].to_numpy(float)
        w = (stats.ESP2013 if area.stdpop_name.iloc[0] == "esp2013"
             else area.stdpop.to_numpy(float)) / n
        if x.sum() < stats.DSR_MIN_EVENTS:
            continue  # PHE publishes no DSR below 10 events
        for tag, conf in LEVELS.items():
            lower = getattr(row, f"lower{tag}cl")
            if np.isnan(lower) or lower < 0:
                continue  # blanked upstream, or below the zero this method stops at
            ci = stats.weighted_rate((w * x).sum(), (w * w * x).sum(), x.sum(),
                                     (w * n).sum(), confidence=conf,
                                     multiplier=row.multiplier)
            np.testing.assert_allclose([ci.value, ci.lower, ci.upper],
                                       [row.value, lower, getattr(row, f"upper{tag}cl")],
                                       rtol=1e-9)
            checked += 1
    assert checked >= 10


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 10**7), st.floats(0.5, 0.999))
def test_every_weight_one_is_the_crude_rate(x, n, conf):
    weighted = stats.weighted_rate(x, x, x, n, confidence=conf, multiplier=100)
    plain = stats.rate(x, n, confidence=conf, multiplier=100)
    np.testing.assert_allclose([weighted.value, weighted.lower, weighted.upper],
                               [plain.value, plain.lower, plain.upper], rtol=1e-12)


@SETTINGS
@given(st.integers(1, 10**5), st.integers(1, 10**6), st.floats(0.5, 50))
def test_one_weight_for_every_event_scales_the_crude_rate(x, n, weight):
    weighted = stats.weighted_rate(x * weight, x * weight**2, x, n)
    plain = stats.rate(x, n, multiplier=1)
    np.testing.assert_allclose([weighted.lower, weighted.upper],
                               [weight * plain.lower, weight * plain.upper], rtol=1e-9)


@SETTINGS
@given(st.lists(st.integers(1, 120), min_size=1, max_size=60), st.integers(1, 500))
def test_contains_its_value_never_below_zero_and_wider_than_poisson_on_days(days, deaths):
    days = np.array(days, dtype=float)
    ci = stats.weighted_rate(days.sum(), (days**2).sum(), days.size, deaths)
    assert 0 <= ci.lower <= ci.value <= ci.upper
    naive = stats.rate(days.sum(), deaths, multiplier=1)
    if (days > 1).any():  # longer stays than a day: fewer independent events than days
        assert ci.upper - ci.lower > naive.upper - naive.lower


def test_bad_input_is_named():
    with pytest.raises(stats.StatsInputError, match="sum_sq"):
        stats.weighted_rate(10, -1, 3, 5)
    with pytest.raises(stats.StatsInputError, match="n"):
        stats.weighted_rate(10, 40, 3, 0)


def test_events_weighing_nothing_take_the_limits_of_no_events():
    """Two admissions of 0 bed days gave [0, 0]: 'significantly better' on nothing."""
    none = stats.weighted_rate(0, 0, 0, 5)
    zero_days = stats.weighted_rate(0, 0, 2, 5)
    assert zero_days.upper == pytest.approx(none.upper) and zero_days.upper > 0
