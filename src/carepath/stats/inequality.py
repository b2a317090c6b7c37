"""Quantiles (e.g. deprivation deciles) and the slope/relative index of inequality.

Both follow PHEindicatormethods (``phe_quantile``, ``phe_sii``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from carepath.stats._validate import (
    CONF_95,
    StatsInputError,
    as_float_array,
    check,
    check_confidence,
)

MIN_QUANTILES, MAX_QUANTILES = 5, 100
MIN_REPETITIONS = 1000
DEFAULT_REPETITIONS = 100_000
#: PHE derives a standard error from 95% limits whatever confidence is asked for.
SE_FROM_LIMITS_Z = float(sps.norm.ppf(0.975))
VALUE_NORMAL, VALUE_RATE, VALUE_PROPORTION = 0, 1, 2


def quantiles(values, nquantiles: int = 10, *, invert=True, groups=None) -> np.ndarray:
    """Quantile (1..nquantiles) of each value within its group; NaN values get NaN.

    ``invert=True`` puts the highest values in quantile 1 (PHE's default); it may also be
    one flag per value (e.g. from polarity), which must then be constant within each group.
    Ties share the lowest rank. A group with fewer known values than quantiles gets NaN
    throughout. ``groups`` (same length) computes quantiles within each group label.
    """
    v = as_float_array(values, "values")
    if v.ndim != 1:
        raise StatsInputError(f"values must be 1-D; got shape {v.shape}")
    if not (isinstance(nquantiles, int | np.integer) and nquantiles >= 1):
        raise StatsInputError(f"nquantiles must be a whole number >= 1; got {nquantiles!r}")
    out = np.full(v.shape, np.nan)
    labels = np.zeros(v.size, dtype=int) if groups is None else np.asarray(groups)
    if labels.shape != v.shape:
        raise StatsInputError(f"groups must have one label per value; got {labels.shape} "
                              f"for values {v.shape}")
    flags = np.broadcast_to(np.asarray(invert, dtype=bool), v.shape)
    # A missing label (None, NaN) is a group of its own, as PHE's dplyr group_by makes it;
    # groupby dropped those rows and left them NaN (an independent check). Codes from
    # factorize keep that group and compare equal, where NaN labels do not.
    codes = pd.factorize(labels, use_na_sentinel=False)[0]
    # Every group at once (an indicator's values hold thousands of groups).
    frame = pd.DataFrame({"g": codes, "flag": flags, "v": v})
    mixed = frame.groupby("g", sort=False)["flag"].transform("nunique").to_numpy() > 1
    if mixed.any():
        first = int(np.flatnonzero(codes == codes[np.argmax(mixed)])[0])
        raise StatsInputError(f"invert must be the same for every value in a group; group "
                              f"starting at index {first} mixes True and False")
    frame["v"] = np.where(flags, -v, v)
    by_group = frame.groupby("g", sort=False)["v"]
    ranked = by_group.rank(method="min").to_numpy()  # ties share the lowest rank; NaN stays
    count = by_group.transform("count").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.floor((nquantiles + 1) - np.ceil(((count + 1) - ranked) /
                                                  (count / nquantiles)))
    q = np.where(q == 0, 1, q)
    out[:] = np.where(np.isnan(v) | (count < nquantiles), np.nan, q)
    return out


# ------------------------------------------------------------------------- SII / RII
@dataclass(frozen=True, eq=False)
class SiiResult:
    """Per area: slope and relative index of inequality, intercept and simulated limits."""

    sii: np.ndarray
    rii: np.ndarray
    intercept: np.ndarray
    sii_lower: np.ndarray
    sii_upper: np.ndarray
    rii_lower: np.ndarray
    rii_upper: np.ndarray
    confidence: float
    method: str


def _forward(value, value_type):
    with np.errstate(divide="ignore", invalid="ignore"):
        if value_type == VALUE_RATE:
            return np.log(value)
        if value_type == VALUE_PROPORTION:
            return np.log(value / (1 - value))
    return value


def _inverse(value, value_type):
    if value_type == VALUE_RATE:
        return np.exp(value)
    if value_type == VALUE_PROPORTION:
        return sps.logistic.cdf(value)
    return value


def _rank_midpoints(weights: np.ndarray) -> np.ndarray:
    """Cumulative-population midpoints (each quantile's relative rank), along the last axis."""
    return np.cumsum(weights, axis=-1) - weights / 2


def _wls(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares y ~ b0 + b1 * b with weights a (sum a = 1), along the last axis.

    Closed form of the regression through the origin on sqrt(a), b*sqrt(a) that PHE fits.
    """
    mean_b = (a * b).sum(axis=-1)
    mean_y = (a * y).sum(axis=-1)
    slope = (a * (b - mean_b[..., None]) * (y - mean_y[..., None])).sum(axis=-1) / (
        a * (b - mean_b[..., None]) ** 2).sum(axis=-1)
    return mean_y - slope * mean_b, slope


def _indices(b0, b1, value_type, transform):
    if transform:
        top, bottom = _inverse(b0 + b1, value_type), _inverse(b0, value_type)
        return top - bottom, top / bottom, bottom
    return b1, (b0 + b1) / b0, b0


def sii(value, population, *, value_type: int = VALUE_NORMAL, se=None, lower=None,
        upper=None, transform: bool = False, multiplier: float = 1,
        confidence: float = CONF_95, repetitions: int = DEFAULT_REPETITIONS,
        seed: int | None = 0) -> SiiResult:
    """SII and RII per area from quantile values shaped (areas, quantiles), ranked 1..Q.

    value_type 0 normal, 1 rate (log scale for the error), 2 proportion (logit scale).
    Give ``se`` (on that scale) or the 95% ``lower``/``upper`` limits. ``transform`` fits on
    the log/logit scale. Limits come from ``repetitions`` simulations (seeded, so repeatable).
    A negative multiplier reverses the SII and inverts the RII.
    """
    c = check_confidence(confidence, allow_one=False)
    v = np.atleast_2d(as_float_array(value, "value"))
    pop = np.atleast_2d(as_float_array(population, "population")) * np.ones_like(v)
    _check_sii(v, pop, value_type, repetitions, transform)
    _check_tail(c, repetitions)
    sd = _sii_se(v, value_type, se, lower, upper)
    a = pop / pop.sum(axis=-1, keepdims=True)
    b = _rank_midpoints(a)
    fit_y = _forward(v, value_type) if transform else v
    b0, b1 = _wls(fit_y, a, b)
    s, r, intercept = _indices(b0, b1, value_type, transform)
    lo_s, hi_s, lo_r, hi_r = _simulate(v, sd, a, b, value_type, transform, c, repetitions, seed)
    if multiplier < 0:
        s, lo_s, hi_s = s * multiplier, hi_s * multiplier, lo_s * multiplier
        r, lo_r, hi_r = 1 / r, 1 / hi_r, 1 / lo_r
    else:
        s, lo_s, hi_s = s * multiplier, lo_s * multiplier, hi_s * multiplier
    return SiiResult(s, r, intercept, lo_s, hi_s, lo_r, hi_r, c,
                     f"weighted regression; simulation {repetitions} reps")


def _check_sii(v, pop, value_type, repetitions, transform) -> None:
    q = v.shape[-1]
    if not MIN_QUANTILES <= q <= MAX_QUANTILES:
        raise StatsInputError(f"value must have {MIN_QUANTILES}-{MAX_QUANTILES} quantiles "
                              f"(columns); got {q}")
    if value_type not in (VALUE_NORMAL, VALUE_RATE, VALUE_PROPORTION):
        raise StatsInputError(f"value_type must be 0 (normal), 1 (rate) or 2 (proportion); "
                              f"got {value_type!r}")
    if transform and value_type == VALUE_NORMAL:
        raise StatsInputError("transform=True needs value_type 1 (rate) or 2 (proportion)")
    if repetitions < MIN_REPETITIONS:
        raise StatsInputError(f"repetitions must be >= {MIN_REPETITIONS}; got {repetitions}")
    with np.errstate(invalid="ignore"):
        check(~(pop > 0), "population", "> 0 in every quantile")
        check(np.isnan(v), "value", "known in every quantile")
        if value_type == VALUE_PROPORTION:
            check((v < 0) | (v > 1), "value", "between 0 and 1 for a proportion")
        if value_type == VALUE_RATE:  # its error is on the log scale
            check(~(v > 0), "value", "> 0 for a rate")


def _check_tail(confidence: float, repetitions: int) -> None:
    """The lower limit is the simulation's value at position round(R * tail) (PHE), which
    must be at least the first: at 99.9% with 1,000 repetitions it was position 0, and
    Python's index -1 gave the largest value (an independent check)."""
    if _positions(confidence, repetitions)[0] < 0:
        needed = math.ceil(0.5 / ((1 - confidence) / 2))  # round() then reaches 1
        while _positions(confidence, needed)[0] < 0:
            needed += 1
        raise StatsInputError(f"repetitions: {confidence * 100:g}% confidence needs at least "
                              f"{needed:,} repetitions for its limits; got {repetitions:,}")


def _positions(confidence: float, repetitions: int) -> tuple[int, int]:
    """0-based positions of the lower and upper limits among the sorted simulations:
    PHE's round(R * (1 - c')) and round(R * c'), c' = c + (1 - c) / 2, 1-based."""
    upper_tail = confidence + (1 - confidence) / 2
    return (round(repetitions * (1 - upper_tail)) - 1, round(repetitions * upper_tail) - 1)


def _sii_se(v, value_type, se, lower, upper) -> np.ndarray:
    if se is not None:
        sd = np.atleast_2d(as_float_array(se, "se")) * np.ones_like(v)
    elif lower is not None and upper is not None:
        lo = _forward(np.atleast_2d(as_float_array(lower, "lower")), value_type)
        hi = _forward(np.atleast_2d(as_float_array(upper, "upper")), value_type)
        sd = (hi - lo) / SE_FROM_LIMITS_Z / 2
    else:
        raise StatsInputError("sii needs se, or both lower and upper (95% limits)")
    with np.errstate(invalid="ignore"):
        check(~((sd >= 0) & np.isfinite(sd)), "se",
              ">= 0 and finite in every quantile (a rate's lower limit above 0)")
    return sd


def _simulate(v, sd, a, b, value_type, transform, confidence, reps, seed):
    rng = np.random.default_rng(seed)
    centre = _forward(v, value_type)
    pos = _positions(confidence, reps)
    out = np.empty((4, v.shape[0]))
    for i in range(v.shape[0]):  # one area at a time keeps memory at reps x quantiles
        draws = rng.normal(centre[i], sd[i], size=(reps, v.shape[1]))
        y = draws if transform else _inverse(draws, value_type)
        b0, b1 = _wls(y, a[i], b[i])
        s, r, _ = _indices(b0, b1, value_type, transform)
        s.sort()
        r.sort()
        out[:, i] = s[pos[0]], s[pos[1]], r[pos[0]], r[pos[1]]
    return out[0], out[1], out[2], out[3]
