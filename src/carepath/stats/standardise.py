"""Direct (Dobson) and indirect standardisation, as in PHEindicatormethods.

Arrays are shaped ``(..., bands)``: one row per area, one column per age band. With the
default standard population the bands are the 19 ESP2013 five-year bands
``carepath.model.codes.AGE_BANDS`` ("0-4" .. "85-89", "90+").
"""

from __future__ import annotations

import numpy as np

from carepath.model.codes import AGE_BANDS
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
from carepath.stats.intervals import (
    Interval,
    byars_lower,
    byars_upper,
    poisson_count_limits,
    rate_method_label,
)

#: European Standard Population 2013, per 100,000, in the order of AGE_BANDS (sums to 100,000).
ESP2013 = np.array(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
     7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000], dtype=np.float64,
)
ESP2013.setflags(write=False)
assert len(ESP2013) == len(AGE_BANDS)

#: A DSR from fewer events than this is not published (value and limits NaN).
DSR_MIN_EVENTS = 10
#: The note of a DSR not calculated for that reason (public: it says the count is below).
DSR_TOO_FEW_NOTE = f"fewer than {DSR_MIN_EVENTS} events: a DSR is not calculated"

METHOD_DOBSON = "Dobson"
METHOD_DOBSON_NONINDEPENDENT = "Dobson, with confidence adjusted for non-independent events"


def _stdpop(stdpop, bands: int) -> np.ndarray:
    if stdpop is None:
        if bands != len(ESP2013):
            raise StatsInputError(
                f"stdpop is needed: x has {bands} age bands but the default ESP2013 has "
                f"{len(ESP2013)} ({AGE_BANDS[0]} .. {AGE_BANDS[-1]})"
            )
        return ESP2013
    w = as_float_array(stdpop, "stdpop")
    if w.shape[-1:] != (bands,):
        raise StatsInputError(f"stdpop must have {bands} age bands (one per column of x); "
                              f"got shape {w.shape}")
    check(np.isnan(w), "stdpop", "known (not NaN)")
    nonneg(w, "stdpop")
    # The DSR divides by the standard's total: a standard of nobody weights nothing.
    check(w.sum(axis=-1) <= 0, "stdpop", "> 0 in at least one age band")
    return w


def _dobson(events, weighted_rate, variance, multiplier, confidence, method) -> Interval:
    """Dobson limits from total events O, the standardised rate and its variance."""
    value = weighted_rate * multiplier
    enough = events >= DSR_MIN_EVENTS
    o = np.where(enough, events, DSR_MIN_EVENTS)  # avoid Byars on 0; masked below
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(variance / o) * multiplier
        lower = value + scale * (byars_lower(o, confidence) - o)
        upper = value + scale * (byars_upper(o, confidence) - o)
    nan = np.nan
    return Interval(np.where(enough, value, nan), np.where(enough, lower, nan),
                    np.where(enough, upper, nan), method, confidence)


def _prepare(n, stdpop, shape_from) -> tuple[np.ndarray, np.ndarray]:
    n = as_float_array(n, "n")
    check(np.isnan(n), "n", "known (not NaN) in every age band")
    positive(n, "n")
    w = _stdpop(stdpop, np.shape(shape_from)[-1] if np.ndim(shape_from) else 0)
    return n, w


def dsr(x, n, *, confidence: float = CONF_95, multiplier: float = 100_000,
        stdpop=None) -> Interval:
    """Directly standardised rate with Dobson limits (independent events).

    ``x`` (events) and ``n`` (population) are shaped ``(..., bands)``; ``stdpop`` defaults to
    ESP2013 (19 bands). NaN counts count as 0 (PHE); NaN or non-positive ``n`` is an error.
    Areas with fewer than 10 events get NaN value and limits.
    """
    confidence = check_confidence(confidence, allow_one=False)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    x = as_float_array(x, "x")
    if x.ndim == 0:
        raise StatsInputError("x must have an age-band axis (shape (..., bands))")
    n, w = _prepare(n, stdpop, x)
    x, n = broadcast({"x": x, "n": n})
    x = np.nan_to_num(x, nan=0.0)
    nonneg(x, "x")
    total_w = w.sum(axis=-1)
    ratio = w / n
    rate_ = (x * ratio).sum(axis=-1) / total_w
    variance = (x * ratio**2).sum(axis=-1) / total_w**2
    return _dobson(x.sum(axis=-1), rate_, variance, multiplier, confidence, METHOD_DOBSON)


def dsr_non_independent(persons, n, event_freq, *, confidence: float = CONF_95,
                        multiplier: float = 100_000, stdpop=None) -> Interval:
    """DSR when a person can have several events (PHE v2.1 ``independent_events = FALSE``).

    ``persons[..., band, k]`` is the number of people in that band with exactly
    ``event_freq[k]`` events; ``n`` is shaped ``(..., bands)``. Events per band are
    sum_k f_k * persons; the variance is sum_k f_k^2 * var_k (Dobson on each frequency).
    """
    confidence = check_confidence(confidence, allow_one=False)
    multiplier = check_positive_scalar(multiplier, "multiplier")
    persons = np.nan_to_num(as_float_array(persons, "persons"), nan=0.0)
    freq = as_float_array(event_freq, "event_freq")
    if persons.ndim < 2 or freq.ndim != 1 or persons.shape[-1] != freq.shape[0]:
        raise StatsInputError(
            f"persons must be shaped (..., bands, frequencies) with one column per event_freq; "
            f"got persons {persons.shape}, event_freq {freq.shape}")
    nonneg(persons, "persons")
    check(~(freq >= 1), "event_freq", ">= 1 (number of events per person)")
    n, w = _prepare(n, stdpop, persons[..., 0])
    total_w = w.sum(axis=-1)
    ratio = (w / n)[..., None]
    events = persons * freq
    rate_ = (events * ratio).sum(axis=(-2, -1)) / total_w
    variance = (persons * ratio**2 * freq**2).sum(axis=(-2, -1)) / total_w**2
    return _dobson(events.sum(axis=(-2, -1)), rate_, variance, multiplier, confidence,
                   METHOD_DOBSON_NONINDEPENDENT)


def expected_counts(n, ref_rates) -> np.ndarray:
    """Expected events sum_i n_i * ref_rate_i over the last axis (NaN n or rate counts as 0).

    ``ref_rates`` are the reference age-specific rates per person (ref count / ref pop).
    A local population of 0 in a band is allowed (it contributes nothing).
    """
    n = as_float_array(n, "n")
    r = as_float_array(ref_rates, "ref_rates")
    n, r = broadcast({"n": n, "ref_rates": r})
    nonneg(n, "n")
    nonneg(r, "ref_rates")
    return np.nansum(n * r, axis=-1) if n.ndim else np.nan_to_num(n * r)


def _observed_expected(observed, expected) -> tuple[np.ndarray, np.ndarray]:
    o, e = broadcast({"observed": as_float_array(observed, "observed"),
                      "expected": as_float_array(expected, "expected")})
    nonneg(o, "observed")
    positive(e, "expected")
    return o, e


def isratio(observed, expected, *, confidence: float = CONF_95, refvalue: float = 1) -> Interval:
    """Indirectly standardised ratio O/E x refvalue; exact (O < 10) or Byar's limits on O."""
    confidence = check_confidence(confidence)
    refvalue = check_positive_scalar(refvalue, "refvalue")
    o, e = _observed_expected(observed, expected)
    lower, upper = poisson_count_limits(o, confidence)
    scale = refvalue / e
    return Interval(o * scale, lower * scale, upper * scale, rate_method_label(o), confidence)


def israte(observed, expected, ref_rate, *, confidence: float = CONF_95,
           multiplier: float = 100_000) -> Interval:
    """Indirectly standardised rate O/E x ref_rate x multiplier.

    ``ref_rate`` is the overall reference crude rate per person (sum ref count / sum ref pop).
    """
    ref_rate = as_float_array(ref_rate, "ref_rate")
    nonneg(ref_rate, "ref_rate")
    multiplier = check_positive_scalar(multiplier, "multiplier")
    ratio = isratio(observed, expected, confidence=confidence)
    scale = ref_rate * multiplier
    return Interval(ratio.value * scale, ratio.lower * scale, ratio.upper * scale,
                    ratio.method, ratio.confidence)
