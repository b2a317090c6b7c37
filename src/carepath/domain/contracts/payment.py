"""Judging an outcome against its target with uncertainty, and the payment rule.

Everything here takes numpy arrays so the chance simulation runs the very same code as
the annual assessment.

* achievement a = (value - baseline) / (target - baseline) for an improvement target: 0 at
  baseline, 1 on target, whatever the polarity (see ``achievement`` for other targets).
* judgement: met when the interval lies wholly on the good side of the target (bound
  included), not met when wholly on the bad side, otherwise not distinguishable.
* earned fraction of the outcome's pot (the pot is the most it can earn):
  on_target = 1 / (1 + gain_share * (cap - 1)); for a clipped to [0, cap]
  below target  f = on_target * (1 - risk_share * (1 - a))
  above target  f = on_target * (1 + gain_share * (a - 1))
  and f = 0 when a < threshold (if a threshold is set). A threshold rule pays the whole pot when a >= threshold.
  With ``indistinguishable_as_target`` a value whose interval includes the target is
  credited a = 1, so noise neither pays nor penalises.
"""

from __future__ import annotations

import numpy as np

from carepath.domain.contracts import constants as K
from carepath.domain.contracts.definitions import PaymentRule

#: A target this close to its baseline (relative) is treated as "hold the line".
TARGET_TOLERANCE = 1e-9


def achievement(value, baseline: float, target: float, higher_is_better: bool) -> np.ndarray:
    """Share of the way from baseline to target in the good direction; NaN stays NaN.

    a = 1 + s * (value - target) / |target - baseline| with s = +1 when higher is better:
    0 at baseline and 1 on target for an improvement target; a target that allows some
    decline gives 1 on target and 2 at baseline, so a better value never scores lower.
    """
    value = np.asarray(value, dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    gap = abs(target - baseline)
    if gap <= TARGET_TOLERANCE * max(1.0, abs(target)):
        # A "hold the line" target: on target or better counts as 1, worse as 0.
        good = sign * (value - target) >= 0
        return np.where(np.isnan(value), np.nan, np.where(good, 1.0, 0.0))
    return 1.0 + sign * (value - target) / gap


def judge(lower, upper, target: float, higher_is_better: bool) -> np.ndarray:
    """met / not_met / not_distinguishable per element; NaN bounds give no_data."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if higher_is_better:
        met, not_met = lower >= target, upper < target
    else:
        met, not_met = upper <= target, lower > target
    out = np.where(met, K.MET, np.where(not_met, K.NOT_MET, K.INDISTINGUISHABLE))
    return np.where(np.isnan(lower) | np.isnan(upper), K.NO_DATA, out)


def on_target_fraction(rule: PaymentRule) -> float:
    if rule.rule == "threshold":
        return 1.0
    return 1.0 / (1.0 + rule.gain_share * (rule.cap - 1.0))


def credited(a, judgement, rule: PaymentRule) -> np.ndarray:
    """Achievement after the benefit-of-doubt rule (interval includes target -> 1)."""
    a = np.asarray(a, dtype=float)
    if rule.indistinguishable_as_target:
        return np.where(np.asarray(judgement) == K.INDISTINGUISHABLE, 1.0, a)
    return a


def earned_fraction(a, rule: PaymentRule) -> np.ndarray:
    """Fraction of the pot earned at credited achievement ``a`` (in [0, 1], monotone)."""
    a = np.asarray(a, dtype=float)
    if rule.rule == "threshold":
        return np.where(a >= rule.threshold, 1.0, 0.0)
    on_target = on_target_fraction(rule)
    clipped = np.clip(a, 0.0, rule.cap)
    below = on_target * (1.0 - rule.risk_share * (1.0 - clipped))
    above = on_target * (1.0 + rule.gain_share * (clipped - 1.0))
    f = np.where(clipped <= 1.0, below, above)
    if rule.threshold is None:
        return f
    return np.where(a < rule.threshold, 0.0, f)


def outcome_payment(pot: float, value, lower, upper, *, baseline: float, target: float,
                    higher_is_better: bool, rule: PaymentRule) -> tuple[np.ndarray, ...]:
    """(payment, achievement, credited achievement, judgement) for values and intervals."""
    a = achievement(value, baseline, target, higher_is_better)
    j = judge(lower, upper, target, higher_is_better)
    c = credited(a, j, rule)
    pay = pot * earned_fraction(np.nan_to_num(c, nan=0.0), rule)
    return pay, a, c, j


def reason(judgement: str, a: float | None, c: float | None, fraction: float,
           rule: PaymentRule) -> str:
    """A sentence for the statement: why this outcome earned what it did."""
    if judgement == K.NO_DATA or a is None:
        return "no usable value for the year"
    head = K.JUDGEMENT_LABELS[judgement].split(" (")[0]
    ach = (f"achievement {a:.0%} of the way from baseline to target" if a >= 0 else
           f"worse than the baseline, by {-a:.0%} of the distance from baseline to target")
    if c is not None and c != a:
        ach += ", credited as on target because the interval includes the target"
    if rule.threshold is not None and c is not None and c < rule.threshold:
        return f"{head}; {ach}; below the threshold of {rule.threshold:.0%}, earns nothing"
    if rule.rule == "threshold":
        return f"{head}; {ach}; threshold of {rule.threshold:.0%} reached, earns the pot"
    return f"{head}; {ach}; earns {fraction:.1%} of the pot"
