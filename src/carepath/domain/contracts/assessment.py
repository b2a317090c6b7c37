"""Assessment of one contract year: each outcome judged with its uncertainty, data quality,
SPC icons, attribution to the network's providers, and the payment line it earns."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from carepath.domain.contracts import constants as K
from carepath.domain.contracts import payment as pay
from carepath.domain.contracts.data import ContractData, Point, read_values, row_point
from carepath.domain.contracts.definitions import Contract, Framework, Outcome
from carepath.errors import ValidationError
from carepath.indicators.definition import Definition
from carepath.stats import spc


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

    @property
    def fee(self) -> float:
        return self.value - self.at_risk

    @property
    def outcome_total(self) -> float:
        return float(sum(o.payment for o in self.outcomes))

    @property
    def total(self) -> float:
        return self.fee + self.outcome_total


def check_year(contract: Contract, year: int) -> None:
    if not 1 <= year <= contract.term.years:
        raise ValidationError(f"--year must be a contract year from 1 to {contract.term.years};"
                              f" got {year}", where=contract.source_file)


def assess(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
           library: dict[str, Definition], year: int) -> Assessment:
    check_year(contract, year)
    data = ContractData(read_values(con, contract, fw), contract, library)
    return assess_data(data, fw, year)


def assess_all(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
               library: dict[str, Definition]) -> list[Assessment]:
    """Every contract year from one read of the data."""
    data = ContractData(read_values(con, contract, fw), contract, library)
    return [assess_data(data, fw, y) for y in range(1, contract.term.years + 1)]


def assess_data(data: ContractData, fw: Framework, year: int) -> Assessment:
    c = data.contract
    results = [assess_outcome(data, fw, o, year) for o in fw.outcomes]
    return Assessment(c, fw, year, c.term.period(year), c.value(year), c.at_risk(year),
                      c.fee_based(year), results)


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
    _spc(res, data, o)
    res.attribution = attribution(data, o, period, res.target)
    res.supporting = [_supporting(data, s, period) for s in o.supporting]
    _pay(res, c, year)
    return res


def _judge(res: OutcomeResult) -> None:
    p = res.point
    if res.target is None or not p.usable or p.lower is None or p.upper is None:
        return
    res.judgement = str(pay.judge(p.lower, p.upper, res.target, res.higher_is_better))
    if res.baseline is not None:
        res.achievement = float(pay.achievement(p.value, res.baseline, res.target,
                                                res.higher_is_better))


def _data_quality(res: OutcomeResult, data: ContractData, o: Outcome) -> None:
    p, dq, reasons = res.point, o.data_quality, res.dq_reasons
    if not p.usable:
        reasons.append(f"value {p.state}" + (f" ({p.note})" if p.note else ""))
    elif p.note:
        reasons.append(f"incomplete network: {p.note}")
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
    res.dq_status = K.DQ_FAIL if reasons else K.DQ_PASS


def _pay(res: OutcomeResult, c: Contract, year: int) -> None:
    rule = c.rule(res.outcome_id)
    if c.fee_based(year):
        res.status, res.reason = K.FEE_BASED, "fee-based year: nothing at risk"
        return
    res.pot = c.at_risk(year) * res.weight
    if res.target is None:
        res.reason = "no trajectory for this year"
        return
    if res.dq_status == K.DQ_FAIL:
        res.status = K.WITHHELD if rule.data_quality_gate == "withhold" else K.FORFEITED
        verb = "withheld until the data are fixed" if res.status == K.WITHHELD else "forfeited"
        res.reason = f"data-quality gate: {'; '.join(res.dq_reasons)}; pot {verb}"
        return
    credit = pay.credited(res.achievement, res.judgement, rule)
    res.credited = float(credit)
    fraction = float(pay.earned_fraction(res.credited, rule))
    res.payment = res.pot * fraction
    res.status = K.PAID if res.payment > 0 else K.NOT_EARNED
    res.reason = pay.reason(res.judgement, res.achievement, res.credited, fraction, rule)


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
                     "target": res.target} for p, v in zip(points, values, strict=True)]
    if np.count_nonzero(~np.isnan(values)) < K.MIN_SPC_POINTS:
        return
    direction = "increase" if res.higher_is_better else "decrease"
    x = spc.xmr(values, improvement_direction=direction, target=res.target)
    res.variation_icon, res.assurance_icon = x.variation_icon, x.assurance_icon
    for i, row in enumerate(res.spc_rows):
        row.update(mean=_f(x.mean[i]), lpl=_f(x.lpl[i]), upl=_f(x.upl[i]),
                   point_type=x.point_type[i], target=res.target)


def attribution(data: ContractData, o: Outcome, period: str, target: float | None) -> list:
    """Each network provider's own value for a provider-attributed indicator."""
    defn = data.library[o.indicator]
    if defn.attribution != "provider":
        return []
    rows = data.provider_rows(o.indicator, period).set_index("area_code")
    total = rows.denominator.sum()
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
