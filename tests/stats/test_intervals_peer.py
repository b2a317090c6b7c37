"""Proportion, rate, mean and the Byars/Wilson primitives against PHEindicatormethods."""

from __future__ import annotations

import numpy as np
import pytest

from carepath import stats
from carepath.stats import intervals

RTOL = 1e-9
LEVELS = {"95_0": stats.CONF_95, "99_8": stats.CONF_998}


def _check_levels(df, fn, **kw):
    for tag, conf in LEVELS.items():
        rows = df[df[f"lower{tag}cl"].notna() | df["value"].isna()]
        for mult, part in rows.groupby("multiplier"):
            ci = fn(part.numerator.to_numpy(), part.denominator.to_numpy(),
                    confidence=conf, multiplier=mult, **kw)
            np.testing.assert_allclose(ci.value, part.value, rtol=RTOL, equal_nan=True)
            np.testing.assert_allclose(ci.lower, part[f"lower{tag}cl"], rtol=RTOL, equal_nan=True)
            np.testing.assert_allclose(ci.upper, part[f"upper{tag}cl"], rtol=RTOL, equal_nan=True)


def test_proportion_matches_phe(phe):
    df = phe("proportion.csv")
    _check_levels(df, stats.proportion)
    assert stats.proportion(1, 2).method == "Wilson"


def test_rate_matches_phe(phe):
    df = phe("rate.csv")
    _check_levels(df, stats.rate)
    methods = stats.rate_methods(df.numerator.to_numpy())
    expected = [m if isinstance(m, str) else None for m in df.method]
    assert list(methods) == expected


def test_rate_method_label_for_whole_arrays():
    assert stats.rate([1, 9], 100).method == "Exact"
    assert stats.rate([10, 900], 100).method == "Byars"
    assert stats.rate([1, 900], 100).method == "Exact/Byars"


def test_primitives_match_phe(phe):
    df = phe("byars_wilson_primitives.csv")
    for row in df.itertuples():
        if row.function == "byars":
            lower = intervals.byars_lower(np.array([row.x]), row.confidence)
            upper = intervals.byars_upper(np.array([row.x]), row.confidence)
        else:
            lower, upper = intervals.wilson_limits(np.array([row.x]), np.array([row.n]),
                                                   row.confidence)
        np.testing.assert_allclose(lower, [row.lowercl], rtol=RTOL, equal_nan=True)
        np.testing.assert_allclose(upper, [row.uppercl], rtol=RTOL)


def test_mean_matches_phe(phe):
    inputs = phe("mean_inputs.csv")
    expected = phe("mean_expected.csv").set_index("group")
    groups = {g: v["values"].to_numpy() for g, v in inputs.groupby("area")}
    groups["ALL (ungrouped, all 26 values)"] = inputs["values"].to_numpy()
    for name, values in groups.items():
        row = expected.loc[name]
        for tag, conf in LEVELS.items():
            ci = stats.mean(values, confidence=conf)
            np.testing.assert_allclose(ci.value, row.value, rtol=RTOL)
            np.testing.assert_allclose(ci.lower, row[f"lower{tag}cl"], rtol=RTOL)
            np.testing.assert_allclose(ci.upper, row[f"upper{tag}cl"], rtol=RTOL)
        summary = stats.mean_from_summary(row.value_sum, row.value_count, row.stdev)
        np.testing.assert_allclose(summary.lower, row.lower95_0cl, rtol=RTOL)


@pytest.mark.parametrize("conf", [0.9, 0.95, 0.998])
def test_exact_poisson_equals_chi_square(conf):
    from scipy.stats import chi2

    x = np.arange(1, 10, dtype=float)
    lower, upper = intervals.exact_poisson_limits(x, conf)
    a = 1 - conf
    np.testing.assert_allclose(lower, chi2.ppf(a / 2, 2 * x) / 2, rtol=1e-12)
    np.testing.assert_allclose(upper, chi2.ppf(1 - a / 2, 2 * x + 2) / 2, rtol=1e-12)
