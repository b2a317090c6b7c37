"""The vectorised trend labels agree with the one-series trend marker, row by row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.stats import trend_labels, trend_marker

POLARITIES = st.sampled_from(["high_is_good", "low_is_good", "no_judgement"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 500)), min_size=5,
                max_size=5), POLARITIES)
def test_proportion_labels_match_the_scalar_marker(points, polarity):
    x = np.array([min(a, b) for a, b in points], float)
    n = np.array([b for _, b in points], float)
    vector = trend_labels(numerator=x[None, :], denominator=n[None, :], polarity=polarity)
    assert vector[0] == trend_marker(numerator=x, denominator=n, polarity=polarity).label


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1000), min_size=5, max_size=5),
       st.lists(st.floats(0.1, 50), min_size=5, max_size=5), POLARITIES)
def test_value_labels_match_the_scalar_marker(values, halfwidths, polarity):
    v, h = np.array(values), np.array(halfwidths)
    vector = trend_labels(values=v[None, :], lower=(v - h)[None, :], upper=(v + h)[None, :],
                          polarity=polarity)
    scalar = trend_marker(values=v, lower=v - h, upper=v + h, polarity=polarity)
    assert vector[0] == scalar.label


def test_a_clear_rise_and_a_missing_point():
    x = np.array([[10, 20, 30, 40, 50], [10, 20, np.nan, 40, 50]], float)
    n = np.full((2, 5), 100.0)
    labels = trend_labels(numerator=x, denominator=n, polarity="high_is_good")
    assert labels[0] == "Increasing and getting better"
    assert labels[1].startswith("Could not be calculated")
