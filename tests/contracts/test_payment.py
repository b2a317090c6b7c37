"""The payment rule: hand-checked answers and properties (bounds, monotone, fee years)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.domain.contracts import constants as K
from carepath.domain.contracts import payment as pay
from carepath.domain.contracts.definitions import PaymentRule

GAIN = PaymentRule(cap=1.2, gain_share=0.5, risk_share=1.0)


def test_achievement_whatever_the_polarity():
    assert pay.achievement(51.0, 50.0, 52.0, True) == pytest.approx(0.5)
    # low is good: 20 -> 18 target, 19 is half way
    assert pay.achievement(19.0, 20.0, 18.0, False) == pytest.approx(0.5)
    # hold-the-line target (no change asked): on target = 1; worse by the least step
    # (0.1% of the target, 0.06) or more earns nothing
    on, worse = pay.achievement([60.0, 59.9], 60.0, 60.0, True)
    assert on == 1.0 and worse < 0 and pay.earned_fraction(worse, PaymentRule()) == 0
    # a target allowing some decline (74 from 73 when low is good): baseline scores 2
    assert pay.achievement(73.0, 73.0, 74.0, False) == pytest.approx(2.0)
    assert pay.achievement(74.5, 73.0, 74.0, False) == pytest.approx(0.5)


def test_judgement_uses_the_interval_not_the_point():
    # point 51.9 below target 52 but interval includes it -> not distinguishable
    assert pay.judge(50.0, 53.8, 52.0, True) == K.INDISTINGUISHABLE
    assert pay.judge(52.0, 54.0, 52.0, True) == K.MET   # bound on the target counts as met
    assert pay.judge(50.0, 51.9, 52.0, True) == K.NOT_MET
    assert pay.judge(17.0, 17.9, 18.0, False) == K.MET  # low is good
    assert pay.judge(18.1, 19.0, 18.0, False) == K.NOT_MET
    assert pay.judge(np.nan, 19.0, 18.0, False) == K.NO_DATA


def test_hand_checked_fractions_with_gain_share():
    on_target = 1 / 1.1  # 1 / (1 + 0.5 * (1.2 - 1))
    assert pay.on_target_fraction(GAIN) == pytest.approx(on_target)
    assert pay.earned_fraction(0.0, GAIN) == pytest.approx(0.0)
    assert pay.earned_fraction(0.5, GAIN) == pytest.approx(on_target * 0.5)
    assert pay.earned_fraction(1.0, GAIN) == pytest.approx(on_target)
    assert pay.earned_fraction(1.1, GAIN) == pytest.approx(on_target * 1.05)
    assert pay.earned_fraction(1.2, GAIN) == pytest.approx(1.0)
    assert pay.earned_fraction(3.0, GAIN) == pytest.approx(1.0)  # capped
    assert pay.earned_fraction(-2.0, GAIN) == pytest.approx(0.0)


def test_hand_checked_risk_share_threshold_and_threshold_rule():
    half = PaymentRule(risk_share=0.5)
    assert pay.earned_fraction(0.0, half) == pytest.approx(0.5)    # bears half the shortfall
    assert pay.earned_fraction(0.6, half) == pytest.approx(0.8)
    floor = PaymentRule(risk_share=0.5, threshold=0.25)
    assert pay.earned_fraction(0.2, floor) == 0.0
    assert pay.earned_fraction(0.25, floor) == pytest.approx(0.625)
    step = PaymentRule(rule="threshold", threshold=1)
    assert list(pay.earned_fraction([0.99, 1.0], step)) == [0.0, 1.0]


def test_outcome_payment_credits_noise_as_on_target_only_when_asked():
    args = {"baseline": 50.0, "target": 52.0, "higher_is_better": True}
    paid, a, c, j = pay.outcome_payment(60_000, 51.0, 49.0, 53.0, rule=PaymentRule(), **args)
    assert j == K.INDISTINGUISHABLE and a == pytest.approx(0.5) and c == 1.0
    assert paid == pytest.approx(60_000)
    strict = PaymentRule(indistinguishable_as_target=False)
    paid, *_ = pay.outcome_payment(60_000, 51.0, 49.0, 53.0, rule=strict, **args)
    assert paid == pytest.approx(30_000)


rules = st.builds(
    PaymentRule,
    rule=st.just("linear"),
    threshold=st.one_of(st.none(), st.floats(0, 1.5)),
    cap=st.floats(1, 3),
    gain_share=st.floats(0, 1),
    risk_share=st.floats(0, 1),
    indistinguishable_as_target=st.booleans(),
) | st.builds(PaymentRule, rule=st.just("threshold"), threshold=st.floats(0, 2))
achievements = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(rules, st.floats(0, 1e8), achievements)
def test_payment_within_zero_and_value_at_risk(rule, pot, a):
    paid = pot * float(pay.earned_fraction(a, rule))
    assert 0 <= paid <= pot * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(rules, achievements, achievements)
def test_payment_monotone_in_achievement(rule, a1, a2):
    lo, hi = sorted((a1, a2))
    assert pay.earned_fraction(lo, rule) <= pay.earned_fraction(hi, rule) + 1e-12


@settings(max_examples=200, deadline=None)
@given(rules, st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.booleans())
def test_better_value_never_pays_less(rule, baseline, target, value, hib):
    """Monotone in the value itself, whichever direction is good (fixed interval width)."""
    step = 1.0 if hib else -1.0
    kw = {"baseline": baseline, "target": target, "higher_is_better": hib, "rule": rule}
    p1, *_ = pay.outcome_payment(1.0, value, value - 2, value + 2, **kw)
    p2, *_ = pay.outcome_payment(1.0, value + step, value + step - 2, value + step + 2, **kw)
    assert p2 >= p1 - 1e-12
    assert 0 <= p1 <= 1 and 0 <= p2 <= 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1), achievements), min_size=1, max_size=20),
       st.floats(0, 1e7), rules)
def test_contract_total_within_zero_and_amount_at_risk(outcomes, at_risk, rule):
    """Pots are at_risk x weight with weights summing to 1, so the total stays in range."""
    total_w = sum(w for w, _ in outcomes)
    paid = sum(at_risk * (w / total_w) * float(pay.earned_fraction(a, rule))
               for w, a in outcomes)
    assert 0 <= paid <= at_risk * (1 + 1e-9)


def _said(value, baseline, target, hib=True):
    a = float(pay.achievement(value, baseline, target, hib))
    said = pay.movement(value, baseline, target, hib)
    return pay.reason(K.NOT_MET, said, a, a, 0.0, PaymentRule())


def test_a_value_worse_than_the_baseline_is_said_in_words_not_as_a_negative_share():
    said = _said(46.6, 50.0, 52.0)
    assert "46.60 is below the baseline 50.00, worse than it: moved away from the target " \
        "52.0 by 170% of the distance from baseline to target" in said
    assert "-" not in said
    assert "51.00: achievement 50% of the way from the baseline 50.00 to the target 52.0" \
        in _said(51.0, 50.0, 52.0)


def test_movement_is_described_correctly_in_every_case():
    """Audit: 56.26 from a baseline of 58.10 against a target of 54.5 (high is good) read
    "achievement 149% of the way from baseline to target"; 72.46 below both baseline 73.75
    and target 72.6 read "achievement 88% of the way"."""
    # above an improvement target: beyond it, not "149% of the way"
    said = _said(53.0, 50.0, 52.0)
    assert "better than the target 52.0, by 50% of the distance" in said
    assert "of the way" not in said
    # a target below the baseline (it allows a decline), the value worse than the baseline
    said = _said(56.26, 58.10, 54.5)
    assert "56.26 is below the baseline 58.10, worse than it, but within the decline" in said
    assert "%" not in said.split(";")[1]
    said = _said(72.46, 73.75, 72.6)
    assert "72.46 is worse than both the baseline 73.75 and the target 72.6" in said
    assert "88%" not in said
    said = _said(59.0, 58.10, 54.5)
    assert "59.00 is above the baseline 58.10, no worse than it" in said
    # low is good: 19 from 20 towards 18 is half way; 21 is worse than the baseline (above)
    assert "achievement 50% of the way" in _said(19.0, 20.0, 18.0, hib=False)
    assert "21.00 is above the baseline 20.00, worse than it" in _said(21.0, 20.0, 18.0,
                                                                         hib=False)


def test_target_on_the_worse_side_of_the_baseline():
    assert pay.target_on_worse_side(58.10, 54.5, True)
    assert not pay.target_on_worse_side(58.10, 58.7, True)
    assert pay.target_on_worse_side(19.58, 20.3, False)
    assert not pay.target_on_worse_side(60.0, 60.0, True)  # hold the line


def test_hold_the_line_and_a_hair_away_pay_alike():
    """Baseline 9.0, value 9.5: target 9.0 earned 90.9% but 9.0001 earned 100% and read
    "achievement 500000%". Now the payment moves smoothly as the target nears the baseline."""
    def paid(target):
        p, a, *_ = pay.outcome_payment(1.0, 9.5, 9.5, 9.5, baseline=9.0, target=target,
                                       higher_is_better=True, rule=GAIN)
        return float(p), float(a)

    held, near = paid(9.0), paid(9.0001)
    assert held[0] == pytest.approx(near[0])
    # worse than a held line by half the least step (0.009) earns half the way
    p, a, *_ = pay.outcome_payment(1.0, 8.9955, 8.9955, 8.9955, baseline=9.0, target=9.0,
                                   higher_is_better=True, rule=PaymentRule())
    assert float(a) == pytest.approx(0.5) and float(p) == pytest.approx(0.5)
    said = pay.movement(9.5, 9.0, 9.0001, True)
    assert "hold-the-line target" in said and "%" not in said.replace("0.1%", "")
    assert "500000" not in _said(9.5, 9.0, 9.0001)


def test_a_linear_payment_names_the_terms_that_made_it():
    """A value worse than its baseline paid 45.5% of the pot, 'not met', with no word of
    the risk share that paid it (a walkthrough)."""
    rule = PaymentRule(cap=1.2, gain_share=0.5, risk_share=0.5)
    a = float(pay.achievement(46.6, 50.0, 52.0, True))
    fraction = float(pay.earned_fraction(a, rule))
    said = pay.reason(K.NOT_MET, pay.movement(46.6, 50.0, 52.0, True), a, a, fraction, rule)
    assert f"earns {fraction:.1%} of the pot (the provider bears 50% of a shortfall, its " \
           "risk share; achievement below 0% counts as 0%; on target would earn 90.9%, " \
           "the rest kept for beating it, the gain share)" in said
    assert fraction == pytest.approx(0.5 / 1.1)
    on = pay.reason(K.MET, pay.movement(52.0, 50.0, 52.0, True), 1.0, 1.0,
                    float(pay.earned_fraction(1.0, PaymentRule())), PaymentRule())
    assert on.endswith("earns 100.0% of the pot")  # nothing to explain
