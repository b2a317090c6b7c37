"""Methods no peer fixture covers: overdispersion, recent trend, shrinkage/reliability.

Each is checked against a hand calculation or a simulation with a known truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from carepath import stats
from carepath.stats import funnels


@pytest.fixture
def dispersed():
    """200 practices whose true proportions vary (beta(20, 80)): truly overdispersed."""
    rng = np.random.default_rng(3)
    n = rng.integers(50, 3000, 200)
    return rng.binomial(n, rng.beta(20, 80, 200)), n


def test_overdispersion_detected_and_fewer_flags(dispersed):
    x, n = dispersed
    od = stats.overdispersion(x, n)
    assert od.overdispersed and od.phi > 1 and od.tau2 > 0
    plain = funnels.funnel_significance(x, n)
    adjusted = funnels.funnel_significance(x, n, overdispersion="additive")
    assert (adjusted != "similar").sum() < (plain != "similar").sum()
    multiplicative = stats.od_funnel_significance(x, n, method="multiplicative")
    assert set(multiplicative) <= {"higher", "similar", "lower"}


def test_overdispersion_hand_calculation():
    x = np.array([10.0, 20.0, 30.0, 40.0])
    n = np.full(4, 100.0)
    od = stats.overdispersion(x, n, winsor=0)
    t = 0.25
    z = (x / n - t) / np.sqrt(t * (1 - t) / n)
    assert od.phi == pytest.approx(np.mean(z**2))
    w = n / (t * (1 - t))
    assert od.tau2 == pytest.approx((4 * od.phi - 3) / (w.sum() - (w**2).sum() / w.sum()))


def test_no_overdispersion_when_only_chance():
    rng = np.random.default_rng(5)
    n = rng.integers(500, 5000, 300)
    od = stats.overdispersion(rng.binomial(n, 0.3), n)
    assert od.phi < 1.3
    limits = stats.od_funnel_limits([100, 1000], od, method="multiplicative")
    assert (limits.lower[stats.CONF_998] < od.target).all()


def test_overdispersed_limits_are_wider(dispersed):
    x, n = dispersed
    od = stats.overdispersion(x, n)
    exact = stats.funnel_limits(x, n, points=[500.0, 2000.0], multiplier=1)
    adj = stats.od_funnel_limits([500.0, 2000.0], od)
    for c in (stats.CONF_95, stats.CONF_998):
        assert (adj.upper[c] > exact.upper[c]).all() and (adj.lower[c] < exact.lower[c]).all()


def test_trend_marker_proportion_hand_calculation():
    x = np.array([10.0, 12, 15, 18, 22])
    n = np.full(5, 100.0)
    marker = stats.trend_marker(numerator=x, denominator=n, polarity="low_is_good")
    t = np.arange(1, 6)
    p = x.sum() / n.sum()
    u = (x * t).sum() - p * (n * t).sum()
    v = p * (1 - p) * ((n * t**2).sum() - (n * t).sum() ** 2 / n.sum())
    assert marker.statistic == pytest.approx(u / np.sqrt(v))
    assert marker.direction == "no_significant_change"  # z = 2.3 is not significant at 99.8%
    big = stats.trend_marker(numerator=x * 100, denominator=n * 100, polarity="low_is_good")
    assert big.label == "Increasing and getting worse"


def test_trend_marker_regression_and_not_calculated():
    v = np.array([50.0, 48, 46, 44, 42])
    m = stats.trend_marker(v, lower=v - 0.5, upper=v + 0.5, polarity="high_is_good")
    assert m.label == "Decreasing and getting worse"
    m = stats.trend_marker(v[:4], lower=v[:4] - 1, upper=v[:4] + 1)
    assert m.direction == "not_calculated"
    with pytest.raises(ValueError, match="polarity"):
        stats.trend_marker(v, lower=v, upper=v, polarity="up")


def test_shrinkage_recovers_the_prior_and_helps(dispersed):
    x, n = dispersed
    rng = np.random.default_rng(3)
    rng.integers(50, 3000, 200)
    truth = rng.beta(20, 80, 200)
    s = stats.shrink(x, n)
    assert 60 < s.prior_strength < 160  # the generating prior has strength 100
    raw_error = np.mean((x / n - truth) ** 2)
    assert np.mean((s.value - truth) ** 2) < raw_error
    assert (s.lower <= s.value).all() and (s.value <= s.upper).all()
    small, large = np.argmin(n), np.argmax(n)
    assert s.reliability[small] < s.reliability[large]


def test_shrinkage_rates_and_no_variation():
    pop = np.array([1000.0, 5000, 20000, 100000])
    same = stats.shrink(pop * 0.01, pop, statistic="rate", multiplier=1000)
    assert np.allclose(same.value, 10) and np.allclose(same.reliability, 0)
    rng = np.random.default_rng(9)
    pop = rng.integers(1000, 50000, 150).astype(float)
    ev = rng.poisson(rng.gamma(25, 0.01 / 25, 150) * pop)
    s = stats.shrink(ev, pop, statistic="rate", multiplier=1e5)
    assert s.method == "empirical Bayes (Poisson-gamma)"
    assert np.all(np.diff(stats.reliability(ev[np.argsort(pop)], np.sort(pop),
                                            statistic="rate")) >= 0)


@pytest.mark.parametrize("statistic, multiplier", [("proportion", 100), ("rate", 100_000)])
def test_funnel_limits_centre_on_a_given_baseline(statistic, multiplier):
    """A page compares areas with the national value, not with the pooled value of the
    areas shown: ``baseline`` moves the lines, and the pooled value is the default."""
    x = np.array([30.0, 45, 80, 120])
    n = np.array([100.0, 150, 300, 400]) * (1 if statistic == "proportion" else 1000)
    points = [100.0, 400.0] if statistic == "proportion" else [20.0, 90.0]
    pooled = x.sum() / n.sum() * (1 if statistic == "proportion" else multiplier)
    default = stats.funnel_limits(x, n, statistic=statistic, points=points)
    same = stats.funnel_limits(x, n, statistic=statistic, points=points, baseline=pooled)
    higher = stats.funnel_limits(x, n, statistic=statistic, points=points,
                                 baseline=pooled * 1.5)
    for c in (stats.CONF_95, stats.CONF_998):
        np.testing.assert_allclose(same.lower[c], default.lower[c])
        np.testing.assert_allclose(same.upper[c], default.upper[c])
        assert (higher.lower[c] > default.lower[c]).all()
        assert (higher.upper[c] > default.upper[c]).all()
    centre = pooled * 1.5 * (multiplier if statistic == "proportion" else 1)
    assert higher.baseline == pytest.approx(centre)
