"""Input checks shared by every statistic: one rule, one message naming the argument.

Errors are :class:`StatsInputError`, which is both a ``ValueError`` (what numeric code expects)
and a :class:`carepath.errors.ValidationError` (so the CLI prints one line and exits 2).
Messages give the argument, the rule and the position of the first offending element, never
the value itself (values may be small counts about identifiable people).
"""

from __future__ import annotations

import numpy as np

from carepath.errors import ValidationError

#: Named confidence levels used across Carepath (two-sided).
CONF_95 = 0.95
CONF_998 = 0.998
#: Each level's tag in interval columns (lower95, upper998 ...) and as said beside them.
LEVEL_SAID = {"95": "95%", "998": "99.8%"}


def level_tag(confidence: float) -> str:
    """'95' or '998': the interval columns of a confidence level."""
    return "95" if confidence == CONF_95 else "998"


class StatsInputError(ValidationError, ValueError):
    """An argument to a statistic breaks a documented rule. ``first``: the position of the
    first offending element of a one-dimensional argument, and ``rule``: the message
    without it, so that a caller with a table can say which row or group that is."""

    first: int | None = None
    rule: str | None = None


def as_float_array(value, name: str) -> np.ndarray:
    """Convert to a float64 array, rejecting anything non-numeric with a message naming it."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numeric ({exc.__class__.__name__})") from None
    return arr


def _first_index(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)[0]
    return str(tuple(int(i) for i in idx)) if idx.size > 1 else str(int(idx[0]))


def check(mask: np.ndarray, name: str, rule: str) -> None:
    """Raise when any element of ``mask`` is True (NaN elements are never flagged by callers)."""
    mask = np.asarray(mask)
    if mask.any():
        count = int(mask.sum())
        broken = f"{name} must be {rule}: {count} element(s) break this rule"
        where = f", first at index {_first_index(mask)}" if mask.ndim else ""
        error = StatsInputError(broken + where)
        if mask.ndim == 1:
            error.first, error.rule = int(np.argmax(mask)), broken
        raise error


def check_confidence(confidence: float, *, allow_one: bool = True) -> float:
    """A two-sided confidence level as a fraction in (0, 1]; 1 gives the whole range."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise StatsInputError(f"confidence must be a number, e.g. {CONF_95}") from None
    upper_ok = c <= 1 if allow_one else c < 1
    if not (c > 0 and upper_ok):
        bound = "1]" if allow_one else "1)"
        raise StatsInputError(
            f"confidence must be a fraction in (0, {bound}, e.g. {CONF_95} or {CONF_998}; "
            f"got {c} (percentages such as 95 are not accepted)"
        )
    return c


def check_positive_scalar(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a number") from None
    if not (v > 0 and np.isfinite(v)):
        raise StatsInputError(f"{name} must be a positive finite number; got {v}")
    return v


def broadcast(name_values: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Broadcast arrays together, naming the arguments when their shapes do not match."""
    try:
        return list(np.broadcast_arrays(*name_values.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in name_values.items())
        raise StatsInputError(f"arguments have mismatched lengths/shapes: {shapes}") from None


def finite(arr: np.ndarray, name: str) -> None:
    """NaN is a missing value (NaN out); an infinite count or denominator is no value at all
    and gave inf or NaN silently (an independent check)."""
    check(np.isinf(arr), name, "finite (not infinite)")


def nonneg(arr: np.ndarray, name: str) -> None:
    finite(arr, name)
    with np.errstate(invalid="ignore"):
        check(arr < 0, name, ">= 0 (counts cannot be negative)")


def positive(arr: np.ndarray, name: str) -> None:
    finite(arr, name)
    with np.errstate(invalid="ignore"):
        check(arr <= 0, name, "> 0 (a denominator of zero or less has no rate)")
