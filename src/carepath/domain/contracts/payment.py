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
from carepath.domain.contracts import formatting as fmt
from carepath.domain.contracts.definitions import PaymentRule

#: Achievement is counted over the step the target asks for, but never over less than this
#: share of the target's size. A target a hair from its baseline (9.0001 from 9.0) divided
#: every difference by the hair: 0.5 above it read as "achievement 500000%" and paid in full,
#: while a target equal to the baseline paid 90.9% for the same value. With a least step
#: the payment moves smoothly as the target nears the baseline; a hold-the-line target
#: (target = baseline) is on target at the baseline, and 0.1% of its size worse earns nothing.
MIN_STEP_SHARE = 0.001
#: Below this a target and its baseline are both zero: no size to take a step from.
TARGET_TOLERANCE = 1e-12


def step(baseline: float, target: float) -> float:
    """The distance achievement is counted over: the step asked, or the least step."""
    return max(abs(target - baseline), least_step(baseline, target))


def least_step(baseline: float, target: float) -> float:
    return MIN_STEP_SHARE * max(abs(target), abs(baseline))


def holds_the_line(baseline: float, target: float) -> bool:
    """The target asks for (next to) no change: less than the least step."""
    return abs(target - baseline) < least_step(baseline, target) or \
        abs(target - baseline) <= TARGET_TOLERANCE


def achievement(value, baseline: float, target: float, higher_is_better: bool) -> np.ndarray:
    """Share of the way from baseline to target in the good direction; NaN stays NaN.

    a = 1 + s * (value - target) / step with s = +1 when higher is better and step the
    distance from baseline to target (at least ``MIN_STEP_SHARE`` of the target's size):
    0 at baseline and 1 on target for an improvement target; a target that allows some
    decline gives 1 on target and 2 at baseline, so a better value never scores lower.
    """
    value = np.asarray(value, dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    gap = step(baseline, target)
    if gap <= TARGET_TOLERANCE:
        # Target and baseline both zero: on target or better counts as 1, worse as 0.
        good = sign * (value - target) >= 0
        return np.where(np.isnan(value), np.nan, np.where(good, 1.0, 0.0))
    return 1.0 + sign * (value - target) / gap


def target_on_worse_side(baseline: float, target: float, higher_is_better: bool) -> bool:
    """A target worse than its baseline: the contract pays for a decline."""
    if holds_the_line(baseline, target):
        return False
    return (target < baseline) if higher_is_better else (target > baseline)


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


def movement(value: float, baseline: float, target: float, higher_is_better: bool) -> str:
    """Where the value lies against baseline and target, in words and the figures: never a
    share of the way that is not one (above the target, or a target that allows a decline)."""
    t_dp = fmt.decimals(target)
    v_dp = fmt.value_digits(target)
    v, b, t = (f"{value:.{v_dp}f}", f"{baseline:.{v_dp}f}", f"{target:.{t_dp}f}")
    sign = 1.0 if higher_is_better else -1.0
    better_than_base = sign * (value - baseline)
    better_than_target = sign * (value - target)
    if holds_the_line(baseline, target):
        verdict = "at or better than" if better_than_target >= 0 else "worse than"
        return (f"{v} is {verdict} the hold-the-line target {t} (baseline {b}); achievement "
                f"is counted over a step of {step(baseline, target):.{v_dp + 1}f} "
                f"({MIN_STEP_SHARE:.1%} of the target)")
    side = "above" if value > baseline else "below" if value < baseline else "at"
    if sign * (target - baseline) > 0:  # an improvement target
        share = abs(value - baseline) / abs(target - baseline)
        if better_than_base < 0:
            return (f"{v} is {side} the baseline {b}, worse than it: moved away from the "
                    f"target {t} by {share:.0%} of the distance from baseline to target")
        if better_than_target <= 0:
            return (f"{v}: achievement {share:.0%} of the way from the baseline {b} to the "
                    f"target {t}")
        beyond = abs(value - target) / abs(target - baseline)
        return (f"{v} is better than the target {t}, by {beyond:.0%} of the distance from "
                f"the baseline {b} to the target")
    # The target lies on the worse side of the baseline: it allows a decline.
    allows = f"the target {t} allows a decline from the baseline {b}"
    if better_than_base >= 0:
        return f"{v} is {side} the baseline {b}, no worse than it; {allows}"
    if better_than_target >= 0:
        return (f"{v} is {side} the baseline {b}, worse than it, but within the decline "
                f"the target allows ({allows})")
    return f"{v} is worse than both the baseline {b} and the target {t} ({allows})"


def reason(judgement: str, said: str | None, a: float | None, c: float | None,
           fraction: float, rule: PaymentRule) -> str:
    """A sentence for the statement: why this outcome earned what it did. ``said`` is
    ``movement`` for the value (where it lies against baseline and target)."""
    if judgement == K.NO_DATA or a is None or said is None:
        return "no usable value for the year"
    head = K.JUDGEMENT_LABELS[judgement].split(" (")[0]
    ach = said
    if c is not None and c != a:
        ach += ", credited as on target because the interval includes the target"
    if rule.threshold is not None and c is not None and c < rule.threshold:
        return f"{head}; {ach}; below the threshold of {rule.threshold:.0%}, earns nothing"
    if rule.rule == "threshold":
        return f"{head}; {ach}; threshold of {rule.threshold:.0%} reached, earns the pot"
    why = _linear_terms(c, rule)
    return f"{head}; {ach}; earns {fraction:.1%} of the pot" + (f" ({why})" if why else "")


def _linear_terms(c: float | None, rule: PaymentRule) -> str:
    """The contract's terms that made a linear payment what it is: a value worse than its
    baseline paid 45.5% of the pot 'not met', unexplained (the risk share and the room kept
    for the gain share: a walkthrough)."""
    if c is None:
        return ""
    terms = []
    if c < 1 and rule.risk_share < 1:
        terms.append(f"the provider bears {rule.risk_share:.0%} of a shortfall, its risk share")
    if c < 0:  # below the scale's start, whatever the target's direction
        terms.append("achievement below 0% counts as 0%")
    on_target = on_target_fraction(rule)
    if c < 1 and on_target < 1:
        terms.append(f"on target would earn {on_target:.1%}, the rest kept for beating it, "
                     "the gain share")
    return "; ".join(terms)
