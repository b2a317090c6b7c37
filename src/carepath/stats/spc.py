"""Making Data Count XmR charts ("plot the dots"), matching NHSRplotthedots by default.

Limits per segment (the points between rebases): mean of the baseline points, mean moving
range (screened for outliers unless ``screen_outliers=False``, which is what the MDC Excel
tool does), process limits mean +/- 2.66 mR and "near" limits at two thirds of that.

Special-cause rules, in order of precedence: a point outside the limits; a trend of
``trend_length`` points each strictly higher (lower) than the one before; two of three
consecutive points on one side of the mean beyond the near limits; a shift of
``run_length`` points on one side of the mean. See docs/methods/ for the variants.
NaN values are kept in place but skipped: they do not enter the mean or moving ranges
(a moving range next to a NaN is missing, as in NHSRplotthedots), the rules run over the
known points in order, and a NaN point gets no flag and a point type of None.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from carepath.stats._validate import StatsInputError, as_float_array, check

#: 3 / d2 with d2 = 1.128 for moving ranges of two points.
LIMIT_SIGMAS = 2.66
#: The "near" (2 sigma) limits sit at two thirds of the process limits.
NEAR_LIMIT_SIGMAS = 2 * (LIMIT_SIGMAS / 3)
#: D4 for n = 2: moving ranges at or above this times the mean are screened out.
MR_SCREEN_FACTOR = 3.267
DEFAULT_RUN_LENGTH = 7
DEFAULT_TREND_LENGTH = 7
#: Segments with fewer points give "trial limits" (NHSRplotthedots warns below 13).
TRIAL_LIMITS_BELOW = 13
MIN_BASELINE_POINTS = 2

Direction = Literal["increase", "decrease", "neutral"]
TwoInThree = bool | Literal["nhsr", "mdc2023"]
_DIRECTION_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}

COMMON_CAUSE = "common_cause"
IMPROVEMENT, CONCERN = "special_cause_improvement", "special_cause_concern"
NEUTRAL_HIGH, NEUTRAL_LOW = "special_cause_neutral_high", "special_cause_neutral_low"
CONSISTENT_PASS, CONSISTENT_FAIL, INCONSISTENT = "consistent_pass", "consistent_fail", \
    "inconsistent"


# ------------------------------------------------------------------------- rule helpers
def shift_run_ends(relative_to_mean, length: int = DEFAULT_RUN_LENGTH) -> np.ndarray:
    """1 where a point ends a run of ``length`` points on one side of the mean (0 breaks)."""
    rtm = np.asarray(relative_to_mean, dtype=np.float64)
    if rtm.size < length:
        return np.zeros(rtm.size)
    win = sliding_window_view(rtm, length)
    ends = (win == win[:, -1:]).all(axis=1) & (win[:, -1] != 0)
    return np.concatenate([np.zeros(length - 1), ends.astype(float)])


def trend_run_ends(y, length: int = DEFAULT_TREND_LENGTH) -> np.ndarray:
    """+1 (-1) where a point ends ``length`` points each strictly higher (lower)."""
    y = np.asarray(y, dtype=np.float64)
    if y.size < length:
        return np.zeros(y.size)
    d = np.sign(np.diff(y))
    win = sliding_window_view(d, length - 1)
    ends = np.where((win == 1).all(axis=1), 1.0, np.where((win == -1).all(axis=1), -1.0, 0.0))
    return np.concatenate([np.zeros(length - 1), ends])


def part_of_run(ends, length: int = DEFAULT_RUN_LENGTH) -> np.ndarray:
    """1 for every point of a run: a run end at this point or within the next length-1."""
    e = np.abs(np.asarray(ends, dtype=np.float64)) == 1
    if e.size == 0:
        return np.zeros(0)
    padded = np.concatenate([e, np.zeros(length - 1, dtype=bool)])
    return sliding_window_view(padded, length).any(axis=1).astype(float)


def two_in_three(close, relative_to_mean) -> np.ndarray:
    """1 where a point is in a window of 3 all on one side of the mean with >= 2 close."""
    close = np.asarray(close, dtype=np.float64)
    if close.size == 0:
        return np.zeros(0)
    rtm = np.broadcast_to(np.asarray(relative_to_mean, dtype=np.float64), close.shape)
    pad = np.zeros(2)
    cw = sliding_window_view(np.concatenate([pad, close, pad]), 3).sum(axis=1)
    rw = np.abs(sliding_window_view(np.concatenate([pad, rtm, pad]), 3).sum(axis=1))
    hit = (cw >= 2) & (rw == 3)  # window k covers original points k-2 .. k
    return sliding_window_view(hit, 3).any(axis=1).astype(float)


def part_of_two_in_three(flags, close) -> np.ndarray:
    """Only the close points of a 2-in-3 window are flagged."""
    return ((np.asarray(flags) == 1) & (np.abs(np.asarray(close)) == 1)).astype(float)


# ------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class XmrResult:
    """Per-point arrays (same length as the input) plus the chart's summary icons.

    ``special_cause_type`` uses NHSRplotthedots' labels ("Above UCL", "7 Point Trend
    (Increasing)", "2 in 3 Below CL", "7 Points Above CL", "Common Cause");
    ``point_type`` is common_cause / special_cause_improvement / special_cause_concern /
    special_cause_neutral_high / special_cause_neutral_low (None for a NaN value).
    ``variation_icon`` comes from the last known point: 'common_cause', 'improvement_high',
    'improvement_low', 'concern_high', 'concern_low', 'neutral_high' or 'neutral_low'.
    ``assurance_icon``: 'consistent_pass', 'consistent_fail', 'inconsistent' or None.
    """

    values: np.ndarray
    segment: np.ndarray
    mean: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    nlpl: np.ndarray
    nupl: np.ndarray
    outside_limits: np.ndarray
    relative_to_mean: np.ndarray
    close_to_limits: np.ndarray
    special_cause_type: np.ndarray
    special_cause_flag: np.ndarray
    point_type: np.ndarray
    trial_limits: np.ndarray
    variation_icon: str | None
    assurance_icon: str | None
    improvement_direction: str
    target: float | None


def _segment_limits(y: np.ndarray, baseline_n: int | None, screen: bool):
    base = y if baseline_n is None else y[:baseline_n]
    known = base[~np.isnan(base)]
    if known.size == 0:
        return (np.nan,) * 5
    mean = known.mean()
    mr = np.abs(np.diff(base))
    mr = mr[~np.isnan(mr)]
    amr = mr.mean() if mr.size else np.nan
    # A constant baseline (mean MR 0) has nothing to screen: its limits sit on the mean
    # (NHSRplotthedots screens every MR out there and returns NaN limits).
    if screen and mr.size and amr > 0:
        kept = mr[mr < MR_SCREEN_FACTOR * amr]
        amr = kept.mean() if kept.size else np.nan
    return (mean, mean - LIMIT_SIGMAS * amr, mean + LIMIT_SIGMAS * amr,
            mean - NEAR_LIMIT_SIGMAS * amr, mean + NEAR_LIMIT_SIGMAS * amr)


def _special_cause_types(y, rtm, close, outside, run_length, trend_length, use_2in3) -> list:
    trend = part_of_run(trend_run_ends(y, trend_length), trend_length)
    two3 = part_of_two_in_three(two_in_three(close, rtm), close) if use_2in3 \
        else np.zeros(y.size)
    shift = part_of_run(shift_run_ends(rtm, run_length), run_length)
    sdy = np.sign(np.diff(y))
    nxt = np.concatenate([trend[1:], [0]]).astype(bool) & trend.astype(bool)
    forward = np.concatenate([sdy, sdy[-1:]]) if sdy.size else np.zeros(y.size)
    backward = np.concatenate([[0], sdy])
    direction = np.where(nxt, forward, backward)
    out = []
    for i in range(y.size):
        side = "Above" if rtm[i] > 0 else "Below"
        if outside[i]:
            out.append("Above UCL" if rtm[i] == 1 else "Below LCL")
        elif trend[i]:
            word = "In" if direction[i] == 1 else "De"
            out.append(f"{trend_length} Point Trend ({word}creasing)")
        elif two3[i]:
            out.append(f"2 in 3 {side} CL")
        elif shift[i]:
            out.append(f"{run_length} Points {side} CL")
        else:
            out.append("Common Cause")
    return out


def _point_type(label: str, direction_sign: int) -> str:
    v = 1 if ("Above" in label or "Increasing" in label) else \
        (-1 if ("Below" in label or "Decreasing" in label) else 0)
    if v == 0:
        return COMMON_CAUSE
    if direction_sign == 0:
        return NEUTRAL_HIGH if v > 0 else NEUTRAL_LOW
    return IMPROVEMENT if v * direction_sign > 0 else CONCERN


def _variation_icon(point_type: str | None, label: str | None, direction_sign: int) -> str | None:
    if point_type is None:
        return None
    if point_type == COMMON_CAUSE:
        return COMMON_CAUSE
    high = "Above" in label or "Increasing" in label
    kind = {IMPROVEMENT: "improvement", CONCERN: "concern"}.get(point_type, "neutral")
    return f"{kind}_{'high' if high else 'low'}"


def assurance(target: float | None, lpl: float, upl: float, improvement_direction: str):
    """MDC assurance: does the process reliably meet the target? None if no target/neutral."""
    sign = _DIRECTION_SIGN[improvement_direction]
    if target is None or sign == 0 or np.isnan(target):
        return None
    above, below = target > upl, target < lpl
    if not (above or below):
        return INCONSISTENT
    meets = below if sign > 0 else above
    return CONSISTENT_PASS if meets else CONSISTENT_FAIL


def _rebase_positions(rebase_at, size: int) -> list[int]:
    """Sorted whole positions where a new segment starts: int() truncated 2.7 to 2 and
    rebased at a point nobody named (an independent check)."""
    at = np.atleast_1d(as_float_array(rebase_at, "rebase_at"))
    if at.ndim != 1:
        raise StatsInputError(f"rebase_at must be a list of positions; got shape {at.shape}")
    check(~(np.isfinite(at) & (at == np.round(at))), "rebase_at",
          "whole positions (point numbers from 0)")
    cuts = sorted({int(i) for i in at})
    if any(i <= 0 or i >= size for i in cuts):
        raise StatsInputError(f"rebase_at positions must be between 1 and {size - 1} "
                              f"(a new segment starts at that point); got {cuts}")
    return cuts


def _check_target(target) -> None:
    # assurance() compares it with the limits: text ("5") failed there with a TypeError.
    if target is not None and (isinstance(target, bool)
                               or not isinstance(target, numbers.Real)):
        raise StatsInputError(f"target must be a number or None; got {type(target).__name__}")


def _validate(values, improvement_direction, rebase_at, run_length, trend_length,
              fix_after_n_points, two_in_three_rule) -> tuple[np.ndarray, list[int]]:
    y = as_float_array(values, "values")
    if y.ndim != 1:
        raise StatsInputError(f"values must be one series (1-D); got shape {y.shape}")
    if improvement_direction not in _DIRECTION_SIGN:
        raise StatsInputError("improvement_direction must be 'increase', 'decrease' or "
                              f"'neutral'; got {improvement_direction!r}")
    for name, v in (("run_length", run_length), ("trend_length", trend_length)):
        if not (isinstance(v, int | np.integer) and v >= 2):
            raise StatsInputError(f"{name} must be a whole number >= 2; got {v!r}")
    if fix_after_n_points is not None and not (
            isinstance(fix_after_n_points, int | np.integer)
            and fix_after_n_points >= MIN_BASELINE_POINTS):
        raise StatsInputError(f"fix_after_n_points must be a whole number >= "
                              f"{MIN_BASELINE_POINTS} or None; got {fix_after_n_points!r}")
    if two_in_three_rule not in (True, False, "nhsr", "mdc2023"):
        raise StatsInputError("two_in_three must be True/'nhsr', 'mdc2023' or False; "
                              f"got {two_in_three_rule!r}")
    return y, _rebase_positions(rebase_at, y.size)


def xmr(values, *, improvement_direction: Direction, target: float | None = None,
        rebase_at=(), screen_outliers: bool = True, run_length: int = DEFAULT_RUN_LENGTH,
        trend_length: int = DEFAULT_TREND_LENGTH, two_in_three: TwoInThree = True,
        fix_after_n_points: int | None = None) -> XmrResult:
    """XmR chart of ``values`` in time order (see the module docstring for the rules).

    rebase_at: positions where a new segment starts (its own mean and limits).
    two_in_three: True or 'nhsr' (points beyond the process limits do not count as near,
    as NHSRplotthedots 0.2.2), 'mdc2023' (they do, as the MDC Excel tool since Nov 2023), or
    False (rule off). fix_after_n_points: limits from the first n points of each segment.
    """
    y, cuts = _validate(values, improvement_direction, rebase_at, run_length, trend_length,
                        fix_after_n_points, two_in_three)
    _check_target(target)
    sign = _DIRECTION_SIGN[improvement_direction]
    n = y.size
    segment = np.zeros(n, dtype=int)
    for c in cuts:
        segment[c:] += 1
    cols = {k: np.full(n, np.nan) for k in ("mean", "lpl", "upl", "nlpl", "nupl")}
    outside = np.zeros(n, dtype=bool)
    close = np.zeros(n, dtype=bool)
    rtm = np.zeros(n, dtype=int)
    labels = np.full(n, None, dtype=object)
    trial = np.zeros(n, dtype=bool)
    for s in range(len(cuts) + 1):
        idx = np.flatnonzero(segment == s)
        limits = _segment_limits(y[idx], fix_after_n_points, screen_outliers)
        for key, v in zip(cols, limits, strict=True):
            cols[key][idx] = v
        mean, lpl, upl, nlpl, nupl = limits
        known = idx[~np.isnan(y[idx])]
        trial[idx] = known.size < TRIAL_LIMITS_BELOW
        yk = y[known]
        outside[known] = (yk > upl) | (yk < lpl)
        rtm[known] = np.sign(yk - mean).astype(int)
        near = (yk < nlpl) | (yk > nupl)
        close[known] = ~outside[known] & near
        close_rule = near if two_in_three == "mdc2023" else close[known]
        labels[known] = _special_cause_types(yk, rtm[known], close_rule.astype(float),
                                             outside[known], run_length, trend_length,
                                             bool(two_in_three))
    point_type = np.array([None if lab is None else _point_type(lab, sign) for lab in labels],
                          dtype=object)
    flag = np.array([lab is not None and lab != "Common Cause" for lab in labels])
    last = np.flatnonzero(~np.isnan(y))
    last_i = int(last[-1]) if last.size else None
    icon = None if last_i is None else _variation_icon(point_type[last_i], labels[last_i], sign)
    assure = None if last_i is None else assurance(target, cols["lpl"][last_i],
                                                   cols["upl"][last_i], improvement_direction)
    return XmrResult(y, segment, cols["mean"], cols["lpl"], cols["upl"], cols["nlpl"],
                     cols["nupl"], outside, rtm, close, labels, flag, point_type, trial, icon,
                     assure, improvement_direction, target)
