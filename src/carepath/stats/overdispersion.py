"""Overdispersion-adjusted funnel plots (Spiegelhalter 2005, Stat Med 24:1185-1202).

When areas differ by more than chance (case mix, coding), plain funnels flag too many of
them. Spiegelhalter's method: z-scores against the target, winsorised (default 10% each
end), estimate the overdispersion factor phi = mean(z_w^2); if I*phi > I-1, inflate the
limits either multiplicatively (sqrt(phi) * s) or by an additive random effect
(s^2 + tau^2, tau^2 by DerSimonian-Laird on the winsorised z). Normal approximation on
the natural scale: proportions s = sqrt(t(1-t)/n); ratios O/E, s = sqrt(1/E); rates,
s = sqrt(t/n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from carepath.stats._validate import (
    CONF_95,
    CONF_998,
    StatsInputError,
    as_float_array,
    check_confidence,
)
from carepath.stats.funnels import (
    HIGHER,
    LOWER,
    NOT_COMPARED,
    SIMILAR,
    FunnelLimits,
    _validated_pairs,
)
from carepath.stats.intervals import z_value

#: Fraction winsorised at each end of the z-scores (Spiegelhalter suggests 10%).
DEFAULT_WINSOR = 0.1
Method = Literal["additive", "multiplicative"]


@dataclass(frozen=True, eq=False)
class Overdispersion:
    """Estimated overdispersion of a set of areas about ``target`` (per-unit scale)."""

    statistic: str
    target: float
    phi: float
    tau2: float
    overdispersed: bool
    z: np.ndarray
    z_winsorised: np.ndarray
    areas: int


def _target_and_se(x, n, statistic, target):
    if statistic not in ("proportion", "ratio", "rate"):
        raise StatsInputError(
            f"statistic must be 'proportion', 'ratio' or 'rate'; got {statistic!r}")
    t = _target(x, n, statistic, target)
    if statistic == "proportion":
        return x / n, t, np.sqrt(t * (1 - t) / n)
    if statistic == "ratio":
        return x / n, t, np.sqrt(1 / n)
    return x / n, t, np.sqrt(t / n)


def _target(x, n, statistic, target) -> float:
    """The centre, checked: at a proportion of 0 or 1, or a rate or ratio of 0, every area
    has no spread about it (s = 0) and z was NaN, read as phi = 1 and every area
    'similar' (an independent check)."""
    if target is None:
        t = 1.0 if statistic == "ratio" else float(np.sum(x) / np.sum(n))
        said = "target (here sum x / sum n, as none was given)"
    else:
        try:
            t = float(target)
        except (TypeError, ValueError):
            raise StatsInputError("target must be a number") from None
        said = "target"
    if statistic == "proportion" and not 0 < t < 1:
        raise StatsInputError(f"{said} must be strictly between 0 and 1 for a proportion (a "
                              "fraction; at 0 or 1 no area can differ by chance)")
    if statistic != "proportion" and not (t > 0 and np.isfinite(t)):
        raise StatsInputError(f"{said} must be a finite number > 0 for a {statistic} (about "
                              "0 no area can differ by chance)")
    return t


def _se_at(n, statistic, target):
    n = np.asarray(n, dtype=np.float64)
    if statistic == "proportion":
        return np.sqrt(target * (1 - target) / n)
    if statistic == "ratio":
        return np.sqrt(1 / n)
    return np.sqrt(target / n)


def overdispersion(x, n, *, statistic: str = "proportion", target: float | None = None,
                   winsor: float = DEFAULT_WINSOR) -> Overdispersion:
    """Estimate phi and tau^2 from areas' numerators ``x`` and denominators (or expected) ``n``.

    NaN areas are left out. ``target`` defaults to sum x / sum n (1 for ratios).
    """
    if not 0 <= winsor < 0.5:
        raise StatsInputError(f"winsor must be in [0, 0.5); got {winsor}")
    x, n = _validated_pairs(x, n, statistic)
    known = ~(np.isnan(x) | np.isnan(n))
    x, n = x[known], n[known]
    if x.size < 2:
        raise StatsInputError("overdispersion needs at least 2 areas with known values")
    y, t, s = _target_and_se(x, n, statistic, target)
    z = (y - t) / s
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    zw = np.clip(z, lo, hi)
    areas = z.size
    phi = float(np.mean(zw**2))
    over = areas * phi > areas - 1
    tau2 = 0.0
    if over:
        w = 1 / s**2
        tau2 = max(0.0, float((areas * phi - (areas - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    return Overdispersion(statistic, t, phi if over else 1.0, tau2, bool(over), z, zw, areas)


def _half_width(n, od: Overdispersion, method: Method, confidence: float) -> np.ndarray:
    s = _se_at(n, od.statistic, od.target)
    z = z_value(confidence)
    if method == "multiplicative":
        return z * np.sqrt(od.phi) * s
    if method == "additive":
        return z * np.sqrt(s**2 + od.tau2)
    raise StatsInputError(f"method must be 'additive' or 'multiplicative'; got {method!r}")


def od_funnel_limits(points, od: Overdispersion, *, method: Method = "additive",
                     confidence=(CONF_95, CONF_998), multiplier: float = 1) -> FunnelLimits:
    """Overdispersion-adjusted funnel lines at ``points`` (denominators / expected counts)."""
    axis = as_float_array(points, "points")
    levels = (confidence,) if np.isscalar(confidence) else tuple(confidence)
    result = FunnelLimits(od.statistic, axis, od.target * multiplier)
    for c in levels:
        c = check_confidence(c, allow_one=False)
        h = _half_width(axis, od, method, c)
        lower = np.maximum(od.target - h, 0)  # no statistic here can be negative
        upper = od.target + h
        if od.statistic == "proportion":
            upper = np.minimum(upper, 1)
        result.lower[c], result.upper[c] = lower * multiplier, upper * multiplier
    return result


def od_funnel_significance(x, n, *, statistic: str = "proportion", method: Method = "additive",
                           confidence: float = CONF_998, target: float | None = None,
                           winsor: float = DEFAULT_WINSOR) -> np.ndarray:
    """'higher' / 'similar' / 'lower' against overdispersion-adjusted limits."""
    c = check_confidence(confidence, allow_one=False)
    od = overdispersion(x, n, statistic=statistic, target=target, winsor=winsor)
    x, n = _validated_pairs(x, n, statistic)
    out = np.full(x.shape, SIMILAR, dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = x / n - od.target
        h = _half_width(n, od, method, c)
        out[dev > h] = HIGHER
        out[dev < -h] = LOWER
    out[np.isnan(x) | np.isnan(n)] = NOT_COMPARED
    return out
