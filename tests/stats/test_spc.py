"""XmR behaviour beyond the peer fixtures: variants, rebasing, icons, NaN, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from carepath.stats import spc

FLAT = [5.0, 6.0] * 10


def test_rebase_gives_each_segment_its_own_limits():
    values = FLAT + [v + 20 for v in FLAT]
    r = spc.xmr(values, improvement_direction="increase", rebase_at=[20])
    assert r.segment[19] == 0 and r.segment[20] == 1
    assert r.mean[0] == pytest.approx(5.5) and r.mean[-1] == pytest.approx(25.5)
    assert not r.special_cause_flag.any()
    whole = spc.xmr(values, improvement_direction="increase")
    assert whole.special_cause_flag.any()


def test_run_length_is_a_parameter():
    values = [6.0, 5.0] * 6 + [5.8] * 6 + [5.0, 6.0] * 3  # six points above the mean
    seven = spc.xmr(values, improvement_direction="increase")
    six = spc.xmr(values, improvement_direction="increase", run_length=6)
    assert not any("Points" in str(t) for t in seven.special_cause_type)
    assert sum("6 Points Above CL" == t for t in six.special_cause_type) == 6


def test_trend_length_is_a_parameter():
    values = [5.0, 5.5] * 6 + [5.0, 5.1, 5.2, 5.3, 5.4, 5.45] + [5.0, 5.5] * 3
    assert not spc.xmr(values, improvement_direction="increase").special_cause_flag[12:18].any()
    six = spc.xmr(values, improvement_direction="increase", trend_length=6)
    assert list(six.special_cause_type[12:18]) == ["6 Point Trend (Increasing)"] * 6


def test_two_in_three_variants_differ_next_to_an_outside_point():
    base = [10.0, 11.0] * 8
    r0 = spc.xmr(base, improvement_direction="increase", screen_outliers=False)
    near = (r0.nupl[0] + r0.upl[0]) / 2  # between 2 and 3 sigma
    values = [*base, near, 1000.0, 10.5]
    nhsr = spc.xmr(values, improvement_direction="increase", fix_after_n_points=16)
    mdc = spc.xmr(values, improvement_direction="increase", fix_after_n_points=16,
                  two_in_three="mdc2023")
    assert nhsr.point_type[16] == "common_cause"
    assert mdc.special_cause_type[16] == "2 in 3 Above CL"
    off = spc.xmr(values, improvement_direction="increase", two_in_three=False)
    assert "2 in 3" not in " ".join(map(str, off.special_cause_type))


def test_icons_by_polarity_and_target():
    up = list(range(10))
    r = spc.xmr(up, improvement_direction="increase", target=100)
    assert r.variation_icon == "improvement_high" and r.assurance_icon == "consistent_fail"
    r = spc.xmr(up, improvement_direction="decrease", target=100)
    assert r.variation_icon == "concern_high" and r.assurance_icon == "consistent_pass"
    r = spc.xmr(up, improvement_direction="neutral", target=100)
    assert r.variation_icon == "neutral_high" and r.assurance_icon is None
    assert spc.xmr(FLAT, improvement_direction="increase").variation_icon == "common_cause"
    assert spc.xmr(FLAT, improvement_direction="increase", target=5.5).assurance_icon == (
        "inconsistent")


def test_nan_points_are_skipped_not_flagged():
    values = FLAT.copy()
    values[3] = np.nan
    r = spc.xmr(values, improvement_direction="increase")
    assert r.point_type[3] is None and not r.special_cause_flag[3]
    assert np.isfinite(r.mean[0]) and r.variation_icon == "common_cause"


def test_short_segments_are_trial_limits():
    assert spc.xmr([1.0, 2.0, 3.0], improvement_direction="increase").trial_limits.all()
    assert not spc.xmr(FLAT, improvement_direction="increase").trial_limits.any()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"improvement_direction": "up"}, "improvement_direction"),
    ({"improvement_direction": "increase", "run_length": 1}, "run_length"),
    ({"improvement_direction": "increase", "rebase_at": [0]}, "rebase_at"),
    ({"improvement_direction": "increase", "fix_after_n_points": 1}, "fix_after_n_points"),
    ({"improvement_direction": "increase", "two_in_three": "excel"}, "two_in_three"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spc.xmr(FLAT, **kwargs)


def test_non_numeric_values_are_rejected():
    with pytest.raises(ValueError, match="values must be numeric"):
        spc.xmr(["a", "b"], improvement_direction="increase")


def test_constant_series_has_limits_on_the_mean():
    r = spc.xmr([3.0] * 15, improvement_direction="decrease")
    assert (r.lpl == 3).all() and (r.upl == 3).all()
    assert not r.special_cause_flag.any() and r.variation_icon == "common_cause"
