"""Reliability and empirical-Bayes shrinkage, so small practices are not over-read.

Proportions: beta-binomial. Rates: Poisson-gamma. The prior (the spread of true values
between units) is estimated by the method of moments (DerSimonian-Laird style) from all
units; each unit's estimate is pulled towards the overall value in proportion to how
little data it has. ``reliability`` = share of a unit's observed variance that is signal,
n / (n + M) where M is the prior strength (0 = all noise, 1 = all signal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from carepath.stats._validate import (
    CONF_95,
    StatsInputError,
    check_confidence,
    check_positive_scalar,
)
from carepath.stats.funnels import _validated_pairs

#: Least prior strength M of a proportion's prior: worth one observation. Units vary so much
#: that the moments give M <= 0 (clamped to 0, it left a unit at 0% or 100% a posterior
#: Beta(0, n) whose limits were NaN: an independent check); M of 1 keeps the posterior
#: proper, a Jeffreys-like Beta(x + 1/2, n - x + 1/2) at an overall of 1/2, shrinks next to
#: nothing, and is the floor carepath.domain.benchmarking.opportunity puts on the same prior.
#: (A rate's M = overall / tau^2 is > 0 whenever tau^2 is finite.)
MIN_PRIOR_STRENGTH = 1.0


@dataclass(frozen=True, eq=False)
class Shrinkage:
    """Shrunken (posterior mean) values with equal-tailed credible limits and reliability."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    reliability: np.ndarray
    overall: float
    between_variance: float
    prior_strength: float  # M: pseudo-denominator of the prior (inf = no real variation)
    method: str
    confidence: float


def _between_variance(y, n, overall, within_per_unit) -> float:
    """Method-of-moments between-unit variance on the per-unit scale (0 if none)."""
    big_n = n.sum()
    spread = (n * (y - overall) ** 2).sum() - (y.size - 1) * within_per_unit
    return max(0.0, float(spread / (big_n - (n**2).sum() / big_n)))


def shrink(x, n, *, statistic: Literal["proportion", "rate"] = "proportion",
           confidence: float = CONF_95, multiplier: float = 1) -> Shrinkage:
    """Empirical-Bayes estimates for units with numerators ``x`` and denominators ``n``.

    NaN units get NaN but do not affect the prior. With no between-unit variation every
    unit is shrunk to the overall value (reliability 0).
    """
    c = check_confidence(confidence, allow_one=False)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    if statistic not in ("proportion", "rate"):
        raise StatsInputError(f"statistic must be 'proportion' or 'rate'; got {statistic!r}")
    x, n = _validated_pairs(x, n, statistic)
    known = ~(np.isnan(x) | np.isnan(n))
    if known.sum() < 2:
        raise StatsInputError("shrinkage needs at least 2 units with known values")
    xk, nk = x[known], n[known]
    overall = float(xk.sum() / nk.sum())
    within = overall * (1 - overall) if statistic == "proportion" else overall
    tau2 = _between_variance(xk / nk, nk, overall, within)
    strength = np.inf if tau2 == 0 else (
        within / tau2 - 1 if statistic == "proportion" else overall / tau2)
    if statistic == "proportion":
        strength = max(strength, MIN_PRIOR_STRENGTH)
    alpha = overall * strength
    tail = (1 - c) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        if np.isinf(strength):
            value = np.where(known, overall, np.nan)
            lower = upper = value
            rel = np.where(known, 0.0, np.nan)
        elif statistic == "proportion":
            a, b = x + alpha, n - x + (1 - overall) * strength
            value = a / (a + b)
            lower, upper = special.betaincinv(a, b, tail), special.betaincinv(a, b, 1 - tail)
            rel = n / (n + strength)
        else:
            shape, rate_ = x + alpha, n + strength
            value = shape / rate_
            lower = special.gammaincinv(shape, tail) / rate_
            upper = special.gammaincinv(shape, 1 - tail) / rate_
            rel = n / (n + strength)
    method = "beta-binomial" if statistic == "proportion" else "Poisson-gamma"
    return Shrinkage(value * multiplier, lower * multiplier, upper * multiplier, rel,
                     overall * multiplier, tau2, float(strength), f"empirical Bayes ({method})",
                     c)


def reliability(x, n, *, statistic: Literal["proportion", "rate"] = "proportion") -> np.ndarray:
    """Per-unit reliability n / (n + M): how much of the observed variation is real."""
    return shrink(x, n, statistic=statistic).reliability
