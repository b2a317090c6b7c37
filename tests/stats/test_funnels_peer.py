"""Funnel limits and significance against PHEindicatormethods' fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from carepath import stats
from carepath.stats import funnels

FUNNEL_RTOL = 1e-6
LEVELS = {"2s": stats.CONF_95, "3s": stats.CONF_998}


def test_proportion_significance_labels(phe):
    df = phe("funnel_proportion_significance.csv")
    labels = funnels.funnel_labels(df.numerator, df.denominator, statistic="proportion")
    assert list(labels) == list(df.expected_significance)


@pytest.mark.parametrize("file", ["funnel_proportion_limits_all.csv",
                                  "funnel_proportion_limits_denominator_lt_31000.csv"])
def test_proportion_limits(phe, file):
    inputs = phe("funnel_proportion_significance.csv")
    if "lt_31000" in file:
        inputs = inputs[inputs.denominator < 31000]
    expected = phe(file)
    lim = funnels.funnel_limits(inputs.numerator, inputs.denominator, multiplier=100)
    np.testing.assert_array_equal(lim.points, expected.Population)
    np.testing.assert_allclose(lim.baseline, expected.baseline, rtol=FUNNEL_RTOL)
    for tag, conf in LEVELS.items():
        np.testing.assert_allclose(lim.lower[conf], expected[f"lower_{tag}_limit"],
                                   rtol=FUNNEL_RTOL, atol=1e-12)
        np.testing.assert_allclose(lim.upper[conf], expected[f"upper_{tag}_limit"],
                                   rtol=FUNNEL_RTOL)


def test_ratio_significance_labels(phe):
    df = phe("funnel_ratio_significance.csv")
    labels = funnels.funnel_labels(df.observed, df.expected, statistic="ratio")
    assert list(labels) == list(df.expected_significance)


def test_ratio_limits(phe):
    inputs = phe("funnel_ratio_significance.csv")
    expected = phe("funnel_ratio_limits.csv")
    for ratio_type in ("count", "isr"):
        lim = funnels.funnel_limits(inputs.observed, inputs.expected, statistic="ratio",
                                    ratio_type=ratio_type)
        np.testing.assert_array_equal(lim.points, expected.Observed_events)
        for tag, conf in LEVELS.items():
            for side, limits, dens in (("lower", lim.lower, lim.lower_denominator),
                                       ("upper", lim.upper, lim.upper_denominator)):
                np.testing.assert_allclose(dens[conf], expected[f"{side}_{tag}_exp_events"],
                                           rtol=FUNNEL_RTOL)
                # 'count' is O/E - 1: compare O/E, since subtracting 1 inflates the
                # relative error of values near 0 (the bisection agrees to ~5e-7 on E).
                shift = 1.0 if ratio_type == "count" else 0.0
                np.testing.assert_allclose(limits[conf] + shift,
                                           expected[f"{side}_{tag}_{ratio_type}"] + shift,
                                           rtol=FUNNEL_RTOL)


RATE_VARIANTS = [(kind, mult, zero) for kind in ("dsr", "crude") for mult in (100000, 100)
                 for zero in ("with", "without")]


@pytest.mark.parametrize(("kind", "mult", "zero"), RATE_VARIANTS)
def test_rate_significance_labels(phe, kind, mult, zero):
    df = phe("funnel_rate_significance.csv")
    if zero == "without":
        df = df[df["count"] != 0]
    rate = df.rate_dsr if kind == "dsr" else df[f"rate_crude_per_{mult}"]
    if kind == "dsr" and mult == 100:
        rate = rate / 1000  # the dsr column is per 100,000
    labels = funnels.funnel_labels(df["count"], df["pop"], statistic="rate", rate=rate,
                                   rate_type=kind, multiplier=mult)
    assert list(labels) == list(df[f"{kind}_per_{mult}_{zero}_0"])


def _rate_case(phe, case):
    df = phe("funnel_rate_limits_inputs.csv").copy()
    top = df.ev.idxmax()
    if case == 1:
        return {"x": df.ev, "n": None, "rate": df.rate, "rate_type": "dsr"}
    if case == 2:
        df.loc[top, "ev"] = 5
        return {"x": df.ev, "n": None, "rate": df.rate, "rate_type": "crude"}
    df["pop"] = 1e5 * df.ev / df.rate
    df.loc[top, ["ev", "rate"]] = 0
    df = df[df["pop"] > df["pop"].max() / 2]
    return {"x": df.ev, "n": df["pop"], "rate": df.rate, "rate_type": "crude"}


@pytest.mark.parametrize("case", [1, 2, 3])
def test_rate_limits(phe, case):
    expected = phe(f"funnel_rate_limits_expected_{case}.csv")
    kw = _rate_case(phe, case)
    lim = funnels.funnel_limits(kw.pop("x"), kw.pop("n"), statistic="rate", multiplier=1e5,
                                years_of_data=3, **kw)
    np.testing.assert_array_equal(lim.points, expected.Events)
    np.testing.assert_allclose(lim.baseline, expected.baseline, rtol=FUNNEL_RTOL)
    for tag, conf in LEVELS.items():
        for side, limits, dens in (("lower", lim.lower, lim.lower_denominator),
                                   ("upper", lim.upper, lim.upper_denominator)):
            np.testing.assert_allclose(dens[conf], expected[f"{side}_{tag}_population_1_year"],
                                       rtol=FUNNEL_RTOL)
            np.testing.assert_allclose(limits[conf], expected[f"{side}_{tag}_limit"],
                                       rtol=FUNNEL_RTOL)


def test_three_level_and_polarity():
    sig = funnels.funnel_significance([10, 50, 90, np.nan], [100, 100, 100, 100],
                                      baseline=0.5, confidence=stats.CONF_95)
    assert list(sig) == ["lower", "similar", "higher", "not_compared"]
    assert list(funnels.with_polarity(sig, "low_is_good")) == [
        "better", "similar", "worse", "not_compared"]
    assert funnels.with_polarity(sig, "high_is_good")[0] == "worse"
    assert list(funnels.with_polarity(sig, "no_judgement")) == list(sig)
    with pytest.raises(ValueError, match="polarity"):
        funnels.with_polarity(sig, "up")


def test_dsr_funnel_below_ten_not_compared():
    sig = funnels.funnel_significance([5, 500], rate=[10.0, 900.0], statistic="rate",
                                      rate_type="dsr")
    assert sig[0] == "not_compared"


def test_rows_for_charts(phe):
    df = phe("funnel_proportion_significance.csv")
    rows = funnels.funnel_limits(df.numerator, df.denominator).rows()
    assert len(rows) == funnels.FUNNEL_POINTS
    assert set(rows[0]) == {"denominator", "lower95", "upper95", "lower998", "upper998"}


def test_rate_funnel_points(phe):
    df = phe("funnel_rate_limits_inputs.csv")
    top = df.ev.idxmax()
    ev5 = df.ev.copy()
    ev5[top] = 5
    ev0 = df.ev.copy()
    ev0[top] = 0
    cases = [
        (ev5, df.rate, {"rate_type": "dsr", "years_of_data": 3}, ""),
        (df.ev, df.rate, {"rate_type": "crude", "years_of_data": 3}, "_crude"),
        (ev0, df.rate, {"rate_type": "crude", "years_of_data": 5, "n": df["pop"]},
         "_crude_with_denom"),
    ]
    for ev, rate, kw, suffix in cases:
        chart, den = funnels.funnel_points(ev, rate, **kw)
        np.testing.assert_allclose(chart, df[f"rate_chart{suffix}"], rtol=FUNNEL_RTOL,
                                   equal_nan=True)
        np.testing.assert_allclose(den, df[f"denominator_derived{suffix}"], rtol=FUNNEL_RTOL,
                                   equal_nan=True)
