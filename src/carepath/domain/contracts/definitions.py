"""An outcomes framework and a prime-provider contract as validated YAML.

A *framework* holds the domains in the words people used, each outcome with its library
indicator, baseline period, year-by-year trajectory, weight, minimum data quality and the
co-production record. A *contract* names the commissioners, the prime provider and its
subcontractors (with service lines), the population, the term, the annual value, the share
at risk each year and a payment rule per outcome; it points at its framework file.
Errors name the file and the field (``ValidationError(message, where=...)``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carepath.domain.contracts import constants as K
from carepath.errors import ValidationError
from carepath.indicators.definition import Definition
from carepath.indicators.periods import financial_year_label
from carepath.model.schema import TABLES_BY_NAME
from carepath.yamlfile import read_mapping

Ident = Annotated[str, Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")]
OrgCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_\-]+$")]
Share = Annotated[float, Field(ge=0, le=1)]
FinancialYear = Annotated[str, Field(pattern=r"^\d{4}/\d{2}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ------------------------------------------------------------------------------ framework
class CoProduction(_Model):
    """Which event agreed what, with which groups of participants, and when."""

    event: str = Field(min_length=1)
    date: date
    groups: tuple[str, ...] = Field(min_length=1)
    agreed: str = Field(min_length=1)
    event_id: str | None = Field(None, description="Id in the co-production records, if kept.")


class DataQuality(_Model):
    """Minimum data quality for an outcome to be paid on."""

    min_denominator: float = Field(0, ge=0)
    indicator: Ident | None = Field(None, description="A completeness indicator, e.g. "
                                    "stage_recorded_pct, read at the same area and period.")
    min_value: float | None = None

    @model_validator(mode="after")
    def _pair(self) -> DataQuality:
        if (self.indicator is None) != (self.min_value is None):
            raise ValueError("indicator and min_value go together")
        return self


class Outcome(_Model):
    id: Ident
    title: str = Field(min_length=1)
    indicator: Ident
    supporting: tuple[Ident, ...] = ()
    spc_indicator: Ident | None = Field(None, description="A more frequent series (e.g. "
                                        "quarterly) for the SPC chart; else the annual one.")
    baseline_period: FinancialYear
    baseline_value: float | None = Field(None, description="Agreed baseline; if absent the "
                                         "value at baseline_period in the data is used.")
    expected_denominator: float | None = Field(None, gt=0, description="Volume for design "
                                               "mode when there is no data yet.")
    trajectory: dict[int, float] = Field(min_length=1)
    weight: Share
    data_quality: DataQuality = DataQuality()

    @field_validator("weight", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        """'30%' as share_at_risk takes it (refused here: a walkthrough)."""
        return _as_share(value, "weight")


class Domain(_Model):
    id: Ident
    statement: str = Field(min_length=1, description="In the words people used.")
    outcomes: tuple[Outcome, ...] = Field(min_length=1)


class Framework(_Model):
    id: Ident
    title: str = Field(min_length=1)
    term_years: int = Field(ge=K.MIN_TERM_YEARS, le=K.MAX_TERM_YEARS)
    coproduction: tuple[CoProduction, ...] = Field(min_length=1)
    domains: tuple[Domain, ...] = Field(min_length=1)
    source_file: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _check(self) -> Framework:
        ids = [o.id for o in self.outcomes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"outcome ids must be unique; repeated: {', '.join(dupes)}")
        total = sum(o.weight for o in self.outcomes)
        if abs(total - 1) > K.WEIGHT_TOLERANCE:
            raise ValueError(f"outcome weights must sum to 1; they sum to "
                             f"{total:.{K.WEIGHT_DIGITS}g}")
        for o in self.outcomes:
            outside = sorted(y for y in o.trajectory if not 1 <= y <= self.term_years)
            if outside:
                raise ValueError(f"outcome {o.id}: trajectory years {outside} are outside the "
                                 f"term (years 1 to {self.term_years})")
        return self

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for d in self.domains for o in d.outcomes]

    def outcome(self, outcome_id: str) -> Outcome:
        return next(o for o in self.outcomes if o.id == outcome_id)

    def domain_of(self, outcome_id: str) -> Domain:
        return next(d for d in self.domains if any(o.id == outcome_id for o in d.outcomes))


# ------------------------------------------------------------------------------- contract
class Organisation(_Model):
    code: OrgCode
    name: str = Field(min_length=1)


class Provider(Organisation):
    service_lines: tuple[str, ...] = ()


class Subcontractor(Provider):
    service_lines: tuple[str, ...] = Field(min_length=1)


class Population(_Model):
    area_type: str = Field(min_length=1)
    area_code: str = Field(min_length=1)


class Term(_Model):
    first_year: FinancialYear
    years: int = Field(ge=K.MIN_TERM_YEARS, le=K.MAX_TERM_YEARS)

    def period(self, year: int) -> str:
        return financial_year_label(int(self.first_year[:4]) + year - 1)


class PaymentRule(_Model):
    """How one outcome's pot is earned (see docs/contracts.md for the formula)."""

    rule: Literal["linear", "threshold"] = "linear"
    threshold: float | None = Field(None, ge=0, description="Achievement (0 = baseline, "
                                    "1 = target) below which nothing is earned; none if absent.")
    cap: float = Field(1, ge=1, description="Most achievement credited (1 = the target).")
    gain_share: Share = 0
    risk_share: Share = 1
    indistinguishable_as_target: bool = Field(True, description="A value whose interval "
                                              "includes the target is credited as on target.")
    data_quality_gate: Literal["withhold", "forfeit"] = "withhold"

    @model_validator(mode="after")
    def _threshold_only(self) -> PaymentRule:
        if self.rule == "threshold" and self.threshold is None:
            raise ValueError("a threshold rule needs threshold (1 = the year's target)")
        if self.rule == "threshold" and (self.gain_share or self.cap != 1
                                         or self.risk_share != 1):
            raise ValueError("gain_share, risk_share and cap apply to linear rules only")
        return self


class Payment(_Model):
    """A default rule, and per outcome only the fields that differ from it."""

    default: PaymentRule = PaymentRule()
    outcomes: dict[str, PaymentRule] = {}

    @model_validator(mode="before")
    @classmethod
    def _inherit(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("outcomes"), dict):
            return data
        base = data.get("default") if isinstance(data.get("default"), dict) else {}
        merged = {k: {**_inheritable(base, v), **v} if isinstance(v, dict) else v
                  for k, v in data["outcomes"].items()}
        return {**data, "outcomes": merged}


#: The fields that say how a pot is earned under the default's own rule. An outcome with
#: another rule inherits none of them: a linear outcome under a threshold default took its
#: ``threshold: 1`` as a floor, and earned nothing at 70% of the way to target.
RULE_FIELDS = ("rule", "threshold", "cap", "gain_share", "risk_share")


def _inheritable(base: dict, own: dict) -> dict:
    """The default's fields an outcome rule inherits: all of them when it keeps the
    default's rule; only the rule-neutral ones (benefit of the doubt, data-quality gate)
    when it names another."""
    if own.get("rule", base.get("rule", "linear")) != base.get("rule", "linear"):
        return {k: v for k, v in base.items() if k not in RULE_FIELDS}
    return base


class Contract(_Model):
    id: Ident
    title: str = Field(min_length=1)
    framework: str = Field(min_length=1, description="Framework YAML, relative to this file.")
    commissioners: tuple[Organisation, ...] = Field(min_length=1)
    prime_provider: Provider
    subcontractors: tuple[Subcontractor, ...] = ()
    population: Population
    term: Term
    annual_value: float = Field(gt=0)
    value_by_year: dict[int, float] = {}
    share_at_risk: dict[int, Share]
    judgement_confidence: float = K.DEFAULT_JUDGEMENT_CONFIDENCE
    payment: Payment = Payment()
    source_file: str | None = Field(None, exclude=True)

    @field_validator("share_at_risk", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _as_share(v, f"share_at_risk year {k}") for k, v in value.items()}

    @field_validator("value_by_year")
    @classmethod
    def _positive(cls, value: dict[int, float]) -> dict[int, float]:
        """Like annual_value, each year's value is a positive amount of money."""
        bad = {y: v for y, v in sorted(value.items()) if not v > 0}
        if bad:
            said = ", ".join(f"year {y}: {v:,.2f}" for y, v in bad.items())
            raise ValueError(f"each year's value must be above 0 (as annual_value); {said}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Contract:
        years = set(range(1, self.term.years + 1))
        for name, mapping in (("share_at_risk", self.share_at_risk),
                              ("value_by_year", self.value_by_year)):
            outside = sorted(set(mapping) - years)
            if outside:
                raise ValueError(f"{name}: years {outside} are outside the term (1 to "
                                 f"{self.term.years})")
        missing = sorted(years - set(self.share_at_risk))
        if missing:
            raise ValueError(f"share_at_risk: give every contract year; missing {missing}")
        if self.judgement_confidence not in K.JUDGEMENT_CONFIDENCES:
            raise ValueError(f"judgement_confidence must be one of {K.JUDGEMENT_CONFIDENCES}")
        codes = [p.code for p in self.providers]
        if len(set(codes)) != len(codes):
            repeated = sorted({c for c in codes if codes.count(c) > 1})
            raise ValueError("prime provider and subcontractors must have distinct codes; "
                             f"repeated: {', '.join(repeated)}")
        return self

    @property
    def providers(self) -> list[Provider]:
        return [self.prime_provider, *self.subcontractors]

    def value(self, year: int) -> float:
        return self.value_by_year.get(year, self.annual_value)

    def at_risk(self, year: int) -> float:
        return self.value(year) * self.share_at_risk[year]

    def fee_based(self, year: int) -> bool:
        return self.share_at_risk[year] == 0

    def rule(self, outcome_id: str) -> PaymentRule:
        return self.payment.outcomes.get(outcome_id, self.payment.default)


def _as_share(value: Any, label: str) -> Any:
    """'10%' -> 0.1; a number stays as given (pydantic then checks 0..1)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"{label}: {value!r} is not a percentage") from None
    return value


def design_warnings(contract: Contract, fw: Framework) -> list[str]:
    """What `check` should say of a contract that loads but is likely not what was meant
    (each passed without a word: a walkthrough)."""
    out = []
    by_indicator: dict[str, list[str]] = {}
    for o in fw.outcomes:
        by_indicator.setdefault(o.indicator, []).append(o.id)
        rule = contract.rule(o.id)
        if rule.threshold is not None and rule.threshold > max(rule.cap, 1):
            out.append(f"outcome {o.id}: threshold {rule.threshold:g} asks for "
                       f"{rule.threshold:g} times the improvement its target asks (1 = the "
                       "target; 0.5 = half way from the baseline)")
    for ind, ids in by_indicator.items():
        if len(ids) > 1:
            out.append(f"outcomes {', '.join(ids)} are all paid on {ind}: the same change "
                       "in it is paid for more than once")
    return out


# -------------------------------------------------------------------------------- loading
def _read_yaml(path: Path) -> dict:
    return read_mapping(path)


def _label(data: Any, loc: tuple) -> str:
    """A readable field path: domains[0] (id diagnosed_early).outcomes[1] (id x).weight."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") or node.get("code") if isinstance(node, dict) else None
            parts.append(f"[{key}]" + (f" (id {ident})" if ident else ""))
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(str(key))
    return ".".join(parts).replace(".[", "[")


def _own_errors(errors: list[dict]) -> list[dict]:
    """Errors less those a list reports because an item of it failed: every bad outcome
    also said "outcomes: Tuple should have at least 1 item", of a domain that had one (a
    walkthrough)."""
    failed = [tuple(e["loc"]) for e in errors]
    return [e for e in errors if not (e["type"] == "too_short" and any(
        len(loc) > len(e["loc"]) and loc[:len(e["loc"])] == tuple(e["loc"]) for loc in failed))]


def _hint(err: dict) -> str:
    """What the commonest mistakes need besides pydantic's words."""
    field = err["loc"][-1] if err["loc"] else None
    if field == "weight" and err["type"] == "less_than_equal":
        return " (weights are shares of 1 that sum to 1: 0.3 or '30%' for 30%)"
    if field == "first_year" and err["type"] == "string_type":
        return " (a financial year such as '2021/22')"
    if field in ("first_year", "baseline_period") and err["type"] == "string_pattern_mismatch":
        return " (a financial year such as '2021/22')"
    return ""


def _validate(model: type[BaseModel], data: dict, path: Path) -> Any:
    try:
        return model.model_validate({**data, "source_file": str(path)})
    except pydantic.ValidationError as exc:
        errors = _own_errors(exc.errors())
        messages = []
        for err in errors[:5]:
            label = _label(data, tuple(err["loc"]))
            text = str(err["msg"]).removeprefix("Value error, ") + _hint(err)
            messages.append(f"field {label}: {text}" if label else text)
        more = len(errors) - len(messages)
        tail = f" (and {more} more)" if more > 0 else ""
        raise ValidationError("; ".join(messages) + tail, where=str(path)) from None


def check_framework_indicators(fw: Framework, library: dict[str, Definition]) -> None:
    """Every indicator exists in the library, and a paid one has a direction of good."""
    where = fw.source_file
    for d_i, domain in enumerate(fw.domains):
        for o_i, o in enumerate(domain.outcomes):
            field = f"domains[{d_i}].outcomes[{o_i}] (id {o.id})"
            named = [("indicator", o.indicator), ("spc_indicator", o.spc_indicator),
                     ("data_quality.indicator", o.data_quality.indicator),
                     *(("supporting", s) for s in o.supporting)]
            for name, ind in named:
                if ind is not None and ind not in library:
                    raise ValidationError(
                        f"field {field}.{name}: unknown indicator {ind!r}; `carepath "
                        "indicators list` shows the built-in ids, and a workspace's own "
                        "are known when the command is given it (-w WS)", where=where)
            if library[o.indicator].polarity == "no_judgement":
                raise ValidationError(f"field {field}.indicator: {o.indicator!r} has no "
                                      "direction of good (polarity no_judgement), so it "
                                      "cannot be paid on", where=where)
            check_periods(o, field, library, where)
            check_outcome_values(o, field, library, where)


#: Contract years are financial years: an outcome is read at "2023/24".
CONTRACT_PERIOD = "financial_year"
#: "score 0-10", "0 to 10" in a unit: the range of a mean that its column does not give.
UNIT_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)")


def value_range(defn: Definition) -> tuple[float | None, float | None]:
    """The values the indicator's statistic can take: 0 to 100% for a proportion, not
    below 0 for rates, ratios and counts, and for a mean its column's range in the data
    model or else the range its unit states ("score 0-10"); None where there is no bound."""
    if defn.statistic in K.STATISTICS_BINOMIAL:
        return 0.0, float(defn.scale)
    if defn.statistic not in K.STATISTICS_NORMAL:
        return 0.0, None
    low, high = _column_range(defn)
    found = UNIT_RANGE.search(defn.unit or "")
    if found and low is None and high is None:
        low, high = float(found.group(1)), float(found.group(2))
    scale = float(defn.scale)
    return (None if low is None else low * scale, None if high is None else high * scale)


def _column_range(defn: Definition) -> tuple[float | None, float | None]:
    kind, _, column = defn.numerator.value.partition(":")
    table = TABLES_BY_NAME.get(defn.numerator.table)
    col = next((c for c in getattr(table, "columns", ()) if c.name == column), None)
    if kind != "mean" or col is None:
        return None, None
    return col.min, col.max


def _outside(value: float, bounds: tuple[float | None, float | None]) -> bool:
    low, high = bounds
    return (low is not None and value < low) or (high is not None and value > high)


def _range_words(defn: Definition, bounds: tuple[float | None, float | None]) -> str:
    low, high = bounds
    span = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
    return f"{defn.id} is a {defn.statistic} ({defn.unit or 'no unit'}): {span}"


def check_outcome_values(o: Outcome, field: str, library: dict[str, Definition],
                         where: str | None) -> None:
    """Targets, the agreed baseline and the data-quality minimum the indicator can take:
    a target of 545 for a percentage, or a baseline of -9 on a 0-10 score, is a typo."""
    defn = library[o.indicator]
    bounds = value_range(defn)
    named = [*((f"trajectory.{y}", t) for y, t in sorted(o.trajectory.items())),
             ("baseline_value", o.baseline_value)]
    for name, value in named:
        if value is not None and _outside(value, bounds):
            raise ValidationError(f"field {field}.{name}: {value:g} is impossible, as "
                                  f"{_range_words(defn, bounds)}", where=where)
    dq = o.data_quality
    if dq.indicator is None:
        return
    dq_defn = library[dq.indicator]
    dq_bounds = value_range(dq_defn)
    if _outside(dq.min_value, dq_bounds):
        raise ValidationError(f"field {field}.data_quality.min_value: {dq.min_value:g} is "
                              f"impossible, as {_range_words(dq_defn, dq_bounds)}",
                              where=where)


def check_periods(o: Outcome, field: str, library: dict[str, Definition],
                  where: str | None) -> None:
    """An indicator read at a contract year must have financial-year values: a quarterly
    one has no "2023/24" row, and its pot was withheld every year without a word why."""
    named = [("indicator", o.indicator), ("data_quality.indicator", o.data_quality.indicator),
             *(("supporting", s) for s in o.supporting)]
    for name, ind in named:
        if ind is not None and library[ind].period != CONTRACT_PERIOD:
            raise ValidationError(f"field {field}.{name}: {ind!r} has {library[ind].period} "
                                  "periods; contract years are financial years (a quarterly "
                                  "series can be the spc_indicator)", where=where)


def load_framework(path: Path, library: dict[str, Definition]) -> Framework:
    path = Path(path)
    fw = _validate(Framework, _read_yaml(path), path)
    check_framework_indicators(fw, library)
    return fw


def load_contract(path: Path, library: dict[str, Definition]) -> tuple[Contract, Framework]:
    """A contract and its framework, checked against each other and the library."""
    path = Path(path)
    data = _read_yaml(path)
    contract = _validate(Contract, data, path)
    fw_path = (path.parent / contract.framework).resolve()
    if not fw_path.is_file():
        raise ValidationError(f"field framework: file {contract.framework!r} not found "
                              "(paths are relative to the contract)", where=str(path))
    fw = load_framework(fw_path, library)
    check_pair(contract, fw)
    return contract, fw


def check_pair(contract: Contract, fw: Framework) -> None:
    where = contract.source_file
    if fw.term_years != contract.term.years:
        raise ValidationError(f"field term.years: {contract.term.years} differs from the "
                              f"framework's term_years {fw.term_years}", where=where)
    known = {o.id for o in fw.outcomes}
    for oid in contract.payment.outcomes:
        if oid not in known:
            raise ValidationError(f"field payment.outcomes.{oid}: no outcome {oid!r} in "
                                  f"framework {fw.id}", where=where)
    for year in range(1, contract.term.years + 1):
        if contract.fee_based(year):
            continue
        lacking = [o.id for o in fw.outcomes if o.weight > 0 and year not in o.trajectory]
        if lacking:
            raise ValidationError(f"field share_at_risk: year {year} puts value at risk but "
                                  f"outcomes {lacking} have no trajectory for it",
                                  where=where)
