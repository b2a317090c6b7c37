"""Indicator definitions: one YAML file per indicator, an immutable validated model.

A definition says *what* to count; the engine decides *how*. Parsing happens in two
steps, each with errors that name the file and field:

1. structure and types (pydantic);
2. meaning, against the data model (``carepath.indicators.semantics``): tables exist,
   filters parse and type-check against the columns the definition can see, the date
   column is a date, breakdowns can be derived, the statistic has the inputs it needs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticError

from carepath.errors import ValidationError
from carepath.indicators import expr
from carepath.indicators.cohort import Cohort
from carepath.model import schema
from carepath.model.codes import AGE_BAND_STARTS, AGE_BANDS
from carepath.workspace.derived import PERSON_COLUMNS, PERSON_TABLE, borrowable
from carepath.yamlfile import read_mapping

Statistic = Literal["proportion", "crude_rate", "dsr", "isr", "isratio", "mean", "count"]
Period = Literal["financial_year", "calendar_year", "quarter", "rolling_12_months"]
PERIOD_KINDS: tuple[str, ...] = get_args(Period)
Polarity = Literal["high_is_good", "low_is_good", "no_judgement"]
Breakdown = Literal["sex", "age_band", "imd_quintile", "ethnic_group", "tumour_group"]
Domain = Literal["early_diagnosis", "screening", "waiting_times", "incidence_prevalence",
                 "personalised_care", "end_of_life", "survival", "experience"]

CONF_95 = 0.95
CONF_998 = 0.998
DEFAULT_MULTIPLIER = {"proportion": 100, "crude_rate": 100_000, "dsr": 100_000,
                      "isr": 100_000, "isratio": 100, "mean": 1, "count": 1}
# A title or a reason must say something.
NOT_BLANK = r"\S"
# Follow-up is counted in days within a century, as date offsets are (expr.MAX_OFFSET):
# more is a slip, and date arithmetic overflows soon after.
MAX_FOLLOW_UP_DAYS = expr.MAX_OFFSET["days"]


def _a_written_date(value: object) -> object:
    """A date is written YYYY-MM-DD: a number, or text pydantic would read as seconds since
    1970 ('0', '1764028800'), is refused rather than taken as some day of 1970 or 2025."""
    if isinstance(value, int | float) or (
            isinstance(value, str) and not expr.DATE_LITERAL.fullmatch(value.strip())):
        raise ValueError(f"a date is written YYYY-MM-DD, not {value!r}")
    return value


# Numbers are numbers: "100" (quoted) or true are refused rather than read as 100 or 1 (a
# multiplier of true turned a percentage into a fraction). A whole number is taken where a
# float is, and read as a float (the content hash is of the floats).
Number = StrictFloat
WholeNumber = StrictInt
Day = Annotated[date, BeforeValidator(_a_written_date)]
# Columns every filter may use besides the table's own: the period being computed.
PERIOD_COLUMNS = {"period_start": "date", "period_end": "date"}
# Columns taken from `patients` when the counted table lacks them (joined on patient_id),
# kept in one place with the derived copies that carry them (carepath.workspace.derived).
PATIENT_COLUMNS = PERSON_COLUMNS
# Standardised statistics are computed within sex and age band.
STANDARDISED_STATISTICS = ("dsr", "isr", "isratio")
STANDARDISATION_STRATA = ("sex", "age_band")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _on_key(data: object) -> object:
    """YAML reads an unquoted ``on:`` as the boolean True (YAML 1.1); take it as ``on``,
    the key the user wrote, rather than report a missing field."""
    if isinstance(data, dict) and True in data and "on" not in data:
        return {("on" if k is True else k): v for k, v in data.items()}
    return data


class Related(_Model):
    """Keep (require) or drop (exclude) rows that have a matching row in another table.
    In ``where``, plain names are the related table's columns; the counted table's are
    written ``table.column``."""

    table: str
    on: str = Field(description="Key column present in both tables, e.g. patient_id.")
    where: str | None = Field(None, pattern=NOT_BLANK)
    latest_by: str | None = Field(
        None, description="A date column of the other table: test ``where`` on each key's "
        "latest row on or before the counted row's date only (a person's latest recorded "
        "preference before death), not on any of its rows.")
    among: str | None = Field(
        None, pattern=NOT_BLANK, description="With latest_by: a filter on the other table's own columns that "
        "picks which of its rows may be the latest (e.g. preferred_place != 'not_stated').")

    _on = model_validator(mode="before")(_on_key)


class DatedBy(_Model):
    """Put each counted row in the period of a related row's date: an admission in the
    period of the person's death, so that a year's deaths and the admissions before them
    are counted together."""

    table: str = Field(description="The table holding the date, e.g. deaths.")
    on: str = Field(description="The other table's key, a column of the counted table too "
                    "(deaths' patient_id): each counted row takes its one row's date.")
    own_date: str = Field(description="The counted table's own date (admission_date): "
                          "periods end where its data end too, so admissions that lag the "
                          "deaths do not make the last period read low.")

    _on = model_validator(mode="before")(_on_key)


class Count(_Model):
    """Rows of one table that count, and what is counted."""

    table: str
    date: str = Field(description="The date column that puts a row in a period (of "
                      "dated_by's table, when given).")
    dated_by: DatedBy | None = None
    where: str | None = Field(None, pattern=NOT_BLANK)
    value: str = Field("rows", description="'rows', 'distinct:<column>', 'per:<column>', "
                       "'sum:<column>' or 'mean:<column>'.")
    until: str | None = Field(None, description="For mode as_at_end: the date a row stops "
                              "counting (e.g. exit_date); empty means still counting.")
    require: tuple[Related, ...] = ()
    exclude: tuple[Related, ...] = ()


AGE_BAND_YEARS = AGE_BAND_STARTS[1] - AGE_BAND_STARTS[0]  # five-year bands
OPEN_BAND_FROM = AGE_BAND_STARTS[-1]  # 90+


class Population(_Model):
    """A denominator from the registered population, averaged over the period's quarters."""

    population: Literal["registered"]
    sex: tuple[Literal["M", "F"], ...] = ("M", "F")
    min_age: WholeNumber = Field(0, ge=0)
    max_age: WholeNumber | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ages_in_order(self) -> Population:
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError(f"max_age {self.max_age} is below min_age {self.min_age}: no "
                             "one would be counted")
        # Registered lists come in five-year bands: an age inside a band would take the
        # whole band (max_age 53 counting everyone up to 54) and inflate the rate.
        if self.min_age % AGE_BAND_YEARS or self.min_age > OPEN_BAND_FROM:
            raise ValueError(f"min_age {self.min_age} is not the start of a five-year band "
                             f"(0, 5, ... {OPEN_BAND_FROM}): registered lists have no finer ages")
        if self.max_age is not None and ((self.max_age + 1) % AGE_BAND_YEARS
                                         or self.max_age >= OPEN_BAND_FROM):
            raise ValueError(f"max_age {self.max_age} is not the end of a five-year band (4, "
                             f"9, ... {OPEN_BAND_FROM - 1}; leave it out for {OPEN_BAND_FROM}+)"
                             ": registered lists have no finer ages")
        return self

    def band_range(self) -> range:
        """Indexes of the ESP2013 bands this population covers."""
        last = len(AGE_BANDS) - 1 if self.max_age is None else self.max_age // AGE_BAND_YEARS
        return range(self.min_age // AGE_BAND_YEARS, last + 1)


def _denominator_kind(value: object) -> str:
    """A denominator with a ``population`` field is a population; anything else a count.
    Chosen before validating, so an error names the fields of the kind that was meant."""
    if isinstance(value, dict):
        return "population" if "population" in value else "count"
    return "population" if isinstance(value, Population) else "count"


Denominator = Annotated[Annotated[Count, Tag("count")] | Annotated[Population, Tag("population")],
                        Discriminator(_denominator_kind)]


class Comparator(_Model):
    method: Literal["ci_overlap", "funnel", "quantiles"] = "ci_overlap"
    confidence: Number = CONF_95

    @field_validator("confidence")
    @classmethod
    def _known_level(cls, v: float) -> float:
        if v not in (CONF_95, CONF_998):
            raise ValueError(f"confidence must be {CONF_95} or {CONF_998}")
        return v


class Target(_Model):
    value: Number = Field(allow_inf_nan=False)
    label: str


class Disclosure(_Model):
    min_denominator: Number = Field(0, ge=0, allow_inf_nan=False, description="Below this denominator a value is not "
                                   "shown (e.g. list size under 750).")


class Governance(_Model):
    source: str
    authored_by: str
    checked_by: str
    reviewed: Day
    next_review: Day

    @model_validator(mode="after")
    def _review_after_reviewed(self) -> Governance:
        if self.next_review < self.reviewed:
            raise ValueError(f"next_review {self.next_review} is before reviewed "
                             f"{self.reviewed}")
        return self


# Count fields added after definitions were first hashed (see Definition.content_hash).
FIELDS_SINCE = ("dated_by",)
DEFINITION_FIELDS_SINCE = ("suppressed_at_source", "cohort")


class Definition(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(pattern=NOT_BLANK)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: object) -> object:
        """``version: 2`` unquoted is YAML's number 2; it means the text '2'. ``1.10``
        unquoted is the number 1.1, its zero lost before Carepath sees it: refused with
        the cure, as '1.1' would silently be another version."""
        if isinstance(v, float):
            raise ValueError(  # noqa: TRY004 - pydantic names the field only for ValueError
                f"an unquoted version is read as the number {v!r} (1.10 would be "
                "1.1): quote it, version: '1.10'")
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v
    title: str = Field(pattern=NOT_BLANK)
    why: str = Field(pattern=NOT_BLANK)
    domain: Domain
    statistic: Statistic
    unit: str = ""
    multiplier: Number | None = Field(None, gt=0, allow_inf_nan=False)
    numerator: Count
    denominator: Denominator | None = None
    period: Period = "financial_year"
    mode: Literal["in_period", "snapshot", "as_at_end"] = "in_period"
    follow_up_days: WholeNumber = Field(0, ge=0, le=MAX_FOLLOW_UP_DAYS, description="Periods whose end is less than this "
                                "many days before the last data date are not computed "
                                "(outcomes such as 1-year survival need complete follow-up).")
    population_base: Literal["registered", "resident"] = "registered"
    attribution: Literal["practice", "provider"] = "practice"
    attribution_column: str | None = None
    breakdowns: tuple[Breakdown, ...] = ()
    confidence: tuple[Number, ...] = (CONF_95, CONF_998)
    cohort: Cohort | None = None  # who the counts are of where they cannot say it
    suppressed_at_source: str | None = Field(
        None, pattern=NOT_BLANK, description="The counted table's true/false column "
        "flagging rows whose figures the publisher suppressed. They count in neither part; "
        "a practice with no other rows in a period is suppressed there, not missing, and "
        "each area above it says how many practices it leaves out.")

    polarity: Polarity
    comparator: Comparator = Comparator()
    targets: tuple[Target, ...] = ()
    disclosure: Disclosure = Disclosure()
    governance: Governance
    references: tuple[str, ...] = ()
    source_file: str | None = Field(None, exclude=True)

    @field_validator("breakdowns")
    @classmethod
    def _breakdowns_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({b for b in value if value.count(b) > 1})
        if repeated:  # each would write its rows again under the same key
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return value

    @model_validator(mode="after")
    def _targets_possible(self) -> Definition:
        """A target the statistic cannot reach: 150 for a percentage was accepted (a
        walkthrough); a proportion lies in 0 to its scale, a rate, ratio or count is never
        below 0 (a mean's range is its data's)."""
        top = self.scale if self.statistic == "proportion" else None
        for t in self.targets:
            if self.statistic != "mean" and t.value < 0 or top is not None and t.value > top:
                limits = f"0 to {top:g}" if top is not None else "0 or more"
                raise ValueError(f"target {t.label!r} of {t.value:g} cannot be reached: a "
                                 f"{self.statistic.replace('_', ' ')} here is {limits}")
        return self

    @property
    def scale(self) -> float:
        return self.multiplier if self.multiplier is not None else \
            DEFAULT_MULTIPLIER[self.statistic]

    @property
    def attribution_col(self) -> str:
        default = "practice_code" if self.attribution == "practice" else "provider_code"
        return self.attribution_column or default

    @property
    def higher_is_better(self) -> bool | None:
        return {"high_is_good": True, "low_is_good": False}.get(self.polarity)

    def content_hash(self, fields: frozenset[str] | None = None) -> str:
        """SHA-256 of the definition (or of ``fields`` of it: see COUNTING_FIELDS)."""
        data = self.model_dump(mode="json", include=fields)
        # Fields added to the language since hash only when given: a definition that does
        # not use them keeps its hash, so its values are not called "definition changed".
        for part in (data["numerator"], data.get("denominator")):
            for name in FIELDS_SINCE:
                if isinstance(part, dict) and part.get(name) is None:
                    part.pop(name, None)
        for name in DEFINITION_FIELDS_SINCE:
            if data.get(name) is None:
                data.pop(name, None)
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def tables(self) -> set[str]:
        """Every table the values depend on (their loads are the values' provenance, and a
        new load of any of them means the values must be computed again)."""
        out = {self.numerator.table}
        for part in (self.numerator, self.denominator):
            if isinstance(part, Count):
                out.add(part.table)
                out.update(r.table for r in part.require + part.exclude)
                if part.dated_by is not None:
                    out.add(part.dated_by.table)
                if set(borrowable(part.table)) & columns_read(self, part, self.grouping()):
                    out.add(PERSON_TABLE)  # sex, age ... of the person, through patients
            elif isinstance(part, Population):
                out.add("registered_population")
        return out

    def grouping(self) -> tuple[str, ...]:
        """Every column the values are split by: standardisation strata and breakdowns."""
        strata = STANDARDISATION_STRATA if self.statistic in STANDARDISED_STATISTICS else ()
        return tuple(dict.fromkeys(strata + self.breakdowns))


# ----- loading --------------------------------------------------------------------------
def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-"))


# The offending value is quoted in an error up to this length (a definition is not data).
QUOTED_INPUT_MAX = 80


def _given(error: dict) -> str:
    """'; got 'fortnight'' for a scalar value that failed (the offending token)."""
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= QUOTED_INPUT_MAX:
        return f"; got {value!r}"
    return ""


MORE_PROBLEMS_SHOWN = 8  # after the first, so one message names a whole file's gaps


# Said where a list was given as one value ('Input should be a valid tuple' told no one
# what to write: a walkthrough).
LIST_HINT = "a list is wanted here: each item on its own line starting '- '"


def _message(error: dict) -> str:
    if error["type"] == "missing":
        return "required but missing"
    if error["type"] in ("tuple_type", "list_type"):
        return f"{LIST_HINT}{_given(error)}"
    return f"{str(error['msg']).removeprefix('Value error, ')}{_given(error)}"


def from_mapping(data: object, *, source: str) -> Definition:
    if not isinstance(data, dict):
        raise ValidationError("an indicator definition must be a mapping of fields", where=source)
    try:
        defn = Definition.model_validate({**data, "source_file": source})
    except PydanticError as exc:
        first, *rest = exc.errors()
        extra = ""
        if rest:  # name the others too: 'and 7 more' sent the user back seven times
            shown = "; ".join(f"{_format_loc(e['loc'])}: {_message(e)}"
                              for e in rest[:MORE_PROBLEMS_SHOWN])
            more = len(rest) - MORE_PROBLEMS_SHOWN
            extra = f" (also {shown}" + (f"; and {more} more" if more > 0 else "") + ")"
        # A check of the whole definition has no field of its own: its message names them.
        where = f"{source}: field {_format_loc(first['loc'])}" if first["loc"] else source
        raise ValidationError(f"{_message(first)}{extra}", where=where) from None
    # The meaning is checked in its own module, which reads this one's model.
    from carepath.indicators.semantics import check_semantics

    check_semantics(defn)
    return defn


def load_file(path: Path) -> Definition:
    data = read_mapping(path, top_level="an indicator definition (a mapping of fields)")
    try:
        defn = from_mapping(data, source=str(path))
    except RecursionError:  # a filter nested past any limit the parser knows of
        raise ValidationError("nested too deeply to read; write its filters flatter",
                              where=str(path)) from None
    if Path(path).stem != defn.id:
        raise ValidationError(f"file name must match the id {defn.id!r}",
                              where=f"{path}: field id")
    return defn


# ----- meaning against the data model ---------------------------------------------------
DATA_TABLE_NAMES = frozenset(t.name for t in schema.DATA_TABLES)


def table_scope(name: str, *, where: str) -> dict[str, str]:
    """The columns of a data table. Carepath's own tables (indicator_values, quarantine,
    web_users ...) are not counted: no load is tracked for them, and they are not data."""
    try:
        table = schema.table(name)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), where=where) from None
    if name not in DATA_TABLE_NAMES:
        raise ValidationError(f"{name!r} is one of Carepath's own tables, not data; known "
                              f"tables: {', '.join(sorted(DATA_TABLE_NAMES))}", where=where)
    return {c.name: expr.ColumnType(c.type, c.codes) for c in table.columns}


def count_scope(count: Count, *, where: str) -> dict[str, str]:
    """Columns a filter on the counted table can see: its own, the person's (via
    patients), the period bounds."""
    scope = table_scope(count.table, where=f"{where}.table")
    if "patient_id" in scope and count.table != "patients":
        patients = table_scope("patients", where=where)
        for col in PATIENT_COLUMNS:
            scope.setdefault(col, patients[col])
    scope.update(PERIOD_COLUMNS)
    return scope


# Ages recorded by the source at the date a row is counted by: a cancer registry's age at
# diagnosis, a death's age at death. Their bands match the registered population's, which
# are true ages; a year of birth alone gives the age reached that calendar year, half a
# year too old on average (a fifth more people in the 90+ band of incidence).
RECORDED_AGES = {("tumours", "diagnosis_date"): "age_at_diagnosis",
                 ("deaths", "date_of_death"): "age_at_death"}


def recorded_age(count: Count) -> str | None:
    """The column holding the age at the date ``count`` is counted by, if the table has one
    (with dated_by, the dating table's: admissions by date of death take the age at death,
    as the deaths they are divided by do)."""
    if count.dated_by is not None:
        return RECORDED_AGES.get((count.dated_by.table, count.date))
    return RECORDED_AGES.get((count.table, count.date))


def columns_read(defn: Definition, count: Count, group_by: tuple[str, ...]) -> set[str]:
    """The columns counting ``count`` reads from its table or, for a person's columns it
    lacks, through patients; grouped by ``group_by`` (age_band reads the recorded age if
    the row has one, else year_of_birth)."""
    scope = count_scope(count, where="")
    used = {defn.attribution_col, *(c for c in group_by if c != "age_band")}
    used.add(count.date if count.dated_by is None else count.dated_by.on)
    if "age_band" in group_by:
        used.add("year_of_birth")
        if recorded_age(count) and count.dated_by is None:  # else joined with the date
            used.add(recorded_age(count))
    if count.until:
        used.add(count.until)
    if count.where:
        used |= {c.name for c in expr.columns_used(expr.parse(count.where)) if c.table is None}
    for rel in count.require + count.exclude:
        used.add(rel.on)
        if rel.where:
            used |= {c.name for c in expr.columns_used(expr.parse(rel.where))
                     if c.table == count.table}
    _, _, col = count.value.partition(":")
    if col:
        used.add(col)
    # Filters' period_start/period_end mean the period, unless the table's own date column
    # has that name (screening.period_end).
    available = (set(scope) - set(PERIOD_COLUMNS)) | ({count.date} if count.dated_by is None
                                                       else set())
    return used & available
