"""Quintiles rank areas of the same type, period and category; float noise is not a rank."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from carepath.engine.comparisons import quintiles


def _cells(values, area_type="practice"):
    return pd.DataFrame({"area_type": area_type, "period": "2024-25", "breakdown": "all",
                         "category": "all", "value": values})


def test_ten_distinct_values_fill_five_quintiles_two_each():
    assert quintiles(_cells(np.arange(10.0))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_national_rows_get_no_quintile():
    assert quintiles(_cells([1.0], area_type="national")).isna().all()


def test_values_equal_but_for_their_last_bits_share_a_quintile():
    # 0.1 + 0.2 and 0.3 differ only in float rounding: one engine's sum order against another's
    noisy = _cells([0.1 + 0.2, 0.3, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1])
    exact = _cells([0.3, 0.3, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert quintiles(noisy).tolist() == quintiles(exact).tolist()


def test_zero_and_float_noise_around_zero_share_a_quintile():
    noisy = _cells([0.1 + 0.2 - 0.3, 0.0, 1.0, 2.0, 3.0])
    exact = _cells([0.0, 0.0, 1.0, 2.0, 3.0])
    assert quintiles(noisy).tolist() == quintiles(exact).tolist()


# Distinct values in the strategy differ by far more than any tolerance (as real indicator
# values do), so one ulp of noise can only ever be noise.
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=40),
       st.floats(1e-6, 1e6), st.integers(0, 20))
def test_one_ulp_of_noise_never_changes_a_quintile(steps, scale, nudge_at):
    values = [step * scale for step in steps]
    clean = _cells(values)
    noisy = clean.copy()
    position = nudge_at % len(values)
    noisy.loc[position, "value"] = np.nextafter(values[position], np.inf)
    assert quintiles(noisy).tolist() == quintiles(clean).tolist()


def test_phe_method_ties_share_the_lowest_rank_and_few_areas_get_none():
    """PHE's quantile method (stats.quantiles is tested on its fixtures): tied areas take
    the quintile of the lowest rank they share; fewer areas than quintiles get none."""
    tied = quintiles(_cells([1.0, 2.0, 3.0, 3.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]))
    assert tied.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintiles(_cells([4.0, 4.0, 4.0, 9.0, 9.0, 1.0])).tolist() == [1, 1, 1, 4, 4, 1]
    assert quintiles(_cells([1.0, 2.0, 3.0])).isna().all()
