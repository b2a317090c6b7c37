"""A cost-benefit model as data: organisations, unit values (each with a source), services
with payers and their shares, benefits with the organisation that feels them, and the
uncertainty around each parameter. Validated by pydantic; loaded from YAML (+ CSV)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carepath.domain.economics import constants as K
from carepath.domain.economics.distributions import Distribution
from carepath.domain.economics.loading import (
    FILE_KEY,
    ROW_KEY,
    expand_csv_sections,
    read_yaml,
    validate,
)
from carepath.errors import ValidationError

Proportion = Annotated[float, Field(ge=0, le=1)]
Grade = Annotated[int, Field(ge=min(K.CONFIDENCE_GRADES), le=max(K.CONFIDENCE_GRADES))]
NonNegative = Annotated[float, Field(ge=0)]
Ident = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]


class _Model(BaseModel):
    # NaN or infinity in a file ("nan", ".inf") is a typing slip, never a figure: refused
    # here with the file, row and field rather than failing later in the arithmetic.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _drop_row_markers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in (ROW_KEY, FILE_KEY)}
        return data


def parse_shares(value: Any) -> dict[str, float]:
    """Payers as a mapping, or as text 'ICB:70%;HOSP:30%' / 'ICB:0.7;HOSP:0.3' (CSV)."""
    if isinstance(value, dict):
        return {str(k): _share(v) for k, v in value.items()}
    if isinstance(value, str):
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in value.split(";"))):
            code, sep, share = part.partition(":")
            if not sep or not code.strip():
                raise ValueError(f"payer {part!r} is not CODE:SHARE")
            out[code.strip()] = _share(share)
        return out
    raise ValueError("payers must be a mapping or text like 'ICB:70%;HOSPICE:30%'")


def _share(value: Any) -> float:
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"share {text!r} is not a number") from None
    if not 0 <= share <= 1:
        raise ValueError(f"share {text!r} is outside 0-100%")
    return share


def check_shares_sum(payers: dict[str, float]) -> dict[str, float]:
    if not payers:
        raise ValueError("at least one payer is needed")
    total = sum(payers.values())
    if abs(total - 1) > K.SHARE_SUM_TOLERANCE:
        raise ValueError(f"payer shares sum to {total:.1%}, not 100%")
    return payers


class UnitValue(_Model):
    id: Ident
    value: NonNegative
    unit: str = Field(min_length=1)
    source: str = Field(min_length=3, description="Where the value comes from (required).")
    price_year: int | None = None
    confidence: Grade = 3


class Service(_Model):
    id: Ident
    name: str = Field(min_length=1)
    provider: str | None = None
    unit_cost: NonNegative
    activity: NonNegative
    payers: dict[str, float]
    confidence: Grade = 3
    start_year: Annotated[int, Field(ge=0)] = 0
    end_year: Annotated[int, Field(ge=0)] | None = None
    # Activity multiplier per appraisal year (ramp-up); defaults to 1 in every active year.
    profile: list[NonNegative] | None = None
    # Filled from the workspace's service catalogue for the base year (fields given here win).
    from_catalogue: bool = False

    @field_validator("payers", mode="before")
    @classmethod
    def _payers(cls, value: Any) -> dict[str, float]:
        return check_shares_sum(parse_shares(value))

    @field_validator("profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [float(x) for x in value.split(";") if x.strip()]
        return value


class Benefit(_Model):
    id: Ident
    outcome: str = Field(min_length=1, description="e.g. avoided emergency admissions")
    quantity: float = Field(description="Outcome change per year before adjustments.")
    unit_value: Ident
    beneficiary: str = Field(min_length=1, description="Organisation that feels the benefit.")
    service: Ident | None = Field(None, description="Service producing it (else all, pro rata).")
    deadweight: Proportion = 0.0
    attribution: Proportion = 1.0
    drop_off: Proportion = 0.0
    confidence: Grade | None = None
    health: bool = Field(False, description="Health effect (QALYs): discounted at 1.5%.")
    # The quantity is at the service's stated activity; when activity varies (sensitivity),
    # a benefit of a named service varies in proportion unless this is false.
    scales_with_activity: bool = True
    start_year: Annotated[int, Field(ge=0)] = 0
    end_year: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _beneficiary_required(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("beneficiary"):
            raise ValueError("a benefit needs a beneficiary (the organisation that feels it)")
        return data


class Uncertain(_Model):
    parameter: str = Field(description="kind.id.field, e.g. benefits.admissions.quantity")
    distribution: Distribution


PARAMETER_FIELDS: dict[str, tuple[str, ...]] = {
    "services": ("unit_cost", "activity"),
    "benefits": ("quantity", "deadweight", "attribution", "drop_off"),
    "unit_values": ("value",),
}
PROPORTION_FIELDS = ("deadweight", "attribution", "drop_off")
# A unit value whose unit matches this is a health effect (Green Book: discounted at 1.5%).
HEALTH_UNIT = re.compile(r"\bqalys?\b", re.IGNORECASE)
SIGNED_FIELDS = ("quantity",)


class CBAModel(_Model):
    id: Ident
    title: str
    description: str | None = None
    base_year: int = Field(ge=2000, le=2100)
    horizon_years: int = Field(ge=1, le=K.MAX_HORIZON_YEARS)
    price_year: int | None = None
    organisations: dict[str, str] = Field(min_length=1)
    unit_values: list[UnitValue] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    benefits: list[Benefit] = Field(min_length=1)
    uncertainty: list[Uncertain] = Field(default_factory=list)
    # GDP deflator index by year (any base), to put unit values in the model's price year.
    deflators: dict[int, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> CBAModel:
        for kind in ("unit_values", "services", "benefits"):
            ids = [x.id for x in getattr(self, kind)]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{kind}: duplicate id {', '.join(dupes)}")
        self._check_references()
        self._check_windows()
        self._check_prices()
        self._check_health()
        names = [u.parameter for u in self.uncertainty]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            # two distributions for one parameter: the last would silently win
            raise ValueError(f"uncertainty: parameter {', '.join(dupes)} is given twice")
        for u in self.uncertainty:
            check_parameter(self, u)
        return self

    def _check_references(self) -> None:
        orgs = set(self.organisations)
        values = {u.id for u in self.unit_values}
        services = {s.id for s in self.services}
        for s in self.services:
            unknown = sorted(set(s.payers) - orgs)
            if unknown:
                raise ValueError(f"service {s.id}: payer {', '.join(unknown)} is not one of "
                                 f"the organisations ({', '.join(sorted(orgs))})")
        for b in self.benefits:
            if b.beneficiary not in orgs:
                raise ValueError(f"benefit {b.id}: beneficiary {b.beneficiary!r} is not one of "
                                 f"the organisations ({', '.join(sorted(orgs))})")
            if b.unit_value not in values:
                raise ValueError(f"benefit {b.id}: unknown unit value {b.unit_value!r}")
            if b.service is not None and b.service not in services:
                raise ValueError(f"benefit {b.id}: unknown service {b.service!r}")

    def _check_windows(self) -> None:
        for item in (*self.services, *self.benefits):
            last = self.horizon_years - 1
            if item.start_year > last:
                raise ValueError(f"{item.id}: start_year {item.start_year} is after the "
                                 f"horizon (years 0-{last})")
            if item.end_year is not None and item.end_year < item.start_year:
                raise ValueError(f"{item.id}: end_year is before start_year")
            if item.end_year is not None and item.end_year > last:
                # years past the horizon are never appraised: a typo, or a wrong horizon
                raise ValueError(f"{item.id}: end_year {item.end_year} is after the horizon "
                                 f"(years 0-{last})")
        for s in self.services:
            if s.profile is not None and len(s.profile) != self.horizon_years:
                raise ValueError(f"service {s.id}: profile has {len(s.profile)} years, "
                                 f"horizon is {self.horizon_years}")

    def _check_prices(self) -> None:
        priced = [f"{u.id} ({u.price_year})" for u in self.unit_values
                  if u.price_year is not None]
        if self.price_year is None and priced:
            # without it, values in different years' prices would be added as they stand
            raise ValueError(f"unit value {', '.join(priced)} has its own price year: give "
                             "the model's price_year (and deflators) so that every value is "
                             "in one year's prices")
        for u in self.unit_values:
            if self.price_year is None or u.price_year in (None, self.price_year):
                continue
            missing = [y for y in (u.price_year, self.price_year) if y not in self.deflators]
            if missing:
                raise ValueError(f"unit value {u.id} is in {u.price_year} prices and the "
                                 f"model in {self.price_year} prices: give deflators for "
                                 f"{' and '.join(map(str, missing))}")

    def _check_health(self) -> None:
        units = {u.id: u.unit for u in self.unit_values}
        for b in self.benefits:
            if not b.health and HEALTH_UNIT.search(units[b.unit_value]):
                raise ValueError(f"benefit {b.id}: unit value {b.unit_value} is "
                                 f"{units[b.unit_value]!r}, a health effect: set health: true "
                                 "(discounted at 1.5%)")

    @property
    def price_basis(self) -> str:
        """What the money is in, for headings: unit values are brought to the price year;
        service costs have no price year of their own and are taken to be in it."""
        return f"{self.price_year} prices" if self.price_year else "prices as given"

    def price_factor(self, unit_value: UnitValue) -> float:
        """Multiplier taking a unit value to the model's price year (1 when no change)."""
        if self.price_year is None or unit_value.price_year in (None, self.price_year):
            return 1.0
        return self.deflators[self.price_year] / self.deflators[unit_value.price_year]

    def item(self, kind: str, ident: str) -> Any:
        for x in getattr(self, kind):
            if x.id == ident:
                return x
        raise KeyError(ident)


def check_parameter(model: CBAModel, u: Uncertain) -> None:
    kind, _, rest = u.parameter.partition(".")
    ident, _, fld = rest.rpartition(".")
    if kind not in PARAMETER_FIELDS or fld not in PARAMETER_FIELDS[kind]:
        allowed = "; ".join(f"{k}.<id>.{'|'.join(v)}" for k, v in PARAMETER_FIELDS.items())
        raise ValueError(f"parameter {u.parameter!r} is not one of {allowed}")
    try:
        model.item(kind, ident)
    except KeyError:
        raise ValueError(f"parameter {u.parameter!r}: no {kind} with id {ident!r}") from None
    dist = u.distribution
    if fld in PROPORTION_FIELDS:
        lo, hi = dist.support()
        if lo < 0 or hi > 1:
            raise ValueError(f"parameter {u.parameter!r} is a proportion but a {dist.kind} "
                             "distribution with these parameters can leave 0-1 "
                             "(use beta, or uniform/triangular within 0-1)")
    elif fld not in SIGNED_FIELDS and dist.support()[0] < 0:
        raise ValueError(f"parameter {u.parameter!r} cannot be negative but a {dist.kind} "
                         "distribution with these parameters can be "
                         "(use gamma, lognormal, or uniform/triangular above 0)")


def parse_parameter(name: str) -> tuple[str, str, str]:
    kind, _, rest = name.partition(".")
    ident, _, fld = rest.rpartition(".")
    return kind, ident, fld


def parameter_label(model: CBAModel, name: str) -> str:
    """An uncertain parameter as people read it: "Unit cost: rapid diagnosis" for
    ``services.rapid_dx.unit_cost`` (pages showed the paths: a walkthrough); the field
    first, so that a chart's shortened labels of one benefit still differ. The path itself
    where the model does not name it."""
    kind, ident, fld = parse_parameter(name)
    field_words = fld.replace("_", " ")
    if kind == "services":
        found = next((s.name for s in model.services if s.id == ident), None)
    elif kind == "benefits":
        found = next((b.outcome for b in model.benefits if b.id == ident), None)
    elif kind == "unit_values":
        unit = next((u.unit for u in model.unit_values if u.id == ident), None)
        return f"Value of {ident.replace('_', ' ')} ({unit})" if unit else name
    else:
        found = None
    return f"{field_words[:1].upper()}{field_words[1:]}: {found}" if found else name


CSV_SECTIONS = ("unit_values", "services", "benefits", "uncertainty")


def load_cba(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> CBAModel:
    """Load a CBA model from YAML; list sections may be CSV files beside it. Services marked
    ``from_catalogue: true`` take their figures from the workspace catalogue (``con``)."""
    path = Path(path)
    data = expand_csv_sections(read_yaml(path), path.parent, CSV_SECTIONS, path)
    data = _uncertainty_from_flat_rows(data)
    services = data.get("services")
    if isinstance(services, list) and any(isinstance(s, dict) and s.get("from_catalogue")
                                          for s in services):
        if con is None:
            raise ValidationError("services marked from_catalogue need a workspace "
                                  "(give -w WORKSPACE)", where=str(path))
        from carepath.domain.economics.catalogue import fill_from_catalogue

        data = fill_from_catalogue(data, con, where=str(path))
    return validate(CBAModel, data, source=path)


def _uncertainty_from_flat_rows(data: dict) -> dict:
    """CSV uncertainty rows are flat (parameter, kind, low, mode, ...): nest them."""
    rows = data.get("uncertainty")
    if not isinstance(rows, list):
        return data
    nested = []
    for row in rows:
        if isinstance(row, dict) and "distribution" not in row and "kind" in row:
            dist = {k: v for k, v in row.items()
                    if k not in ("parameter", ROW_KEY, FILE_KEY) and v is not None}
            row = {"parameter": row.get("parameter"), "distribution": dist,
                   **{k: row[k] for k in (ROW_KEY, FILE_KEY) if k in row}}
        nested.append(row)
    return {**data, "uncertainty": nested}

