"""Export indicator values in the long format of a Fingertips data export.

``public=True`` passes every row through the one disclosure policy
(`carepath.disclosure`) and drops provenance columns that only analysts need. It refuses
values that are out of date (a compute since failed, or data loaded since): published, they
would pass for current figures. A public export is a release: the cells it hid are recorded
in the workspace (``carepath.disclosure.releases``) in the same transaction as the file is
written, and every later public output hides them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carepath.disclosure import SUPPRESSED, DisclosurePolicy, releases
from carepath.engine.containment import disclosed
from carepath.engine.freshness import OutOfDate, out_of_date
from carepath.errors import ValidationError, writing
from carepath.indicators.definition import Count, Definition, Population
from carepath.indicators.library import read_library, shown_title
from carepath.indicators.semantics import ages_counted, sexes_kept
from carepath.model.codes import AREA_TYPE_NAMES, SEX_NAMES, in_words
from carepath.model.schema import INDICATOR_VALUES
from carepath.safe_export import check_output_path, write_table
from carepath.workspace import Workspace

FORMATS = ("csv", "parquet", "xlsx")
# The columns of a Fingertips data export, in its order (users' tools read these names).
# "Compared to England ..." is Fingertips' name for the comparison with national, kept so
# those tools read it; here national is the workspace's own total (see national_name).
# Fingertips names this one by the parent's type ("Compared to Region value or
# percentiles"); Carepath's parent is each area's nearest larger one (a practice's locality).
PARENT_COMPARED = "Compared to parent value or percentiles"
FINGERTIPS_COLUMNS = (
    "Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name",
    "Area Type", "Sex", "Age", "Category Type", "Category", "Time period", "Value",
    "Lower CI 95.0 limit", "Upper CI 95.0 limit", "Lower CI 99.8 limit",
    "Upper CI 99.8 limit", "Count", "Denominator", "Value note", "Recent Trend",
    "Compared to England value or percentiles", PARENT_COMPARED,
    "Time period Sortable", "New data", "Compared to goal")
# Our columns that map one to one onto Fingertips columns.
RENAMED = {
    "indicator_id": "Indicator ID", "area_code": "Area Code", "area_name": "Area Name",
    "parent_code": "Parent Code", "period": "Time period", "value": "Value",
    "lower95": "Lower CI 95.0 limit", "upper95": "Upper CI 95.0 limit",
    "lower998": "Lower CI 99.8 limit", "upper998": "Upper CI 99.8 limit",
    "numerator": "Count", "denominator": "Denominator", "value_note": "Value note",
}
AREA_TYPES = {code: names[0] for code, names in AREA_TYPE_NAMES.items()}
SEXES = SEX_NAMES
PERSONS, ALL_AGES = "Persons", "All ages"
# Breakdowns other than sex and age go in Category Type / Category, as Fingertips does.
CATEGORY_TYPES = {"imd_quintile": "Deprivation quintile (1 = most deprived)",
                  "ethnic_group": "Ethnic group", "tumour_group": "Tumour group"}
ANALYST_ONLY = ("definition_hash", "load_ids", "computed_at")
# An analysts' export's column saying why an indicator's values are out of date (empty
# where they are current); a public export refuses such values.
OUT_OF_DATE = "out_of_date"


def _words(code: object) -> object:
    """'no_significant_change' -> 'No significant change', 'lower_gi' -> 'Lower GI' (the
    words the pages use: 'Lower gi', 'Brain cns' were written: a walkthrough); missing
    stays missing."""
    if not isinstance(code, str):
        return code
    text = in_words(code)
    return text[:1].upper() + text[1:]


def _age(defn: Definition | None) -> str:
    """The ages the denominator counts, as Fingertips writes them ('53-70 yrs'): a
    population's, or those its filter keeps by a recorded age (a proportion of people aged
    75 and over)."""
    den = defn.denominator if defn is not None else None
    if defn is not None and defn.cohort is not None and defn.cohort.says_ages:
        low, high = defn.cohort.min_age or 0, defn.cohort.max_age  # where counts cannot
    elif isinstance(den, Population):
        low, high = den.min_age, den.max_age
    elif isinstance(den, Count) and (kept := ages_counted(den.where)) is not None:
        low, high = kept
    else:
        return ALL_AGES
    if low == 0 and high is None:
        return ALL_AGES
    return f"{low}+ yrs" if high is None else f"{low}-{high} yrs"


def _sex(defn: Definition | None) -> str:
    """The sex the denominator counts, as Fingertips writes it: 'Female' for a population
    or a count of women only (a join on Sex with a Fingertips file then matches)."""
    den = defn.denominator if defn is not None else None
    sexes = set(defn.cohort.sex) if defn is not None and defn.cohort is not None \
        and defn.cohort.sex else \
        set(den.sex) if isinstance(den, Population) else \
        sexes_kept(den.where) if isinstance(den, Count) else None
    if not sexes or len(sexes) != 1:
        return PERSONS
    (only,) = sexes
    return SEXES.get(only, PERSONS)


def _goal(defn: Definition | None, value: object) -> str | None:
    if defn is None or not defn.targets or defn.polarity == "no_judgement" or pd.isna(value):
        return None
    target = defn.targets[0]
    met = value >= target.value if defn.polarity == "high_is_good" else value <= target.value
    return f"{'Meets' if met else 'Does not meet'} {target.label} ({target.value:g})"


def fingertips_frame(values: pd.DataFrame, definitions: dict[str, Definition],
                     parent_names: dict[str, str] | None = None) -> pd.DataFrame:
    """``indicator_values`` rows in the columns of a Fingertips data export, then the
    columns Fingertips has no name for (provenance, value_state ...). A parent is named as
    its own row names it, else from ``parent_names`` (rows of a few levels only)."""
    out = values.rename(columns=RENAMED)
    defn = out["Indicator ID"].map(definitions.get)
    out["Indicator Name"] = [shown_title(d) if d is not None else i
                             for d, i in zip(defn, out["Indicator ID"], strict=True)]
    names = {**(parent_names or {}),
             **dict(zip(values["area_code"], values["area_name"], strict=True))}
    out["Parent Name"] = values["parent_code"].map(names)
    out["Area Type"] = values["area_type"].map(lambda t: AREA_TYPES.get(t, _words(t)))
    breakdown, category = values["breakdown"], values["category"]
    is_sex, is_age = breakdown == "sex", breakdown == "age_band"
    # Worked out once per indicator (each reads its filters), then spread over its rows.
    ids = out["Indicator ID"]
    sexes = {i: _sex(definitions.get(i)) for i in ids.unique()}
    ages = {i: _age(definitions.get(i)) for i in ids.unique()}
    out["Sex"] = category.where(is_sex).map(SEXES).fillna(ids.map(sexes))
    out["Age"] = (category + " yrs").where(is_age, ids.map(ages))
    other = ~(is_sex | is_age | (breakdown == "all"))
    out["Category Type"] = breakdown.map(CATEGORY_TYPES).where(other)
    out["Category"] = category.map(_words).where(other)
    out["Recent Trend"] = values["trend"].map(_words)
    out["Compared to England value or percentiles"] = values["compared_to_national"].map(_words)
    out[PARENT_COMPARED] = values["compared_to_parent"].map(_words)
    out["Time period Sortable"] = pd.to_datetime(values["period_start"]).dt.strftime(
        "%Y%m%d").astype("Int64")
    # Fingertips' flag for data changed in its latest release. Carepath's values carry their
    # loads and compute time instead (the provenance columns), so it is left empty, kept
    # so that tools reading the columns by position find Compared to goal where it is.
    out["New data"] = None
    out["Compared to goal"] = [_goal(d, v) for d, v in zip(defn, out["Value"], strict=True)]
    used = set(RENAMED) | {"area_type", "breakdown", "category", "trend",
                           "compared_to_national", "compared_to_parent"}
    # In the table's order whatever the order read in: a page's download and the export
    # have the same layout.
    order = {c: i for i, c in enumerate(INDICATOR_VALUES.column_names)}
    rest = sorted((c for c in values.columns if c not in used),
                  key=lambda c: order.get(c, len(order)))
    return out[list(FINGERTIPS_COLUMNS) + rest]


COUNT_COLUMNS = ("Count", "Denominator")


def for_people(table: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """``table`` as written to a file people read (CSV, Excel): a whole count as a whole
    number (1855, not 1855.0, as Fingertips writes it), each cell on its own, so one
    indicator's fractions (a mean list) do not put '.0' on every other's. Parquet keeps
    the float column: one type, whatever the figures."""
    if fmt == "parquet":
        return table
    out = table.copy()
    for column in COUNT_COLUMNS:
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        whole = values.notna() & (values % 1 == 0)
        cells = values.astype(object).where(values.notna(), None)
        cells[whole] = values[whole].astype("int64").astype(object)
        out[column] = cells
    return out


def read_values(ws: Workspace, indicators: list[str] | None = None) -> pd.DataFrame:
    query = "SELECT * FROM indicator_values"
    params: list = []
    if indicators:
        query += f" WHERE indicator_id IN ({', '.join('?' * len(indicators))})"
        params = list(indicators)
    with ws.connect(read_only=True) as con:
        return con.execute(query + " ORDER BY indicator_id, area_type, area_code, period, "
                           "breakdown, category", params).df()


def prepare(values: pd.DataFrame, definitions: dict[str, Definition], *,
            public: bool = False, parent_names: dict[str, str] | None = None
            ) -> pd.DataFrame:
    """Fingertips' columns (public values have been through the disclosure policy)."""
    if public:
        values = values.drop(columns=[c for c in ANALYST_ONLY if c in values.columns])
    return fingertips_frame(values, definitions, parent_names)


@dataclass(frozen=True)
class Exported:
    rows: int
    out_of_date: dict[str, OutOfDate]  # indicator id -> why its values are out of date
    states: dict[str, int] = field(default_factory=dict)  # value_state -> rows
    release_id: str | None = None  # a public export's, in the workspace's releases
    newly_withheld: int = 0  # cells no earlier release had hidden


def grouped(stale: dict[str, OutOfDate]) -> list[str]:
    """One line per reason: 'a, b: data loaded since into deaths; compute them again ...'."""
    by_reason: dict[OutOfDate, list[str]] = {}
    for indicator_id, why in stale.items():
        by_reason.setdefault(why, []).append(indicator_id)
    return [f"{', '.join(ids)}: {why.reason}; {why.remedy}" for why, ids in by_reason.items()]


def _check_asked_for(indicators: list[str], values: pd.DataFrame, defined: set[str],
                     ws: Workspace) -> None:
    """An id that is no indicator's is named as unknown (it read as 'run compute first')."""
    unknown = sorted(set(indicators) - defined - set(values["indicator_id"]))
    if unknown:
        raise ValidationError(f"unknown indicator id {', '.join(map(repr, unknown))}: see "
                              "`carepath indicators list -w WS`", where="--indicator")
    missing = sorted(set(indicators) - set(values["indicator_id"]))
    if missing:
        raise ValidationError(f"no values for {', '.join(missing)} yet: run `carepath "
                              "compute` first", where="--indicator")
    if values.empty:
        raise ValidationError("no indicator values to export; run `carepath compute` first",
                              where=str(ws.path))


def export(ws: Workspace, out: Path, *, fmt: str, public: bool = False,
           indicators: list[str] | None = None, by: str = "cli") -> Exported:
    """Write ``indicator_values`` (of ``indicators``, or all) to ``out``; ``public``: through
    the disclosure policy, as a release recorded in the workspace (``by`` whom)."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}",
                              where="--format")
    out = Path(out)
    check_output_path(out, (f".{fmt}",))
    definitions, unreadable = read_library(ws.path / "indicators")
    values = read_values(ws, indicators)
    _check_asked_for(indicators or [], values, set(definitions) | set(unreadable), ws)
    with ws.connect(read_only=True) as con:
        stale = {k: v for k, v in out_of_date(con, definitions, ws.config(), unreadable).items()
                 if k in set(values["indicator_id"])}
    if public and stale:
        raise ValidationError(
            "values out of date are not published as current (choose others with -i):\n  "
            + "\n  ".join(grouped(stale)), where="--public")
    if not public:
        table = prepare(values, definitions)
        # In the file, not only on the screen: a file sent round the team said nothing of
        # its values being out of date (a walkthrough).
        table[OUT_OF_DATE] = table["Indicator ID"].map(
            {ind: f"{why.reason}; {why.remedy}" for ind, why in stale.items()})
        write_table(for_people(table, fmt), out, (f".{fmt}",))
        return Exported(len(table), stale, _states(table))
    return _release(ws, out, fmt, values, definitions, stale, by)


def _release(ws: Workspace, out: Path, fmt: str, values: pd.DataFrame,
             definitions: dict[str, Definition], stale: dict[str, OutOfDate], by: str
             ) -> Exported:
    """A public export: disclosed with what earlier releases said, then recorded with the
    file in one step. Written beside the target first and moved over it only once the
    record is committed: a file out without its record would let a later release choose
    other cells (a kill between the two leaves a record without a file, which only hides
    more)."""
    config = ws.config()
    said: list[pd.DataFrame] = []
    with ws.connect(read_only=True) as con:  # minutes on England: no write lock held
        known = releases.size(con)
        published = disclosed(con, values, DisclosurePolicy.from_config(config), config,
                              definitions, said=said)
    table = prepare(published, definitions, public=True)
    states = _states(table)
    release = releases.Release.new(by=by, output=out.name,
                                   indicators=values["indicator_id"].nunique(),
                                   rows=len(table), suppressed=states.get(SUPPRESSED, 0))
    pending = out.with_name(f".{out.stem}.pending{out.suffix}")
    try:
        write_table(for_people(table, fmt), pending, (f".{fmt}",), named=out)
        with ws.transaction() as con:
            if releases.size(con) != known:
                raise ValidationError("another public export was recorded while this one "
                                      "was made; run it again", where="--public")
            first = releases.record(con, release, published, said)
        # Recorded first: a release recorded but not written protects too much, one
        # written but not recorded too little.
        with writing(out):
            pending.replace(out)
    finally:
        pending.unlink(missing_ok=True)
    return Exported(len(table), stale, states, release.release_id, first)


def _states(table: pd.DataFrame) -> dict[str, int]:
    states = table["value_state"].value_counts().to_dict() if "value_state" in table else {}
    return {str(k): int(n) for k, n in states.items()}
