"""Fingertips' trend calculator (TrendMarkerCalculator, domain_anchors A1) calls a trend
only when the slope keeps its sign with each of the five points left out in turn. An
independent checker found Carepath calling 'increasing' on four flat points and one jump.
The expected signs are worked out here the way the calculator does: its five running sums
for the weighted regression, and its fixed sums of times for the log-odds of proportions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.stats import StatsInputError, trend_labels, trend_marker
from carepath.stats.trend import SE_FROM_LIMITS_Z

# Fingertips: sum of the times and k * sum of their squares with every point, and with
# point 1..5 left out.
SUM_T = [15, 14, 13, 12, 11, 10]
K_SUM_T2 = [275, 216, 204, 184, 156, 120]


def _proportion_signs(x, n) -> list[int]:
    logit = [math.log(a / (b - a)) for a, b in zip(x, n, strict=True)]
    signs = []
    for out in range(6):
        kept = [(t, v) for t, v in enumerate(logit, 1) if out == 0 or t != out]
        k = len(kept)
        slope = (k * sum(t * v for t, v in kept) - sum(v for _, v in kept) * SUM_T[out]) / (
            K_SUM_T2[out] - SUM_T[out] ** 2)
        signs.append(_sign(slope, max(abs(v) for v in logit)))
    return signs


def _sign(slope: float, scale: float) -> int:
    """A slope of zero breaks the check either way (Fingertips counts it as rising; with
    rounding, which a computed zero was depended on the order of the sums)."""
    return 0 if abs(slope) <= 1e-9 * scale else (1 if slope > 0 else -1)


def _regression_signs(values, se) -> list[int]:
    signs = []
    for out in range(6):
        s = [0.0] * 5
        for t, (v, e) in enumerate(zip(values, se, strict=True), 1):
            if out and t == out:
                continue
            d = e**2
            for i, term in enumerate((1 / d, v * t / d, t / d, v / d, t**2 / d)):
                s[i] += term
        slope = (s[0] * s[1] - s[2] * s[3]) / (s[0] * s[4] - s[2] ** 2)
        signs.append(_sign(slope, max(abs(v) for v in values)))
    return signs


def _expected(marker, signs) -> str:
    """Significant, and every slope the way the test says (Fingertips decides the
    direction from those slopes: a rising test over six falling slopes is no trend)."""
    rising = marker.statistic > 0
    if marker.p_value < 0.002 and all(s == (1 if rising else -1) for s in signs):
        return "increasing" if rising else "decreasing"
    return "no_significant_change"


def test_one_jump_after_a_fall_is_no_trend():
    x, n = [1100, 1000, 1000, 900, 2000], [10_000] * 5
    marker = trend_marker(numerator=x, denominator=n)
    assert marker.p_value < 1e-50  # the chi-squared test alone says "increasing"
    assert marker.label == "No significant change"
    assert _expected(marker, _proportion_signs(x, n)) == "no_significant_change"
    v = np.array([11, 10, 10, 9, 20.0])
    assert trend_marker(v, lower=v - 0.5, upper=v + 0.5).label == "No significant change"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 999), min_size=5, max_size=5))
def test_proportions_are_significant_only_when_fingertips_sign_check_holds(counts):
    n = [1000] * 5
    marker = trend_marker(numerator=counts, denominator=n)
    assert marker.direction == _expected(marker, _proportion_signs(counts, n))
    vector = trend_labels(numerator=[counts], denominator=[n])[0]
    assert vector == marker.label


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(2, 10**6)), min_size=5,
                max_size=5))
def test_with_unequal_denominators_too(pairs):
    n = [max(a, b) for a, b in pairs]
    x = [min(min(a, b), m - 1) for (a, b), m in zip(pairs, n, strict=True)]
    marker = trend_marker(numerator=x, denominator=n)
    assert marker.direction == _expected(marker, _proportion_signs(x, n))
    assert trend_labels(numerator=[x], denominator=[n])[0] == marker.label


def test_a_rising_test_over_falling_slopes_is_no_trend():
    """z = 23 said "Increasing" where all six log-odds slopes fall (a review)."""
    x, n = [100_000, 18, 10, 1, 110_000], [1_000_000, 20, 20, 20, 1_000_000]
    marker = trend_marker(numerator=x, denominator=n, polarity="high_is_good")
    assert marker.statistic > 20 and marker.label == "No significant change"
    assert set(_proportion_signs(x, n)) == {-1}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=5, max_size=5),
       st.lists(st.floats(0.05, 5), min_size=5, max_size=5))
def test_values_are_significant_only_when_fingertips_sign_check_holds(values, halves):
    v, h = np.array(values), np.array(halves)
    marker = trend_marker(v, lower=v - h, upper=v + h)
    se = (2 * h) / (2 * SE_FROM_LIMITS_Z)
    assert marker.direction == _expected(marker, _regression_signs(values, se))


def test_a_level_run_and_one_jump_is_no_trend_either_way():
    flat = np.array([0.05, 0.05, 0.05, 0.05])
    for v in (np.append(flat, 3.5), np.insert(flat, 0, 3.5)):
        assert trend_marker(v, lower=v - 0.05, upper=v + 0.05).label == "No significant change"


def test_an_all_missing_series_beside_others_gives_no_warning():
    labels = trend_labels(numerator=[[np.nan] * 5, [1, 2, 3, 4, 5]], denominator=[[10] * 5] * 2)
    assert labels[0].startswith("Could not be calculated")


def test_a_zero_count_still_gets_a_sign_check():
    rising = trend_marker(numerator=[0, 0, 10, 20, 30], denominator=[100] * 5)
    assert rising.direction == "increasing"


@pytest.mark.parametrize(("x", "n", "said"), [
    ([50, 60, 70, 80, 90], [10] * 5, "larger than its denominator"),
    ([-5, 6, 7, 8, 9], [10] * 5, "must not be negative"),
])
def test_counts_no_proportion_can_have_are_refused(x, n, said):
    with pytest.raises(StatsInputError, match=said):
        trend_marker(numerator=x, denominator=n)
    with pytest.raises(StatsInputError, match=said):
        trend_labels(numerator=[x], denominator=[n])


@pytest.mark.parametrize("points", [0, 1, 2, -3, 2.5, True])
def test_points_must_be_a_whole_number_of_at_least_three(points):
    with pytest.raises(StatsInputError, match="points"):
        trend_marker(numerator=[1, 2, 3, 4, 5], denominator=[10] * 5, points=points)
