"""Bad input an independent checker found the statistics accepting: each now raises a
StatsInputError naming the argument (never a numpy warning, a bare error or a silent
NaN/inf), or gives the documented answer."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from carepath import stats
from carepath.model.codes import AGE_BANDS
from carepath.stats import funnels, spc, table
from carepath.stats._validate import StatsInputError

# carepath.stats re-exports functions of the same names as these modules.
reliability = importlib.import_module("carepath.stats.reliability")
overdispersion = importlib.import_module("carepath.stats.overdispersion")

ROWS_PER_BAND = 2


# ------------------------------------------------------------------------- 1 dsr table
def _dsr_frame(groups: str = "ab") -> pd.DataFrame:
    rows = [{"area": g, "band": b, "x": 5.0, "n": 1000.0}
            for g in groups for b in AGE_BANDS for _ in range(ROWS_PER_BAND)]
    return pd.DataFrame(rows)


def _dsr_table(df: pd.DataFrame) -> pd.DataFrame:
    return table.compute_table(df, "dsr", numerator="x", denominator="n", ageband="band",
                               groups=["area"])


def test_dsr_table_blank_population_makes_its_group_missing():
    whole = _dsr_table(_dsr_frame())
    df = _dsr_frame()
    df.loc[3, "n"] = np.nan  # one of group a's two rows of a band
    out = _dsr_table(df)
    a, b = out.iloc[0], out.iloc[1]
    assert np.isnan(a.total_pop) and np.isnan(a.value)  # was 37,000 and 525.0
    assert np.isnan(a.lower95_0cl) and np.isnan(a.upper99_8cl)
    pd.testing.assert_series_equal(b, whole.iloc[1], check_names=False)
    assert "1 blank in 'n'" in out.attrs["blank"]


def test_dsr_table_blank_count_is_still_zero():
    df = _dsr_frame("a")
    df.loc[3, "x"] = np.nan
    out = _dsr_table(df)
    assert out.total_count[0] == 5 * ROWS_PER_BAND * len(AGE_BANDS) - 5
    assert np.isfinite(out.value[0]) and out.attrs["blank"] is None


# ------------------------------------------------------------------------- 2 rate_type
@pytest.mark.parametrize("call", [
    lambda: funnels.funnel_significance([5, 20], rate=[10.0, 30.0], statistic="rate",
                                        rate_type="DSR"),
    lambda: funnels.funnel_labels([5, 20], rate=[10.0, 30.0], statistic="rate",
                                  rate_type="DSR"),
    lambda: funnels.rate_denominator([5, 20], rate=[10.0, 30.0], rate_type="DSR"),
    lambda: funnels.funnel_points([5, 20], [10.0, 30.0], rate_type="DSR"),
    lambda: funnels.funnel_limits([5, 20], None, rate=[10.0, 30.0], statistic="rate",
                                  rate_type="directly standardised"),
], ids=["significance", "labels", "rate_denominator", "funnel_points", "funnel_limits"])
def test_rate_type_must_be_crude_or_dsr(call):
    with pytest.raises(StatsInputError, match="rate_type must be one of 'crude', 'dsr'"):
        call()


# ------------------------------------------------------------------------- 3 funnel inputs
@pytest.mark.parametrize(("call", "message"), [
    (lambda: funnels.funnel_limits([1, 2], [-1000, 2000], statistic="rate"), "n must be > 0"),
    (lambda: funnels.funnel_limits([1, 2], [-5, 10], statistic="ratio"), "n must be > 0"),
    (lambda: funnels.funnel_significance([5, 6], rate=[0, 100.0], statistic="rate"),
     "rate must be > 0 where x > 0"),
    (lambda: funnels.funnel_points([5, 6], [0, 100.0]), "rate must be > 0 where x > 0"),
    (lambda: funnels.funnel_significance([5, 6], rate=[-3, 100.0], statistic="rate"),
     "rate must be >= 0"),
    (lambda: funnels.funnel_limits([0, 0], [1000, 2000], statistic="rate"),
     "rate funnel needs a centre > 0"),
    (lambda: funnels.funnel_limits([1, 2], [1000, 2000], statistic="rate", years_of_data=0),
     "years_of_data must be a positive"),
    (lambda: funnels.funnel_points([1, 2], [10.0, 20.0], years_of_data=0),
     "years_of_data must be a positive"),
    (lambda: funnels.funnel_limits([np.nan, np.nan], [10, 20]), "known for at least one"),
    (lambda: funnels.funnel_significance([1, 2], [10, 20], baseline=50), "baseline must be"),
    (lambda: funnels.funnel_limits([1, 2], [10, 20], statistic="rate", baseline=-1),
     "baseline must be"),
])
def test_funnel_inputs_are_refused_clearly(call, message):
    with pytest.raises(StatsInputError, match=message):
        call()


def test_funnel_limits_leave_out_an_area_with_no_denominator():
    """As the ratio and rate funnels do, and the centre always did (it was a bare
    ValueError: cannot convert float NaN to integer)."""
    with_gap = funnels.funnel_limits([1, 2, 3], [10, np.nan, 30])
    known = funnels.funnel_limits([1, 3], [10, 30])
    assert with_gap.baseline == known.baseline
    np.testing.assert_array_equal(with_gap.points, known.points)
    for c in known.lower:
        np.testing.assert_array_equal(with_gap.lower[c], known.lower[c])
        np.testing.assert_array_equal(with_gap.upper[c], known.upper[c])


def test_an_unknown_rate_is_still_not_compared():
    sig = funnels.funnel_significance([5, 6, 7], rate=[np.nan, 100.0, 120.0], statistic="rate",
                                      n=[1000, 6000, 5000])
    assert sig[0] == funnels.NOT_COMPARED


# ------------------------------------------------------------------------- 4 shrinkage
def test_shrinkage_limits_are_finite_at_zero_and_one_hundred_percent():
    s = reliability.shrink([0, 50, 1000], [1000, 100, 1000])
    assert s.prior_strength == reliability.MIN_PRIOR_STRENGTH  # the moments gave M <= 0
    assert np.isfinite(s.lower).all() and np.isfinite(s.upper).all()  # was NaN at 0% and 100%
    assert (s.lower <= s.value).all() and (s.value <= s.upper).all()
    assert 0 <= s.lower[0] < 0.001 < s.upper[0] < 0.01  # 0 of 1,000
    assert 0.99 < s.lower[2] < 0.999 < s.upper[2] <= 1  # 1,000 of 1,000


# ------------------------------------------------------------------------- 5 dsr stdpop
def test_dsr_refuses_an_all_zero_standard_population():
    with pytest.raises(StatsInputError, match="stdpop must be > 0 in at least one"):
        stats.dsr(np.full(19, 10.0), np.full(19, 1000.0), stdpop=np.zeros(19))


# ------------------------------------------------------------------------- 6 overdispersion
@pytest.mark.parametrize(("x", "n", "statistic", "target", "message"), [
    ([0, 0, 0], [10, 20, 30], "proportion", None, "strictly between 0 and 1"),
    ([10, 20, 30], [10, 20, 30], "proportion", None, "strictly between 0 and 1"),
    ([1, 2, 3], [10, 20, 30], "proportion", 1.5, "strictly between 0 and 1"),
    ([1, 2, 3], [10, 20, 30], "proportion", 0, "strictly between 0 and 1"),
    ([0, 0, 0], [10, 20, 30], "rate", None, "> 0 for a rate"),
    ([1, 2, 3], [10, 20, 30], "ratio", 0, "> 0 for a ratio"),
])
def test_overdispersion_refuses_a_target_with_no_spread(x, n, statistic, target, message):
    with pytest.raises(StatsInputError, match=f"target.*{message}"):
        overdispersion.overdispersion(x, n, statistic=statistic, target=target)
    with pytest.raises(StatsInputError, match=f"target.*{message}"):
        overdispersion.od_funnel_significance(x, n, statistic=statistic, target=target)


def test_funnel_significance_with_overdispersion_refuses_it_too():
    with pytest.raises(StatsInputError, match="strictly between 0 and 1"):
        funnels.funnel_significance([0, 0, 0], [10, 20, 30], overdispersion="additive")


# ------------------------------------------------------------------------- 7 quantiles
@pytest.mark.parametrize("missing", [None, np.nan])
def test_a_missing_group_label_is_a_group_of_its_own(missing):
    values = np.arange(12.0)
    q = stats.quantiles(values, 5, groups=["a"] * 6 + [missing] * 6)
    alone = stats.quantiles(values[6:], 5)
    np.testing.assert_array_equal(q[6:], alone)  # was NaN throughout
    np.testing.assert_array_equal(q[:6], stats.quantiles(values[:6], 5))


# ------------------------------------------------------------------------- 8 life table
def test_life_expectancy_refuses_a_third_axis():
    with pytest.raises(StatsInputError, match=r"shaped \(areas, 20\)"):
        stats.life_expectancy(np.ones((2, 2, 20)), np.full((2, 2, 20), 1000.0))


# ------------------------------------------------------------------------- 9 smaller
@pytest.mark.parametrize(("call", "message"), [
    (lambda: stats.rate(np.inf, 100), "x must be finite"),
    (lambda: stats.rate(5, np.inf), "n must be finite"),
    (lambda: stats.proportion(np.inf, np.inf), "x must be finite"),
    (lambda: stats.isratio(5, np.inf), "expected must be finite"),
    (lambda: stats.weighted_rate(np.inf, 10, 10, 100), "total must be finite"),
    (lambda: stats.weighted_rate(100, 10, 10, 100), r"sum_sq must be >= total\*\*2 / events"),
    (lambda: spc.xmr(np.arange(10.0), improvement_direction="increase", rebase_at=[2.7]),
     "rebase_at must be whole positions"),
    (lambda: spc.xmr(np.arange(10.0), improvement_direction="increase", rebase_at=[np.inf]),
     "rebase_at must be whole positions"),
    (lambda: spc.xmr(np.arange(10.0), improvement_direction="increase", target="5"),
     "target must be a number or None"),
])
def test_smaller_bad_input_is_refused(call, message):
    with pytest.raises(StatsInputError, match=message):
        call()


def test_sum_sq_at_its_bound_with_rounding_is_accepted():
    weights = np.full(7, 0.7)  # equal weights: sum_sq is exactly total**2 / events, in theory
    total, sum_sq = weights.sum(), (weights**2).sum()
    assert sum_sq * 7 < total**2  # in floating point, a rounding below it
    ci = stats.weighted_rate(total, sum_sq, 7, 10)
    assert np.isfinite(ci.lower) and ci.value == pytest.approx(0.49)


def test_whole_rebase_positions_given_as_floats_still_work():
    values = np.arange(10.0)
    as_float = spc.xmr(values, improvement_direction="increase", rebase_at=[3.0])
    np.testing.assert_array_equal(
        as_float.segment, spc.xmr(values, improvement_direction="increase",
                                  rebase_at=[3]).segment)


def test_a_weighted_total_without_events_is_refused():
    """A total above 0 from 0 events was accepted (a review)."""
    from carepath.stats import StatsInputError
    from carepath.stats.intervals import weighted_rate

    with pytest.raises(StatsInputError, match="where there are no events"):
        weighted_rate(10, 100, 0, 1000)
    zero = weighted_rate(0, 0, 0, 1000)
    assert float(zero.value[0] if hasattr(zero.value, "__len__") else zero.value) == 0
