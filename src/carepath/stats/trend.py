"""Fingertips "recent trend" marker: is the indicator moving over its last five points?

Fingertips technical guidance: proportions use the chi-squared test for linear trend
(Cochran-Armitage) on the numerators and denominators; other values use a weighted
least-squares regression of value on time with weights 1/SE^2 (SE from the 95% limits).
Significance at 99.8%; at least five points are needed.

As Fingertips' own calculator (TrendMarkerCalculator), a significant slope must also keep
its sign with each point left out in turn: six slopes, all one way, or "No significant
change" (one year's jump alone is no trend). Its slopes are those of the weighted
regression, or for proportions an unweighted regression of the log-odds on time. Where a
count is 0 or all of its denominator the log-odds are infinite; Carepath then takes
log((x + 0.5) / (n - x + 0.5)) for the sign check (Fingertips' arithmetic gives NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from carepath.stats._validate import CONF_998, StatsInputError, as_float_array, check_confidence

TREND_POINTS = 5
# Fewest points a trend can be judged on: with one left out, two must remain for a slope.
MIN_POINTS = 3
#: SEs are recovered from 95% limits: (upper - lower) / (2 * 1.959964).
SE_FROM_LIMITS_Z = float(sps.norm.ppf(0.975))

INCREASING, DECREASING, NO_CHANGE, NOT_CALCULATED = (
    "increasing", "decreasing", "no_significant_change", "not_calculated")
LABELS = {
    (INCREASING, "high_is_good"): "Increasing and getting better",
    (INCREASING, "low_is_good"): "Increasing and getting worse",
    (DECREASING, "high_is_good"): "Decreasing and getting worse",
    (DECREASING, "low_is_good"): "Decreasing and getting better",
    (INCREASING, "no_judgement"): "Increasing",
    (DECREASING, "no_judgement"): "Decreasing",
}


@dataclass(frozen=True)
class TrendMarker:
    """direction: increasing / decreasing / no_significant_change / not_calculated."""

    direction: str
    label: str
    statistic: float
    p_value: float
    method: str
    points: int


# A slope within this much of zero (relative to the values) is zero: sums in another
# order leave 1e-17 of either sign where the exact slope is 0.
SLOPE_ZERO_RELATIVE = 1e-9
# Half a count added to both sides of the log-odds where a count is 0 or its whole
# denominator (the empirical logit), for the sign check only.
EMPIRICAL_LOGIT_HALF = 0.5


def _slopes_leaving_each_out(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares slopes of ``y`` (series x points) on time 1..k: with every
    point, then with each left out in turn (series x (k + 1))."""
    k = y.shape[1]
    t = np.arange(1, k + 1, dtype=float)
    keep = np.vstack([np.ones(k, bool), ~np.eye(k, dtype=bool)])  # (k + 1) x k
    wm = w[:, None, :] * keep[None, :, :]
    s1, st, sy = wm.sum(2), (wm * t).sum(2), (wm * y[:, None, :]).sum(2)
    stt, sty = (wm * t**2).sum(2), (wm * t * y[:, None, :]).sum(2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s1 * sty - st * sy) / (s1 * stt - st**2)


def _sign_is_robust(y: np.ndarray, w: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Fingertips' outlier check: the slope keeps the test's ``direction`` (+1 rising, -1
    falling, per series) with every point and with each left out. Checked against the
    direction, not only among themselves: six falling log-odds slopes under a rising
    chi-squared test read "Increasing" (a review). A slope of zero breaks it either way:
    Fingertips counts zero as rising, so a rise resting on one point passed where a fall
    did not, and rounding decided which a computed zero was (an independent check)."""
    slopes = _slopes_leaving_each_out(y, w)
    scale = np.abs(np.nan_to_num(y)).max(axis=1, keepdims=True)  # no warning on all-NaN
    with np.errstate(invalid="ignore"):
        signs = np.where(np.abs(slopes) <= SLOPE_ZERO_RELATIVE * scale, 0, np.sign(slopes))
    agree = (signs == np.asarray(direction, dtype=float).reshape(-1, 1)).all(1)
    return agree & np.isfinite(slopes).all(1)


def _log_odds(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    edge = ((x <= 0) | (x >= n)).any(1, keepdims=True)
    half = np.where(edge, EMPIRICAL_LOGIT_HALF, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log((x + half) / (n - x + half))


def _check_counts(x: np.ndarray, n: np.ndarray) -> None:
    """Counts a proportion can have (PHE: 0 <= x <= n); unknown ones are not calculated."""
    with np.errstate(invalid="ignore"):
        if (x < 0).any() or (n < 0).any():
            raise StatsInputError("trend: numerators and denominators must not be negative")
        if (x > n).any():
            raise StatsInputError("trend: a numerator is larger than its denominator")


def _not_calculated(reason: str, points: int) -> TrendMarker:
    return TrendMarker(NOT_CALCULATED, f"Could not be calculated ({reason})", np.nan, np.nan,
                       "", points)


def _chi_square_trend(x: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage statistic (signed z) and two-sided p, times scored 1..k."""
    t = np.arange(1, x.size + 1, dtype=float)
    p = x.sum() / n.sum()
    u = (x * t).sum() - p * (n * t).sum()
    v = p * (1 - p) * ((n * t**2).sum() - (n * t).sum() ** 2 / n.sum())
    if v <= 0:
        return 0.0, 1.0
    z = u / np.sqrt(v)
    return float(z), float(2 * sps.norm.sf(abs(z)))


def _weighted_regression(y: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    t = np.arange(1, y.size + 1, dtype=float)
    w = 1 / se**2
    tbar, ybar = (w * t).sum() / w.sum(), (w * y).sum() / w.sum()
    sxx = (w * (t - tbar) ** 2).sum()
    slope = (w * (t - tbar) * (y - ybar)).sum() / sxx
    z = slope / np.sqrt(1 / sxx)
    return float(z), float(2 * sps.norm.sf(abs(z)))


def trend_marker(values=None, *, lower=None, upper=None, numerator=None, denominator=None,
                 polarity: str = "no_judgement", confidence: float = CONF_998,
                 points: int = TREND_POINTS) -> TrendMarker:
    """Recent-trend marker over the last ``points`` time periods (oldest first).

    Give ``numerator`` and ``denominator`` for a proportion (chi-squared trend test), or
    ``values`` with their 95% ``lower``/``upper`` limits (weighted regression).
    """
    c = check_confidence(confidence, allow_one=False)
    if polarity not in ("high_is_good", "low_is_good", "no_judgement"):
        raise StatsInputError("polarity must be 'high_is_good', 'low_is_good' or "
                              f"'no_judgement'; got {polarity!r}")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or \
            points < MIN_POINTS:
        raise StatsInputError(f"points must be a whole number of at least {MIN_POINTS} (one "
                              f"left out must leave a slope); got {points!r}")
    if numerator is not None and denominator is not None:
        x = as_float_array(numerator, "numerator")[-points:]
        n = as_float_array(denominator, "denominator")[-points:]
        method = "chi-squared test for trend"
        if x.size < points or np.isnan(x).any() or np.isnan(n).any() or (n <= 0).any():
            return _not_calculated(f"needs {points} known points", int(x.size))
        _check_counts(x, n)
        z, p = _chi_square_trend(x, n)
        robust = _sign_is_robust(_log_odds(x[None], n[None]), np.ones((1, x.size)),
                                 np.sign([z]))[0]
    elif values is not None and lower is not None and upper is not None:
        y = as_float_array(values, "values")[-points:]
        se = ((as_float_array(upper, "upper") - as_float_array(lower, "lower"))
              / (2 * SE_FROM_LIMITS_Z))[-points:]
        method = "weighted least-squares regression"
        if y.size < points or np.isnan(y).any() or np.isnan(se).any() or (se <= 0).any():
            return _not_calculated(f"needs {points} points with limits", int(y.size))
        z, p = _weighted_regression(y, se)
        robust = _sign_is_robust(y[None], 1 / se[None] ** 2, np.sign([z]))[0]
    else:
        raise StatsInputError("trend_marker needs numerator and denominator, or values with "
                              "lower and upper")
    if p >= 1 - c or not robust:
        return TrendMarker(NO_CHANGE, "No significant change", z, p, method, points)
    direction = INCREASING if z > 0 else DECREASING
    return TrendMarker(direction, LABELS[(direction, polarity)], z, p, method, points)


def trend_labels(*, numerator=None, denominator=None, values=None, lower=None, upper=None,
                 polarity: str = "no_judgement", confidence: float = CONF_998) -> np.ndarray:
    """:func:`trend_marker` labels for many series at once: 2-D inputs shaped
    (series, points), oldest first, all rows the same length (>= TREND_POINTS; the last
    TREND_POINTS are used). Same tests, same labels, vectorised for whole countries."""
    c = check_confidence(confidence, allow_one=False)
    if numerator is not None and denominator is not None:
        x = np.atleast_2d(as_float_array(numerator, "numerator"))[:, -TREND_POINTS:]
        n = np.atleast_2d(as_float_array(denominator, "denominator"))[:, -TREND_POINTS:]
        t = np.arange(1, x.shape[1] + 1, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = x.sum(1) / n.sum(1)
            u = (x * t).sum(1) - p * (n * t).sum(1)
            v = p * (1 - p) * ((n * t**2).sum(1) - (n * t).sum(1) ** 2 / n.sum(1))
            z = np.where(v > 0, u / np.sqrt(v), 0.0)
        bad = np.isnan(x).any(1) | np.isnan(n).any(1) | (n <= 0).any(1) | \
            (x.shape[1] < TREND_POINTS)
        _check_counts(x[~bad], n[~bad])
        robust = _sign_is_robust(_log_odds(x, n), np.ones(x.shape), np.sign(z))
        reason = f"Could not be calculated (needs {TREND_POINTS} known points)"
    elif values is not None and lower is not None and upper is not None:
        y = np.atleast_2d(as_float_array(values, "values"))[:, -TREND_POINTS:]
        se = ((np.atleast_2d(as_float_array(upper, "upper"))
               - np.atleast_2d(as_float_array(lower, "lower"))) / (2 * SE_FROM_LIMITS_Z))[
            :, -TREND_POINTS:]
        t = np.arange(1, y.shape[1] + 1, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = 1 / se**2
            tbar = (w * t).sum(1) / w.sum(1)
            ybar = (w * y).sum(1) / w.sum(1)
            sxx = (w * (t - tbar[:, None]) ** 2).sum(1)
            slope = (w * (t - tbar[:, None]) * (y - ybar[:, None])).sum(1) / sxx
            z = slope / np.sqrt(1 / sxx)
        bad = np.isnan(y).any(1) | np.isnan(se).any(1) | (se <= 0).any(1) | \
            (y.shape[1] < TREND_POINTS)
        robust = _sign_is_robust(y, w, np.sign(z))
        reason = f"Could not be calculated (needs {TREND_POINTS} points with limits)"
    else:
        raise StatsInputError("trend_labels needs numerator and denominator, or values with "
                              "lower and upper")
    p_value = 2 * sps.norm.sf(np.abs(z))
    increasing = LABELS.get((INCREASING, polarity))
    decreasing = LABELS.get((DECREASING, polarity))
    if increasing is None:
        raise StatsInputError("polarity must be 'high_is_good', 'low_is_good' or "
                              f"'no_judgement'; got {polarity!r}")
    out = np.where((p_value >= 1 - c) | ~robust, "No significant change",
                   np.where(z > 0, increasing, decreasing)).astype(object)
    out[bad] = reason
    return out
