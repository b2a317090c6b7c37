"""Assessment of one contract year: each outcome judged with its uncertainty, data quality,
SPC icons, attribution to the network's providers, and the payment line it earns."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from carepath.domain.contracts import constants as K
from carepath.domain.contracts import facts as wsfacts
from carepath.domain.contracts import formatting as fmt
from carepath.domain.contracts import payment as pay
from carepath.domain.contracts.data import ContractData, Point, read_data, row_point, volume
from carepath.domain.contracts.definitions import Contract, Framework, Outcome
from carepath.errors import ValidationError
from carepath.indicators.definition import Definition
from carepath.stats import spc

#: Money is stated, and summed, in pennies.
PENNY_DIGITS = 2


@dataclass
class OutcomeResult:
    outcome_id: str
    title: str
    domain: str
    indicator: str
    indicator_title: str
    unit: str
    higher_is_better: bool
    period: str
    weight: float
    target: float | None
    baseline: float | None
    baseline_source: str
    point: Point
    judgement: str = K.NO_DATA
    achievement: float | None = None
    credited: float | None = None
    dq_status: str = K.DQ_PASS
    dq_reasons: list[str] = field(default_factory=list)
    variation_icon: str | None = None
    assurance_icon: str | None = None
    spc_rows: list[dict] = field(default_factory=list)
    attribution: list[dict] = field(default_factory=list)
    supporting: list[dict] = field(default_factory=list)
    pot: float = 0.0
    payment: float = 0.0
    status: str = K.NOT_ASSESSED
    reason: str = ""
    # Said prominently beside the line, but not failing the data-quality gate.
    warnings: list[str] = field(default_factory=list)
    # Failed the gate only because values are out of date: Carepath's state, not the
    # provider's data, so the pot is withheld whatever the gate's rule (never forfeited).
    only_stale: bool = False

    @property
    def target_digits(self) -> int:
        return fmt.decimals(self.target)

    @property
    def value_digits(self) -> int:
        return fmt.value_digits(self.target)

    def shown(self, v: float | None) -> str:
        """A value, interval bound or baseline with enough decimals to compare with the
        target (see formatting.py)."""
        return fmt.fmt(v, self.value_digits)

    @property
    def target_text(self) -> str:
        return fmt.fmt(self.target, self.target_digits)


@dataclass
class Assessment:
    contract: Contract
    framework: Framework
    year: int
    period: str
    value: float
    at_risk: float
    fee_based: bool
    outcomes: list[OutcomeResult]
    warnings: list[str] = field(default_factory=list)  # about the whole contract

    # Money is in pennies: each line is rounded once, and the totals are the sums of the
    # rounded lines, so a statement adds up to the penny as printed.
    @property
    def fee(self) -> float:
        return pennies(self.value - self.at_risk)

    @property
    def outcome_total(self) -> float:
        return pennies(sum(o.payment for o in self.outcomes))

    @property
    def total(self) -> float:
        return pennies(self.fee + self.outcome_total)

    @property
    def all_warnings(self) -> list[str]:
        """Every warning, each with the outcome it is about (for the statement's head), and
        every pot held back or lost, with its amount: the report's warnings left out the
        data-quality failures that forfeited £1,192,500 (a walkthrough)."""
        held = [f"{o.title}: pot of £{o.pot:,.2f} {o.status} ({o.reason})"
                for o in self.outcomes if o.status in (K.WITHHELD, K.FORFEITED)]
        return [*self.warnings, *held, *(f"{o.title}: {w}" for o in self.outcomes
                                         for w in o.warnings)]


def pennies(amount: float) -> float:
    return round(float(amount), PENNY_DIGITS)


def check_year(contract: Contract, year: int) -> None:
    if not 1 <= year <= contract.term.years:
        raise ValidationError(f"--year must be a contract year from 1 to {contract.term.years};"
                              f" got {year}", where=contract.source_file)


def assess(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
           library: dict[str, Definition], year: int, *, config: dict,
           unreadable=()) -> Assessment:
    """``config``: the workspace's carepath.toml, needed to tell out-of-date values."""
    check_year(contract, year)
    data = read_data(con, contract, fw, library, config, unreadable)
    return assess_data(data, fw, year)


def assess_all(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
               library: dict[str, Definition], *, config: dict,
               unreadable=()) -> list[Assessment]:
    """Every contract year from one read of the data."""
    data = read_data(con, contract, fw, library, config, unreadable)
    return [assess_data(data, fw, y) for y in range(1, contract.term.years + 1)]


def assess_data(data: ContractData, fw: Framework, year: int) -> Assessment:
    c = data.contract
    results = [assess_outcome(data, fw, o, year) for o in fw.outcomes]
    warnings = [*wsfacts.unknown_organisations(c, data.facts.organisations),
                *data.facts.area_problems] if data.facts is not None else []
    return Assessment(c, fw, year, c.term.period(year), c.value(year), c.at_risk(year),
                      c.fee_based(year), results, warnings)


def baseline_of(data: ContractData, o: Outcome) -> tuple[float | None, str]:
    if o.baseline_value is not None:
        return o.baseline_value, "agreed"
    p = data.point(o.indicator, o.baseline_period, data.contract.judgement_confidence)
    return (p.value, "data") if p.usable else (None, "missing")


def assess_outcome(data: ContractData, fw: Framework, o: Outcome, year: int) -> OutcomeResult:
    c, defn = data.contract, data.library[o.indicator]
    period = c.term.period(year)
    baseline, source = baseline_of(data, o)
    res = OutcomeResult(o.id, o.title, fw.domain_of(o.id).statement, o.indicator, defn.title,
                        defn.unit, bool(defn.higher_is_better), period, o.weight,
                        o.trajectory.get(year), baseline, source,
                        data.point(o.indicator, period, c.judgement_confidence))
    _judge(res)
    _data_quality(res, data, o)
    _warn(res, data, o)
    _spc(res, data, o)
    res.attribution = attribution(data, o, period, res.target)
    res.supporting = [_supporting(data, s, period) for s in o.supporting]
    _pay(res, c, year)
    return res


def _judge(res: OutcomeResult) -> None:
    p = res.point
    if res.target is None and p.usable and p.value is not None:
        res.judgement = K.NO_TARGET  # it read "No usable value" beside its value (a check)
        return
    if res.target is None or not p.usable or p.lower is None or p.upper is None:
        return
    res.judgement = str(pay.judge(p.lower, p.upper, res.target, res.higher_is_better))
    if res.baseline is not None:
        res.achievement = float(pay.achievement(p.value, res.baseline, res.target,
                                                res.higher_is_better))


def _data_quality(res: OutcomeResult, data: ContractData, o: Outcome) -> None:
    p, dq, reasons = res.point, o.data_quality, res.dq_reasons
    waiting = not_yet_computed(data, [o.indicator, dq.indicator], res.period)
    if waiting:
        # The value is not late or bad: the period is not over in the data yet.
        reasons += waiting.values()
        res.dq_status = K.DQ_NOT_YET
        return
    if not p.usable:
        reasons.append(f"value {p.state}" + (f" ({p.note})" if p.note else ""))
    elif p.note:
        reasons.append(f"incomplete network: {p.note}")
    if data.library[o.indicator].attribution == "provider":
        # A late return fails like a suppressed one: as a warning, withholding a poor
        # return paid the pot on the rest of the network (£282,392 more in an
        # independent check's example), where sending it suppressed withheld it.
        late = data.providers_without_row(o.indicator, res.period)
        if late:
            reasons.append(f"incomplete network: no value in {res.period} for "
                           f"{', '.join(late)}, which have values in other years (a late "
                           "return?)")
    if p.usable and p.denominator is not None and p.denominator < dq.min_denominator:
        reasons.append(f"denominator {p.denominator:.0f} below the minimum "
                       f"{dq.min_denominator:.0f}")
    if dq.indicator:
        q = data.point(dq.indicator, res.period, data.contract.judgement_confidence)
        if not q.usable:
            reasons.append(f"{dq.indicator} {q.state}")
        elif q.value < dq.min_value:
            reasons.append(f"{dq.indicator} {q.value:.1f} below the minimum {dq.min_value:g}")
    if res.baseline is None:
        reasons.append(f"no baseline for {o.baseline_period}")
    stale = stale_values(data, [o.indicator, dq.indicator])
    res.only_stale = bool(stale) and not reasons
    reasons += stale
    res.dq_status = K.DQ_FAIL if reasons else K.DQ_PASS


def not_yet_computed(data: ContractData, indicator_ids, period: str) -> dict[str, str]:
    """Indicator id -> why it has no value for ``period`` anywhere in the workspace: the
    engine computes a period only once the data cover it with the follow-up it needs
    (one-year survival a year after the period ends). The pot waits for it: it is neither
    a provider's late return nor a failed data-quality gate (year 4's survival pot was
    forfeited as 'value missing (no row)', the providers blamed: a walkthrough)."""
    if data.facts is None:
        return {}
    out = {}
    for ind in dict.fromkeys(i for i in indicator_ids if i):
        # Values out of date (never computed among them) are said as such instead.
        if period not in data.facts.computed.get(ind, frozenset()) and \
                ind not in data.facts.stale:
            days = data.library[ind].follow_up_days
            after = f" and the {days} days of follow-up after it" if days else ""
            out[ind] = (f"{data.library[ind].title} has no value for {period} yet: the "
                        f"workspace's data do not cover that period{after}")
    return out


def stale_values(data: ContractData, indicator_ids) -> list[str]:
    """Values out of date (definition changed, data loaded since ...) are not paid on:
    the money would follow figures a compute would now change."""
    if data.facts is None:
        return []
    out = []
    for ind in dict.fromkeys(i for i in indicator_ids if i):
        why = data.facts.stale.get(ind)
        if why is not None:
            out.append(f"values of {ind} are out of date ({why.reason}): {why.remedy}")
    return out


def _warn(res: OutcomeResult, data: ContractData, o: Outcome) -> None:
    """What the reader must know but that does not stop payment on its own."""
    hib = res.higher_is_better
    if res.target is not None and res.baseline is not None and \
            pay.target_on_worse_side(res.baseline, res.target, hib):
        res.warnings.append(wrong_side(res.target, res.baseline, res.baseline_source,
                                       hib, res.period))
    if data.library[o.indicator].attribution != "provider" and data.facts is not None:
        moved = wsfacts.geography_change(data.facts, data.contract.population.area_code,
                                         o.baseline_period, res.period)
        if moved:
            res.warnings.append(moved)
    res.warnings += stale_values(data, [o.spc_indicator, *o.supporting])


def wrong_side(target: float, baseline: float, source: str, higher_is_better: bool,
               period: str) -> str:
    side = "below" if target < baseline else "above"
    good = "higher" if higher_is_better else "lower"
    return (f"the {period} target {fmt.fmt(target, fmt.decimals(target))} lies {side} the "
            f"baseline {fmt.fmt(baseline, fmt.value_digits(target))} ({source}) although "
            f"{good} is better: the contract pays for a decline")


def _pay(res: OutcomeResult, c: Contract, year: int) -> None:
    rule = c.rule(res.outcome_id)
    if c.fee_based(year):
        res.status, res.reason = K.FEE_BASED, "fee-based year: nothing at risk"
        return
    res.pot = c.at_risk(year) * res.weight
    if res.target is None:
        res.reason = "no trajectory for this year"
        return
    if res.dq_status == K.DQ_NOT_YET:
        res.status = K.WITHHELD
        res.reason = (f"not yet known: {'; '.join(res.dq_reasons)}; pot withheld until the "
                      "data cover the period and it is computed")
        return
    if res.dq_status == K.DQ_FAIL:
        withhold = rule.data_quality_gate == "withhold" or res.only_stale
        res.status = K.WITHHELD if withhold else K.FORFEITED
        verb = ("withheld until the values are computed again" if res.only_stale else
                "withheld until the data are fixed" if res.status == K.WITHHELD else
                "forfeited")
        res.reason = f"data-quality gate: {'; '.join(res.dq_reasons)}; pot {verb}"
        return
    credit = pay.credited(res.achievement, res.judgement, rule)
    res.credited = float(credit)
    fraction = float(pay.earned_fraction(res.credited, rule))
    res.payment = pennies(res.pot * fraction)
    res.status = K.PAID if res.payment > 0 else K.NOT_EARNED
    said = None if res.point.value is None or res.baseline is None else pay.movement(
        res.point.value, res.baseline, res.target, res.higher_is_better)
    res.reason = pay.reason(res.judgement, said, res.achievement, res.credited, fraction,
                            rule)


def target_warnings(data: ContractData, fw: Framework) -> list[str]:
    """Outcomes whose targets lie on the worse side of the baseline, naming the years: a
    target below the baseline of a high-is-good indicator pays for a decline (the shipped
    example did, as nobody compared its targets with the data's baseline). With a
    workspace, outcomes with no baseline at all (a baseline period the data do not have
    passed `check` and lost the pot at `assess`: a walkthrough)."""
    out = []
    for o in fw.outcomes:
        baseline, source = baseline_of(data, o)
        if baseline is None and data.facts is not None:  # read from a workspace
            out.append(f"outcome {o.id}: no usable value of {o.indicator} for its baseline "
                       f"period {o.baseline_period} in the workspace, and no agreed "
                       "baseline_value: every year at risk will fail its data-quality gate "
                       "until one of them is there")
        if baseline is None:
            continue
        hib = bool(data.library[o.indicator].higher_is_better)
        worse = {y: t for y, t in sorted(o.trajectory.items())
                 if pay.target_on_worse_side(baseline, t, hib)}
        if worse:
            targets = ", ".join(f"year {y}: {fmt.fmt(t, fmt.decimals(t))}"
                                for y, t in worse.items())
            side = "below" if hib else "above"
            good = "higher" if hib else "lower"
            out.append(f"outcome {o.id}: targets {side} its {o.baseline_period} baseline "
                       f"{baseline:.2f} ({source}) although {good} is better ({targets}): "
                       "the contract would pay for a decline")
    return out


def series(data: ContractData, indicator_id: str, until: str) -> list[Point]:
    """Points of an indicator up to the end of the financial year ``until``."""
    end = pd.Timestamp(int(until[:4]) + 1, 3, 31)
    periods = [p for p, last in data.period_ends(indicator_id).items() if last <= end]
    conf = data.contract.judgement_confidence
    return [data.point(indicator_id, p, conf) for p in periods]


def _spc(res: OutcomeResult, data: ContractData, o: Outcome) -> None:
    ind = o.spc_indicator or o.indicator
    points = series(data, ind, res.period)
    values = np.array([p.value if p.usable else np.nan for p in points], dtype=float)
    res.spc_rows = [{"period": p.period, "value": None if np.isnan(v) else float(v),
                     "mean": None, "lpl": None, "upl": None, "point_type": None,
                     "target": _target_in(data.contract, o, p.period)}
                    for p, v in zip(points, values, strict=True)]
    if np.count_nonzero(~np.isnan(values)) < K.MIN_SPC_POINTS:
        return
    direction = "increase" if res.higher_is_better else "decrease"
    x = spc.xmr(values, improvement_direction=direction, target=res.target)
    res.variation_icon, res.assurance_icon = x.variation_icon, x.assurance_icon
    for i, row in enumerate(res.spc_rows):
        row.update(mean=_f(x.mean[i]), lpl=_f(x.lpl[i]), upl=_f(x.upl[i]),
                   point_type=x.point_type[i])


def _target_in(c: Contract, o: Outcome, period: str) -> float | None:
    """The trajectory's target for the contract year ``period`` falls in (a quarter by its
    financial year), none before the term: the chart drew this year's target across every
    year (a walkthrough). The assurance icon is judged against this year's, as MDC asks."""
    year = int(period[:4]) - int(c.term.first_year[:4]) + 1
    return o.trajectory.get(year) if 1 <= year <= c.term.years else None


def attribution(data: ContractData, o: Outcome, period: str, target: float | None) -> list:
    """Each network provider's own value for a provider-attributed indicator."""
    defn = data.library[o.indicator]
    if defn.attribution != "provider":
        return []
    rows = data.provider_rows(o.indicator, period).set_index("area_code")
    # A mean's volume is its respondents (no denominator): its shares were blank (a check)
    total = volume(rows, defn.statistic).sum()
    out = []
    for p in data.contract.providers:
        role = "prime" if p.code == data.contract.prime_provider.code else "subcontractor"
        base = {"code": p.code, "name": p.name, "role": role,
                "service_lines": ", ".join(p.service_lines)}
        if p.code not in rows.index:
            out.append({**base, "state": "missing", "judgement": K.NO_DATA})
            continue
        pt = row_point(rows.loc[p.code], data.contract.judgement_confidence)
        j = K.NO_DATA
        if target is not None and pt.usable and pt.lower is not None:
            j = str(pay.judge(pt.lower, pt.upper, target, bool(defn.higher_is_better)))
        share = pt.denominator / total if pt.denominator and total else None
        out.append({**base, "state": pt.state, "value": pt.value, "lower": pt.lower,
                    "upper": pt.upper, "denominator": pt.denominator, "share": share,
                    "judgement": j})
    return out


def _supporting(data: ContractData, indicator_id: str, period: str) -> dict:
    p = data.point(indicator_id, period, data.contract.judgement_confidence)
    return {"indicator": indicator_id, "title": data.library[indicator_id].title,
            "value": p.value, "lower": p.lower, "upper": p.upper, "state": p.state}


def _f(v) -> float | None:
    return None if v is None or np.isnan(v) else float(v)
