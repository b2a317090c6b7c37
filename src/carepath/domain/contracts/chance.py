"""The risk of paying for chance: how often sampling variation alone moves the payment.

For each outcome we draw the indicator's observed value many times when its *true* value
sits exactly on the year's target, and again exactly at baseline, from the indicator's own
sampling model (binomial for proportions, Poisson for rates and ratios, normal for means
with the standard error of the stored interval), recompute the interval, judge and pay
with the same code as the annual assessment, and count how often the payment differs from
what the true performance deserves. Outcomes are drawn independently; the total is the
sum. A difference counts when it exceeds ``materiality`` (default 5%) of the pot (of the
whole amount at risk for the total). Also the smallest change each outcome can reliably detect (two-sided test at the
contract's confidence, 80% power) against the step its trajectory asks for.

Design mode needs only baselines and volumes (``expected_denominator``). With data, the
volume is the year's own pooled denominator, else the baseline period's, and only when the
workspace has neither the ``expected_denominator``: a volume agreed at signing (400 ratings)
understated the noise of a year that had 846.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carepath import stats
from carepath.domain.contracts import constants as K
from carepath.domain.contracts import payment as pay
from carepath.domain.contracts.assessment import baseline_of, stale_values
from carepath.domain.contracts.data import ContractData
from carepath.domain.contracts.definitions import Contract, Framework, Outcome
from carepath.errors import ValidationError
from carepath.indicators.definition import Definition

SCENARIOS = ("target", "baseline")


@dataclass(frozen=True)
class SimInput:
    """What the sampling model of one outcome needs."""

    statistic: str
    scale: float
    denominator: float
    baseline: float
    se: float | None = None  # for means: standard error of one year's value


@dataclass
class ChanceRow:
    outcome_id: str
    title: str
    statistic: str
    denominator: float
    baseline: float
    target: float
    pot: float
    entitled: dict[str, float]
    p_under: dict[str, float]   # paid less than the true performance deserves
    p_over: dict[str, float]    # paid more than it deserves
    mdc: float                  # smallest change detectable (same units as the value)
    step: float                 # |target - baseline|

    @property
    def detectable(self) -> bool:
        return self.step >= self.mdc


@dataclass
class ChanceResult:
    year: int
    draws: int
    seed: int
    materiality: float
    at_risk: float
    rows: list[ChanceRow]
    total: dict[str, dict[str, float]]


def standard_error(inp: SimInput, true: float) -> float:
    if inp.statistic in K.STATISTICS_NORMAL:
        return float(inp.se or 0.0)
    rate = max(true / inp.scale, 0.0)
    if inp.statistic in K.STATISTICS_BINOMIAL:
        return inp.scale * float(np.sqrt(min(rate, 1.0) * (1 - min(rate, 1.0)) /
                                         inp.denominator))
    return inp.scale * float(np.sqrt(rate / inp.denominator))


def draw(rng: np.random.Generator, inp: SimInput, true: float, draws: int,
         confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated (value, lower, upper) when the true value is ``true``."""
    if inp.statistic in K.STATISTICS_NORMAL:
        se = float(inp.se or 0.0)
        v = rng.normal(true, se, draws)
        z = stats.z_value(confidence)
        return v, v - z * se, v + z * se
    n = inp.denominator
    if inp.statistic in K.STATISTICS_BINOMIAL:
        n = max(round(n), 1)
        x = rng.binomial(n, float(np.clip(true / inp.scale, 0, 1)), draws)
        iv = stats.proportion(x, n, confidence=confidence, multiplier=inp.scale)
    else:
        x = rng.poisson(max(true / inp.scale, 0) * n, draws)
        iv = stats.rate(x, n, confidence=confidence, multiplier=inp.scale)
    return iv.value, iv.lower, iv.upper


def inputs_from_data(data: ContractData, fw: Framework, year: int) -> dict[str, SimInput]:
    """Sampling inputs per outcome: the year's volume if known, else the baseline's, else
    the agreed ``expected_denominator``."""
    out = {}
    conf = data.contract.judgement_confidence
    for o in fw.outcomes:
        defn = data.library[o.indicator]
        baseline, _ = baseline_of(data, o)
        now = data.point(o.indicator, data.contract.term.period(year), conf)
        base = data.point(o.indicator, o.baseline_period, conf)
        ref = now if now.usable and now.denominator else base
        n = ref.denominator if ref.usable and ref.denominator else o.expected_denominator
        if baseline is None or not n:
            raise ValidationError(f"outcome {o.id}: no baseline value or volume; give "
                                  "baseline_value and expected_denominator for design mode",
                                  where=fw.source_file)
        se = None
        if defn.statistic in K.STATISTICS_NORMAL:
            se = _se_from_interval(ref, conf)
        out[o.id] = SimInput(defn.statistic, defn.scale, float(n), float(baseline), se)
    return out


def stale_inputs(data: ContractData, fw: Framework) -> list[str]:
    """The outcomes' values that are out of date (``assessment.stale_values``): a
    simulation reads its baselines and volumes from them, so says so."""
    return [f"{w}; the simulation's baselines and volumes are read from them"
            for w in stale_values(data, [o.indicator for o in fw.outcomes])]


def inputs_from_definitions(fw: Framework, library: dict[str, Definition]) -> dict:
    """Design mode without a workspace: agreed baselines and expected volumes only."""
    out = {}
    for o in fw.outcomes:
        defn = library[o.indicator]
        if o.baseline_value is None or o.expected_denominator is None or \
                defn.statistic in K.STATISTICS_NORMAL:
            raise ValidationError(f"outcome {o.id}: design mode without data needs "
                                  "baseline_value and expected_denominator (and a workspace "
                                  "for means)", where=fw.source_file)
        out[o.id] = SimInput(defn.statistic, defn.scale, o.expected_denominator,
                             o.baseline_value)
    return out


def _se_from_interval(p, confidence: float) -> float:
    if p.lower is None or p.upper is None:
        return 0.0
    return (p.upper - p.lower) / (2 * stats.z_value(confidence))


def first_year_at_risk(contract: Contract) -> int:
    years = [y for y in range(1, contract.term.years + 1) if not contract.fee_based(y)]
    return years[0] if years else 1


def simulate(contract: Contract, fw: Framework, library: dict[str, Definition],
             inputs: dict[str, SimInput], year: int, *, draws: int = K.DEFAULT_DRAWS,
             seed: int = K.DEFAULT_SEED,
             materiality: float = K.DEFAULT_MATERIALITY) -> ChanceResult:
    if draws < 1:
        raise ValidationError(f"draws must be at least 1; got {draws}")
    if not 0 <= materiality < 1:
        raise ValidationError(f"materiality must be in [0, 1); got {materiality}")
    rng = np.random.default_rng(seed)
    rows, totals = [], {s: (np.zeros(draws), 0.0) for s in SCENARIOS}
    for o in fw.outcomes:
        if year not in o.trajectory:
            continue
        row, paid = _simulate_outcome(rng, contract, o, library[o.indicator], inputs[o.id],
                                      year, draws, materiality)
        rows.append(row)
        for s in SCENARIOS:
            acc, ent = totals[s]
            totals[s] = (acc + paid[s], ent + row.entitled[s])
    margin = _margin(materiality, contract.at_risk(year))
    total = {s: _summary(acc, ent, margin) for s, (acc, ent) in totals.items()}
    return ChanceResult(year, draws, seed, materiality, contract.at_risk(year), rows, total)


def _margin(materiality: float, amount: float) -> float:
    return max(K.MONEY_EPSILON, materiality * amount)


def _simulate_outcome(rng, contract: Contract, o: Outcome, defn: Definition, inp: SimInput,
                      year: int, draws: int, materiality: float) -> tuple[ChanceRow, dict]:
    target, hib = o.trajectory[year], bool(defn.higher_is_better)
    rule = contract.rule(o.id)
    pot = contract.at_risk(year) * o.weight
    conf = contract.judgement_confidence
    entitled, under, over, paid = {}, {}, {}, {}
    margin = _margin(materiality, pot)
    for s in SCENARIOS:
        true = target if s == "target" else inp.baseline
        a_true = pay.achievement(true, inp.baseline, target, hib)
        entitled[s] = pot * float(pay.earned_fraction(a_true, rule))
        v, lo, hi = draw(rng, inp, true, draws, conf)
        paid[s], *_ = pay.outcome_payment(pot, v, lo, hi, baseline=inp.baseline,
                                          target=target, higher_is_better=hib, rule=rule)
        under[s] = float(np.mean(paid[s] < entitled[s] - margin))
        over[s] = float(np.mean(paid[s] > entitled[s] + margin))
    mdc = (stats.z_value(conf) + K.Z_POWER) * standard_error(inp, inp.baseline)
    row = ChanceRow(o.id, o.title, inp.statistic, inp.denominator, inp.baseline, target, pot,
                    entitled, under, over, mdc, abs(target - inp.baseline))
    return row, paid


def _summary(paid: np.ndarray, entitled: float, margin: float) -> dict[str, float]:
    q5, q50, q95 = np.quantile(paid, [0.05, 0.5, 0.95])
    return {"entitled": entitled, "mean": float(paid.mean()), "p5": float(q5),
            "median": float(q50), "p95": float(q95),
            "p_under": float(np.mean(paid < entitled - margin)),
            "p_over": float(np.mean(paid > entitled + margin))}
