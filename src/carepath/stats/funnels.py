"""Funnel plots: control limits and significance for proportions, ratios and rates.

Follows the Fingertips funnel-plot guidance as implemented by PHEindicatormethods
(``calculate_funnel_limits`` / ``assign_funnel_significance``): Wilson-based limits for
proportions; exact Poisson limits (found by bisection, as the PHE Excel macro does) for
ratios and rates. Overdispersion-adjusted limits (Spiegelhalter 2005) are in
:mod:`carepath.stats.overdispersion`.

Three-level results are ``'higher'``, ``'similar'``, ``'lower'`` or ``'not_compared'``
(a NaN input, or a DSR from fewer than 10 events); :func:`with_polarity` turns them into
better/similar/worse. :func:`funnel_labels` gives PHE's five labels ("High (0.001)", ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import special

from carepath.stats._validate import (
    CONF_95,
    CONF_998,
    StatsInputError,
    as_float_array,
    broadcast,
    check,
    check_confidence,
    check_positive_scalar,
    finite,
    nonneg,
    positive,
)
from carepath.stats.intervals import poisson_count_limits, z_value
from carepath.stats.standardise import DSR_MIN_EVENTS

Statistic = Literal["proportion", "ratio", "rate"]
RateType = Literal["crude", "dsr"]
RATE_TYPES = ("crude", "dsr")

HIGHER, SIMILAR, LOWER, NOT_COMPARED = "higher", "similar", "lower", "not_compared"
BETTER, WORSE = "better", "worse"
#: PHE labels, most extreme first (the order in which PHE tests them).
PHE_LABELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)", "Not significant")
PHE_DSR_NOT_APPLICABLE = "Not applicable for events less than 10 for dsrs"

#: Number of points on a funnel's x axis (PHE).
FUNNEL_POINTS = 100
#: The axis starts at 0 when the largest denominator is more than this times the smallest.
AXIS_ZERO_SPREAD = 2
AXIS_FLOOR_FACTOR, AXIS_CEILING_FACTOR = 0.95, 1.05
#: Bisection of the PHE macro: halve the step until it is at most this (on v = E/(1+obs+E)).
BISECTION_TOLERANCE = 1e-7


# ------------------------------------------------------------------------- proportion limits
def proportion_limit(n, baseline: float, confidence: float, side: str,
                     multiplier: float = 1) -> np.ndarray:
    """Proportion at denominator n whose Wilson interval just touches ``baseline``.

    ``side`` 'lower' or 'upper'; one-sided tail (1 - confidence)/2. Not clamped.
    """
    n = np.asarray(n, dtype=np.float64)
    q = z_value(confidence) ** 2
    a = baseline * (n / q + 1)
    inner = (8 * a) ** 2 - 64 * (1 / q + 1 / n) * baseline * (
        n * (baseline * (n / q + 2) - 1) + q * (baseline - 1))
    b = np.sqrt(np.maximum(inner, 0.0))
    sign = -1 if side == "lower" else 1
    return (a + sign * b / 8) / (1 / q + 1 / n) / n * multiplier


# ------------------------------------------------------------------------- Poisson funnels
def poisson_funnel(obs, tail: float, side: str) -> np.ndarray:
    """Expected count E at which ``obs`` events sit on a Poisson funnel (PHE bisection).

    side 'upper': P(X >= obs | E) = tail (E below obs; gives the UPPER ratio limit obs/E).
    side 'lower': P(X <= obs | E) = tail (E above obs; gives the LOWER ratio limit).
    Vectorised over ``obs``; 23 halvings of the step, exactly as the PHE macro.
    """
    obs = np.asarray(obs, dtype=np.float64)
    v = np.full(obs.shape, 0.5)
    dv = 0.5
    while dv > BISECTION_TOLERANCE:
        dv /= 2
        e = (1 + obs) * v / (1 - v)
        if side == "upper":
            # P(X >= obs); pdtrc(k, e) = P(X > k). obs = 0 has probability 1.
            prob = np.where(obs > 0, special.pdtrc(np.maximum(obs - 1, 0), e), 1.0)
            v = np.where(prob > tail, v - dv, v + dv)
        else:
            prob = special.pdtr(obs, e)
            v = np.where(prob < tail, v - dv, v + dv)
    return (1 + obs) * v / (1 - v)


# ------------------------------------------------------------------------- x axis
def _r_nchar(value: float) -> int:
    """Characters R's as.character() uses for a whole number (it switches to 1e+05 style)."""
    fixed = f"{value:.0f}"
    digits = fixed.lstrip("-")
    mantissa = digits.rstrip("0") or "0"
    sci = len(mantissa) + (1 if len(mantissa) > 1 else 0) + 4  # "d.ddde+XX"
    return min(len(fixed), sci)


def _signif_floor(x: float) -> float:
    if x == 0:
        return 0.0
    scaled = math.floor(x * AXIS_FLOOR_FACTOR)
    p = 10 ** (_r_nchar(scaled) - 1)
    return math.floor(x * AXIS_FLOOR_FACTOR / p) * p


def _signif_ceiling(x: float) -> float:
    if x == 0:
        return 0.0
    scaled = math.ceil(x * AXIS_CEILING_FACTOR)
    p = 10.0 ** (_r_nchar(scaled) - 2)
    return math.ceil(x * AXIS_CEILING_FACTOR / p) * p


def funnel_axis(min_denominator: float, max_denominator: float, *, first_offset: int = 0,
                points: int = FUNNEL_POINTS) -> np.ndarray:
    """PHE's geometric x axis from the denominators' range (whole numbers, increasing).

    ``first_offset`` is 0 for proportions and rates and 1 for ratios (as PHE does).
    """
    low = 0.0 if max_denominator > AXIS_ZERO_SPREAD * min_denominator \
        else _signif_floor(min_denominator)
    return geometric_axis(low, _signif_ceiling(max_denominator), first_offset=first_offset,
                          points=points)


def geometric_axis(low: float, high: float, *, first_offset: int = 0,
                   points: int = FUNNEL_POINTS) -> np.ndarray:
    out = [max(1.0, low)]
    for j in range(2, points + 1):
        prev = out[-1]
        step = (high / prev) ** (1 / (points + 1 - (j - first_offset))) * prev
        out.append(max(float(np.round(step)), prev + 1))
    return np.array(out)


# ------------------------------------------------------------------------- typed result
@dataclass(frozen=True, eq=False)
class FunnelLimits:
    """Funnel lines at ``points`` for each confidence level.

    proportion: points are denominators; lower/upper are proportions x multiplier.
    ratio: points are observed events; ``denominator`` holds the expected events at which
    each point sits on the line; lower/upper are O/E (ratio_type 'ratio'), O/E - 1
    ('count') or O/E x 100 ('isr').
    rate: points are events; ``denominator`` holds the population (per year of data);
    lower/upper are rates x multiplier.
    """

    statistic: str
    points: np.ndarray
    baseline: float
    lower: dict[float, np.ndarray] = field(default_factory=dict)
    upper: dict[float, np.ndarray] = field(default_factory=dict)
    lower_denominator: dict[float, np.ndarray] = field(default_factory=dict)
    upper_denominator: dict[float, np.ndarray] = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """One dict per point, keys as ``carepath.charts.funnel_plot`` expects."""
        out = []
        for i, point in enumerate(self.points):
            row = {"denominator": float(point)}
            for conf in self.lower:
                tag = "95" if conf == CONF_95 else ("998" if conf == CONF_998 else str(conf))
                row[f"lower{tag}"] = float(self.lower[conf][i])
                row[f"upper{tag}"] = float(self.upper[conf][i])
            out.append(row)
        return out


def _tail(confidence: float) -> float:
    return (1 - confidence) / 2


def _check_levels(confidence) -> tuple[float, ...]:
    levels = (confidence,) if np.isscalar(confidence) else tuple(confidence)
    return tuple(check_confidence(c, allow_one=False) for c in levels)


def _check_rate_type(rate_type) -> None:
    # Anything but "dsr" was taken as crude: "DSR" lost the DSR rules (an independent check).
    if rate_type not in RATE_TYPES:
        raise StatsInputError(f"rate_type must be one of {', '.join(map(repr, RATE_TYPES))}; "
                              f"got {rate_type!r}")


def _check_baseline(baseline, statistic) -> None:
    """A given centre: a proportion as a fraction in [0, 1], a rate >= 0 (None: pooled)."""
    if baseline is None or statistic == "ratio":
        return
    try:
        b = float(baseline)
    except (TypeError, ValueError):
        raise StatsInputError("baseline must be a number") from None
    if statistic == "proportion" and not 0 <= b <= 1:
        raise StatsInputError("baseline must be a proportion between 0 and 1 (a fraction, "
                              "not a percentage)")
    if statistic == "rate" and not (b >= 0 and np.isfinite(b)):
        raise StatsInputError("baseline must be a finite rate >= 0")


def _known_range(values: np.ndarray, name: str) -> tuple[float, float]:
    """Smallest and largest known value, for the x axis (NaN areas are left out)."""
    known = values[~np.isnan(values)]
    if not known.size:
        raise StatsInputError(f"{name} must be known for at least one area to draw a funnel")
    return float(known.min()), float(known.max())


def _derived_denominator(x: np.ndarray, rate, multiplier: float) -> np.ndarray:
    """``multiplier * x / rate``: a rate of 0 from 5 events gave an infinite denominator and
    'similar' (an independent check), so a known rate must be > 0 where there are events."""
    x, rate = broadcast({"x": x, "rate": as_float_array(rate, "rate")})
    finite(rate, "rate")
    with np.errstate(invalid="ignore"):
        check(rate < 0, "rate", ">= 0 (rates cannot be negative)")
        check((x > 0) & (rate == 0), "rate", "> 0 where x > 0 (events at a rate of 0 have "
                                             "no denominator)")
    with np.errstate(divide="ignore", invalid="ignore"):
        return multiplier * x / rate


def rate_denominator(x, n=None, rate=None, *, rate_type: RateType = "crude",
                     multiplier: float = 100_000) -> np.ndarray:
    """The denominator a rate funnel uses: ``multiplier * x / rate`` when a rate is given.

    dsr: derived from the rate, NaN where x = 0. crude: derived from the rate where x > 0,
    else ``n`` (needed when any x is 0).
    """
    _check_rate_type(rate_type)
    x = as_float_array(x, "x")
    nonneg(x, "x")
    if rate is None:
        if n is None:
            raise StatsInputError("rate funnels need n (denominator) or rate")
        return as_float_array(n, "n") * np.ones_like(x)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    derived = _derived_denominator(x, rate, multiplier)
    if rate_type == "dsr":
        return np.where(x == 0, np.nan, derived)
    if n is None:
        check(x == 0, "n", "given for crude-rate funnels when any x is 0")
        return derived
    return np.where(x == 0, as_float_array(n, "n"), derived)


def funnel_points(x, rate, *, rate_type: RateType = "crude", years_of_data: float = 1,
                  multiplier: float = 100_000, n=None) -> tuple[np.ndarray, np.ndarray]:
    """Where each area sits on a rate funnel: (rate to plot, population per year).

    dsr: areas with fewer than 10 events are not plotted (NaN). crude: the population is
    derived from the rate, or taken from ``n`` where x = 0 (PHE ``calculate_funnel_points``).
    """
    _check_rate_type(rate_type)
    years_of_data = check_positive_scalar(years_of_data, "years_of_data")
    multiplier = check_positive_scalar(multiplier, "multiplier")
    x = as_float_array(x, "x")
    nonneg(x, "x")
    r = as_float_array(rate, "rate")
    derived = _derived_denominator(x, r, multiplier) / years_of_data
    if rate_type == "dsr":
        few = x < DSR_MIN_EVENTS
        return np.where(few, np.nan, r), np.where(few, np.nan, derived)
    if n is not None:
        n = as_float_array(n, "n")
        positive(n, "n")
        derived = np.where(x == 0, n / years_of_data, derived)
    return r.copy(), derived


def _baseline(x: np.ndarray, n: np.ndarray) -> float:
    """sum x / sum n over the areas where both are known (NaN if none are)."""
    known = ~(np.isnan(x) | np.isnan(n))
    if not known.any():
        return np.nan
    return float(np.sum(x[known]) / np.sum(n[known]))


def funnel_limits(x, n, *, statistic: Statistic = "proportion",
                  confidence=(CONF_95, CONF_998), multiplier: float | None = None,
                  points=None, rate=None, rate_type: RateType = "crude",
                  years_of_data: float = 1, ratio_type: str = "ratio",
                  clamp: bool = True, baseline: float | None = None) -> FunnelLimits:
    """Funnel lines for a set of areas (x numerators, n denominators / expected counts).

    ``points`` overrides PHE's 100-point axis (denominators for proportions, events for
    ratios and rates). Proportion lines are clamped to [0, multiplier] unless ``clamp`` is
    False. Defaults: multiplier 100 for proportions and 100,000 for rates.

    The lines centre on the areas' pooled value (sum x / sum n) unless ``baseline`` is
    given, as in :func:`funnel_significance`: a proportion as a fraction, a rate per
    ``multiplier``. A ratio's funnel always centres on 1.
    """
    levels = _check_levels(confidence)
    x = as_float_array(x, "x")
    _check_baseline(baseline, statistic)
    if statistic == "proportion":
        return _proportion_limits(x, n, levels, 100 if multiplier is None else multiplier,
                                  points, clamp, baseline)
    if statistic == "ratio":
        return _ratio_limits(x, n, levels, points, ratio_type)
    if statistic == "rate":
        mult = check_positive_scalar(100_000 if multiplier is None else multiplier,
                                     "multiplier")
        years = check_positive_scalar(years_of_data, "years_of_data")
        x, den = _rate_pairs(x, n, rate, rate_type, mult)
        av = None if baseline is None else baseline / mult
        return _rate_limits(x, den, levels, mult, points, years, av)
    raise StatsInputError(f"statistic must be 'proportion', 'ratio' or 'rate'; got {statistic!r}")


def _proportion_limits(x, n, levels, multiplier, points, clamp, baseline) -> FunnelLimits:
    x, n = _validated_pairs(x, n, "proportion")
    av = _baseline(x, n) if baseline is None else baseline
    if np.isnan(av):
        raise StatsInputError("x and n must both be known for at least one area to centre "
                              "a funnel (or give baseline)")
    # Areas with NaN n are left out of the axis, as of the centre (np.min gave NaN, then a
    # bare ValueError: an independent check).
    axis = funnel_axis(*_known_range(n, "n")) if points is None else as_float_array(points,
                                                                                   "points")
    result = FunnelLimits("proportion", axis, av * multiplier)
    for c in levels:
        lo = proportion_limit(axis, av, c, "lower", multiplier)
        hi = proportion_limit(axis, av, c, "upper", multiplier)
        result.lower[c] = np.maximum(lo, 0) if clamp else lo
        result.upper[c] = np.minimum(hi, multiplier) if clamp else hi
    return result


def _ratio_limits(x, n, levels, points, ratio_type) -> FunnelLimits:
    _, e = _validated_pairs(x, n, "ratio")
    axis = funnel_axis(*_known_range(e, "n"), first_offset=1) if points is None \
        else as_float_array(points, "points")
    transform = {"ratio": lambda r: r, "count": lambda r: r - 1, "isr": lambda r: r * 100}
    if ratio_type not in transform:
        raise StatsInputError(f"ratio_type must be one of {sorted(transform)}; got {ratio_type!r}")
    result = FunnelLimits("ratio", axis, transform[ratio_type](1.0))
    for c in levels:
        e_low = poisson_funnel(axis, _tail(c), "lower")
        e_high = poisson_funnel(axis, _tail(c), "upper")
        result.lower_denominator[c], result.upper_denominator[c] = e_low, e_high
        result.lower[c] = transform[ratio_type](axis / e_low)
        result.upper[c] = transform[ratio_type](axis / e_high)
    return result


def _rate_limits(x, den, levels, multiplier, points, years, baseline) -> FunnelLimits:
    av = _baseline(x, den) if baseline is None else baseline
    # The lines are populations at which counts sit on a funnel about av: none about 0 (no
    # events, or no known area), where they divided by zero (an independent check).
    if not av > 0:
        raise StatsInputError("a rate funnel needs a centre > 0: the areas' pooled rate "
                              "(sum x / sum n of those with both known) is 0 or unknown; "
                              "give a baseline > 0")
    if points is None:
        low_den, high_den = _known_range(den, "n")
        low = 0.0 if high_den > AXIS_ZERO_SPREAD * low_den \
            else _signif_floor(low_den / years) * years
        high = _signif_ceiling(high_den / years) * years
        axis = geometric_axis(math.floor(low * av), math.ceil(high * av))
    else:
        axis = as_float_array(points, "points")
    result = FunnelLimits("rate", axis, av * multiplier)
    for c in levels:
        pop_low = poisson_funnel(axis, _tail(c), "lower") / av
        pop_high = poisson_funnel(axis, _tail(c), "upper") / av
        result.lower[c] = axis / pop_low * multiplier
        result.upper[c] = axis / pop_high * multiplier
        result.lower_denominator[c] = pop_low / years
        result.upper_denominator[c] = pop_high / years
    return result


# ------------------------------------------------------------------------- significance
def _validated_pairs(x, n, statistic) -> tuple[np.ndarray, np.ndarray]:
    x, n = broadcast({"x": as_float_array(x, "x"), "n": as_float_array(n, "n")})
    nonneg(x, "x")
    positive(n, "n")
    if statistic == "proportion":
        with np.errstate(invalid="ignore"):
            check(x > n, "x", "<= n for a proportion (numerator cannot exceed denominator)")
    return x, n


def funnel_significance(x, n=None, *, statistic: Statistic = "proportion",
                        confidence: float = CONF_998, baseline: float | None = None,
                        rate=None, rate_type: RateType = "crude",
                        multiplier: float = 100_000,
                        overdispersion: str | None = None) -> np.ndarray:
    """'higher' / 'similar' / 'lower' than the funnel centre, per area ('not_compared' if NaN).

    ``overdispersion`` 'additive' or 'multiplicative' uses Spiegelhalter's adjusted limits
    (see :mod:`carepath.stats.overdispersion`; not for DSRs) instead of the exact ones.

    proportion: x/n against the Wilson funnel around ``baseline`` (default sum x / sum n).
    ratio: n is the expected count; higher when the exact/Byar's interval of O/E is above 1.
    rate: n is the denominator (or give ``rate`` to derive it, see :func:`rate_denominator`);
    higher when the area's interval is above the baseline. DSRs from < 10 events are
    'not_compared'.
    """
    c = check_confidence(confidence, allow_one=False)
    _check_rate_type(rate_type)
    _check_baseline(baseline, statistic)
    if overdispersion is not None:
        return _od_significance(x, n, statistic, c, baseline, rate, rate_type, multiplier,
                                overdispersion)
    x, den, av = _significance_inputs(x, n, statistic, baseline, rate, rate_type, multiplier)
    out = np.full(x.shape, SIMILAR, dtype=object)
    with np.errstate(invalid="ignore"):
        out[_is_high(x, den, statistic, c, av)] = HIGHER
        out[_is_low(x, den, statistic, c, av)] = LOWER
    out[np.isnan(x) | np.isnan(den)] = NOT_COMPARED
    if statistic == "rate" and rate_type == "dsr":
        out[x < DSR_MIN_EVENTS] = NOT_COMPARED
    return out


def _od_significance(x, n, statistic, c, baseline, rate, rate_type, multiplier, method):
    from carepath.stats.overdispersion import od_funnel_significance

    if statistic == "rate":
        if rate_type == "dsr":
            raise StatsInputError("overdispersion-adjusted funnels are not available for DSRs")
        n = rate_denominator(x, n, rate, rate_type=rate_type, multiplier=multiplier)
    target = None if baseline is None else (
        baseline / multiplier if statistic == "rate" else baseline)
    return od_funnel_significance(x, n, statistic=statistic, method=method, confidence=c,
                                  target=target)


def _rate_pairs(x, n, rate, rate_type, multiplier) -> tuple[np.ndarray, np.ndarray]:
    """Events and the denominators of a rate funnel (given, or derived from ``rate``)."""
    check_positive_scalar(multiplier, "multiplier")  # it also scales a given baseline
    den = rate_denominator(x, n, rate, rate_type=rate_type, multiplier=multiplier)
    x, den = broadcast({"x": x, "n": den})
    positive(den, "n")
    return x, den


def _significance_inputs(x, n, statistic, baseline, rate, rate_type, multiplier):
    x = as_float_array(x, "x")
    if statistic == "rate":
        x, den = _rate_pairs(x, n, rate, rate_type, multiplier)
        av = _baseline(x, den) if baseline is None else baseline / multiplier
        return x, den, av
    if statistic not in ("proportion", "ratio"):
        raise StatsInputError(
            f"statistic must be 'proportion', 'ratio' or 'rate'; got {statistic!r}")
    if n is None:
        raise StatsInputError(f"{statistic} funnels need n")
    x, den = _validated_pairs(x, n, statistic)
    av = (_baseline(x, den) if baseline is None else baseline) \
        if statistic == "proportion" else 1.0
    return x, den, av


def _is_high(x, den, statistic, c, av) -> np.ndarray:
    if statistic == "proportion":
        return x / den > proportion_limit(den, av, c, "upper")
    lo, _ = poisson_count_limits(x, c)
    return av < lo / den


def _is_low(x, den, statistic, c, av) -> np.ndarray:
    if statistic == "proportion":
        return x / den < proportion_limit(den, av, c, "lower")
    _, hi = poisson_count_limits(x, c)
    return av > hi / den


def funnel_labels(x, n=None, **kwargs) -> np.ndarray:
    """PHE's five labels from the 99.8% and 95% funnels ("High (0.001)" ... "Not significant").

    None where an input is missing (PHE stops with an error there).

    Keyword arguments as :func:`funnel_significance` (without ``confidence``).
    """
    at998 = funnel_significance(x, n, confidence=CONF_998, **kwargs)
    at95 = funnel_significance(x, n, confidence=CONF_95, **kwargs)
    out = np.full(at95.shape, PHE_LABELS[-1], dtype=object)
    out[at95 == HIGHER] = PHE_LABELS[1]
    out[at95 == LOWER] = PHE_LABELS[3]
    out[at998 == HIGHER] = PHE_LABELS[0]
    out[at998 == LOWER] = PHE_LABELS[2]
    out[at95 == NOT_COMPARED] = None
    if kwargs.get("statistic") == "rate" and kwargs.get("rate_type") == "dsr":
        out[as_float_array(x, "x") < DSR_MIN_EVENTS] = PHE_DSR_NOT_APPLICABLE
    return out


def with_polarity(significance, polarity: str) -> np.ndarray:
    """Map higher/lower to better/worse: polarity 'high_is_good', 'low_is_good' or
    'no_judgement' (unchanged)."""
    sig = np.asarray(significance, dtype=object)
    if polarity == "no_judgement":
        return sig.copy()
    if polarity not in ("high_is_good", "low_is_good"):
        raise StatsInputError("polarity must be 'high_is_good', 'low_is_good' or 'no_judgement'; "
                              f"got {polarity!r}")
    good, bad = (HIGHER, LOWER) if polarity == "high_is_good" else (LOWER, HIGHER)
    out = sig.copy()
    out[sig == good] = BETTER
    out[sig == bad] = WORSE
    return out
