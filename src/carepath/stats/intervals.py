"""Confidence intervals for proportions, crude rates and means (PHE/OHID methods).

Every function takes numpy arrays (or scalars, which broadcast) and returns an
:class:`Interval` of float64 arrays. Conventions (PHEindicatormethods, see docs/methods/):

* A NaN numerator or denominator gives NaN value and NaN limits for that element (no error).
* Negative counts, a denominator <= 0 and (for proportions) x > n raise
  :class:`StatsInputError` naming the argument and the first offending index.
* ``confidence`` is a two-sided level in (0, 1]; 1 gives the whole range (0..1 for a
  proportion, 0..inf for a rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from carepath.stats._validate import (
    CONF_95,
    StatsInputError,
    as_float_array,
    broadcast,
    check,
    check_confidence,
    check_positive_scalar,
    nonneg,
    positive,
)

#: Below this count, rate intervals use the exact Poisson (chi-square) method; from it, Byar's.
EXACT_BELOW = 10

METHOD_WILSON = "Wilson"
METHOD_EXACT = "Exact"
METHOD_BYARS = "Byars"
#: Method label of a rate/ratio Interval whose elements use both methods (see rate_methods()).
METHOD_EXACT_BYARS = "Exact/Byars"
METHOD_STUDENT_T = "Student's t-distribution"


@dataclass(frozen=True, eq=False)
class Interval:
    """A point estimate with its two-sided confidence interval (all float64 arrays)."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    method: str
    confidence: float

    def __iter__(self):  # so `value, lower, upper, *_ = interval` works like a NamedTuple
        return iter((self.value, self.lower, self.upper, self.method, self.confidence))

    def to_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Columns for a data frame, e.g. ``{"value", "lower95_0cl", "upper95_0cl"}``."""
        tag = confidence_tag(self.confidence)
        return {
            f"{prefix}value": self.value,
            f"{prefix}lower{tag}cl": self.lower,
            f"{prefix}upper{tag}cl": self.upper,
        }


def confidence_tag(confidence: float) -> str:
    """PHE column tag: 0.95 -> '95_0', 0.998 -> '99_8'."""
    return f"{confidence * 100:.1f}".replace(".", "_")


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile: 0.95 -> 1.959964, 0.998 -> 3.090232, 1 -> inf."""
    return float(special.ndtri(1 - (1 - confidence) / 2))


# ---------------------------------------------------------------------------------- primitives
def wilson_limits(x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits on the proportion scale (no validation; NaN in -> NaN out)."""
    if confidence == 1:
        nan = np.isnan(x) | np.isnan(n)
        return np.where(nan, np.nan, 0.0), np.where(nan, np.nan, 1.0)
    z = z_value(confidence)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        root = z * np.sqrt(z2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z2)
        lower = (2 * x + z2 - root) / denom
        upper = (2 * x + z2 + root) / denom
    # x = 0 and x = n give exactly 0 and 1 (rounding would otherwise leave ~1e-17).
    lower = np.where(x == 0, 0.0, lower)
    upper = np.where(x == n, 1.0, upper)
    return lower, upper


def byars_lower(x: np.ndarray, confidence: float) -> np.ndarray:
    """Byar's lower limit on a Poisson COUNT (NaN where the approximation goes negative)."""
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return np.where(lower < 0, np.nan, lower)


def byars_upper(x: np.ndarray, confidence: float) -> np.ndarray:
    """Byar's upper limit on a Poisson COUNT."""
    z = z_value(confidence)
    x1 = x + 1
    return x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3


def exact_poisson_limits(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (chi-square) limits on a Poisson COUNT: chi2(a/2, 2x)/2 and chi2(1-a/2, 2x+2)/2."""
    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        # chi2.ppf(p, 2k)/2 == gammaincinv(k, p); zero degrees of freedom has all its mass at 0.
        lower = np.where(x > 0, special.gammaincinv(np.where(x > 0, x, 1.0), alpha / 2), 0.0)
        upper = special.gammaincinv(x + 1, 1 - alpha / 2)
    return lower, upper


def poisson_count_limits(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact below EXACT_BELOW, Byar's from it, on the COUNT scale (PHE rule for rates/ISRs)."""
    x = np.asarray(x, dtype=np.float64)
    lower = np.full(x.shape, np.nan)
    upper = np.full(x.shape, np.nan)
    small = x < EXACT_BELOW
    big = x >= EXACT_BELOW
    if confidence == 1:
        lower[small | big] = 0.0
        upper[small | big] = np.inf
        return lower, upper
    if small.any():
        lower[small], upper[small] = exact_poisson_limits(x[small], confidence)
    if big.any():
        lower[big] = byars_lower(x[big], confidence)
        upper[big] = byars_upper(x[big], confidence)
    return lower, upper


def rate_methods(x) -> np.ndarray:
    """Per-element method label of a rate/ISR interval: 'Exact', 'Byars' or None (x NaN)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, None, dtype=object)
    out[x < EXACT_BELOW] = METHOD_EXACT
    out[x >= EXACT_BELOW] = METHOD_BYARS
    return out


def rate_method_label(x: np.ndarray) -> str:
    """'Exact' if every known x < 10, 'Byars' if every known x >= 10, else 'Exact/Byars'."""
    known = x[~np.isnan(x)]
    if known.size and (known < EXACT_BELOW).all():
        return METHOD_EXACT
    if known.size and (known >= EXACT_BELOW).all():
        return METHOD_BYARS
    return METHOD_EXACT_BYARS


# ---------------------------------------------------------------------------------- public API
def proportion(x, n, *, confidence: float = CONF_95, multiplier: float = 1) -> Interval:
    """Proportion x/n with a Wilson score interval, scaled by ``multiplier`` (100 = percent).

    Raises StatsInputError when x < 0, n <= 0 or x > n. NaN x or n gives NaN.
    """
    confidence = check_confidence(confidence)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    x, n = broadcast({"x": as_float_array(x, "x"), "n": as_float_array(n, "n")})
    nonneg(x, "x")
    positive(n, "n")
    with np.errstate(invalid="ignore"):
        check(x > n, "x", "<= n for a proportion (numerator cannot exceed denominator)")
    lower, upper = wilson_limits(x, n, confidence)
    with np.errstate(invalid="ignore"):
        value = x / n
    return Interval(value * multiplier, lower * multiplier, upper * multiplier,
                    METHOD_WILSON, confidence)


def rate(x, n, *, confidence: float = CONF_95, multiplier: float = 100_000) -> Interval:
    """Crude rate x/n per ``multiplier``: exact Poisson limits for x < 10, Byar's for x >= 10.

    x > n is allowed (events can outnumber people). ``method`` is 'Exact', 'Byars', or
    'Exact/Byars' when the array mixes both (use :func:`rate_methods` for each element).
    """
    confidence = check_confidence(confidence)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    x, n = broadcast({"x": as_float_array(x, "x"), "n": as_float_array(n, "n")})
    nonneg(x, "x")
    positive(n, "n")
    lower, upper = poisson_count_limits(x, confidence)
    scale = multiplier / n
    return Interval(x * scale, lower * scale, upper * scale, rate_method_label(x), confidence)


METHOD_WEIGHTED = "Dobson (events weighted by their value)"
# The same interval where each event is a person weighing their number of rows (PHE's method
# for non-independent events: a person's admissions): the engine says which it is.
METHOD_PER_PERSON = "Dobson (non-independent events: each person's events counted together)"
WEIGHTED_METHODS = frozenset({METHOD_WEIGHTED, METHOD_PER_PERSON})
#: Equal weights put sum_sq exactly on its bound total**2 / events; float sums (the engine's
#: over millions of rows) may land a rounding below it, which is not an error.
SUM_SQ_RTOL = 1e-6


def weighted_rate(total, sum_sq, events, n, *, confidence: float = CONF_95,
                  multiplier: float = 1) -> Interval:
    """Rate of a sum over Poisson events each weighted by its own value (bed days: each
    admission an event weighing its days), total / n per ``multiplier``.

    Dobson et al.'s method for a weighted sum of Poisson counts, as for a DSR: the limits of
    the number of events (exact below 10, Byar's from 10) moved by sqrt(sum_sq / events),
    the root mean square weight. Poisson limits on the total itself would treat every bed
    day as an independent event, far too narrow. With every weight 1 it is exactly
    :func:`rate`; with a total of 0 (no events, or events weighing nothing), the value is 0 and the
    limits those of :func:`rate` on 0.
    """
    confidence = check_confidence(confidence)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    total, sum_sq, events, n = broadcast({
        "total": as_float_array(total, "total"), "sum_sq": as_float_array(sum_sq, "sum_sq"),
        "events": as_float_array(events, "events"), "n": as_float_array(n, "n")})
    for arr, name in ((total, "total"), (sum_sq, "sum_sq"), (events, "events")):
        nonneg(arr, name)
    positive(n, "n")
    _check_sum_sq(total, sum_sq, events)
    low_events, high_events = poisson_count_limits(events, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(events > 0, np.sqrt(sum_sq / np.where(events > 0, events, 1)), 1.0)
        lower = np.maximum(total + weight * (low_events - events), 0.0)
        upper = total + weight * (high_events - events)
    # Events that all weigh nothing (admissions of 0 bed days) carry no spread to scale: a
    # zero-width interval would call the area significantly better. Their total is 0, as
    # with no events, and takes the same limits.
    nothing = total == 0
    upper = np.where(nothing, poisson_count_limits(np.zeros_like(total), confidence)[1], upper)
    scale = multiplier / n
    return Interval(total * scale, lower * scale, upper * scale, METHOD_WEIGHTED, confidence)


def _check_sum_sq(total: np.ndarray, sum_sq: np.ndarray, events: np.ndarray) -> None:
    """k weights summing to T have squares summing to at least T^2/k (equal weights): less
    is no set of events, and gave an interval narrower than any (an independent check)."""
    with np.errstate(invalid="ignore"):
        short = (events > 0) & (sum_sq * events < total**2 * (1 - SUM_SQ_RTOL))
    check(short, "sum_sq", ">= total**2 / events (the sum of squares of the weights)")
    # No events weigh nothing: a total without them is no set of events either (a review).
    with np.errstate(invalid="ignore"):
        check((events == 0) & ((total != 0) | (sum_sq != 0)), "total",
              "0 (and sum_sq 0) where there are no events")


def mean_from_summary(total, count, sd, *, confidence: float = CONF_95) -> Interval:
    """Mean total/count with a Student-t interval from a group's sum, size and SD (n-1).

    count < 2 gives a NaN interval (no SD); NaN anywhere gives NaN.
    """
    confidence = check_confidence(confidence, allow_one=False)
    total, count, sd = broadcast({
        "total": as_float_array(total, "total"),
        "count": as_float_array(count, "count"),
        "sd": as_float_array(sd, "sd"),
    })
    positive(count, "count")
    nonneg(sd, "sd")
    with np.errstate(invalid="ignore", divide="ignore"):
        value = total / count
        dof = np.where(count > 1, count - 1, np.nan)
        half = special.stdtrit(dof, 1 - (1 - confidence) / 2) * sd / np.sqrt(count)
    return Interval(value, value - half, value + half, METHOD_STUDENT_T, confidence)


def mean(values, *, confidence: float = CONF_95, axis: int = -1) -> Interval:
    """Mean of ``values`` along ``axis`` with a Student-t interval (PHE ``phe_mean``).

    A 1-D array is one group; a 2-D array (groups x observations) gives one mean per row.
    A NaN observation makes its group NaN (as in PHE, no na.rm); one observation gives a NaN
    interval. Ragged groups: aggregate first and call :func:`mean_from_summary`.
    """
    values = as_float_array(values, "values")
    if values.size == 0:
        raise StatsInputError("values must contain at least one observation")
    count = values.shape[axis]
    total = values.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = values.std(axis=axis, ddof=1) if count > 1 else np.full(np.shape(total), np.nan)
    return mean_from_summary(total, count, sd, confidence=confidence)
