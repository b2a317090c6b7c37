"""Compile an indicator definition to Ibis expressions.

Each part of a definition (numerator, denominator) becomes ONE aggregate query per
grouping that returns, for every period and attributed unit (practice or provider),
the count (or sum) of rows — so each table is scanned once per part, whatever the number
of periods. The queries are backend-neutral Ibis: the same code runs on DuckDB and Spark.

Output columns of every aggregate: ``period``, ``unit``, the grouping columns, and
``n`` (rows or sum), plus ``total`` and ``total_sq`` for means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from carepath.engine import filters
from carepath.indicators import expr
from carepath.indicators.definition import (
    PATIENT_COLUMNS,
    STANDARDISATION_STRATA,
    Count,
    Definition,
    Population,
    columns_read,
    recorded_age,
)
from carepath.indicators.periods import ReportingPeriod
from carepath.model.codes import AGE_BANDS
from carepath.workspace import derived

AGE_BAND_WIDTH = 5
LAST_BAND = len(AGE_BANDS) - 1
STRATA = STANDARDISATION_STRATA  # for DSR and ISR
# Modes counting a state at the period's end (on a register, a snapshot), not events in it:
# their population denominator is the period's last list, not its mean.
STATE_MODES = ("as_at_end", "snapshot")


@dataclass(frozen=True)
class Source:
    """Where tables come from: a function name -> Ibis table (DuckDB or Spark), and
    optionally (name, columns) -> a derived copy of an event table carrying those columns,
    the person's among them (``carepath.workspace.derived``), or None to join."""

    table: object  # Callable[[str], ir.Table]
    with_person: object = None  # Callable[[str, set[str]], ir.Table | None] | None
    # Callable[[], bool] | None: whether Ctrl+C was pressed (Spark cancels its jobs and
    # tells the compute so through this; DuckDB raises KeyboardInterrupt itself).
    interrupted: object = None


# Internal names of the period bounds, so a table's own column called period_end (as in
# screening) never collides with them; filters still write period_start / period_end.
PERIOD_NAMES = {"period_start": "_period_start", "period_end": "_period_end"}
MONTHS_PER_YEAR = 12


def month_key(when: date) -> int:
    """Months since year 0: consecutive months get consecutive keys."""
    return when.year * MONTHS_PER_YEAR + when.month - 1


@dataclass(frozen=True)
class Periods:
    """The reporting periods of one computation, as a small table rows join by equality:
    on their date (``days``: "the date falls in the period") or, for a state as at each
    period's end, on their month (``table``: every period is whole months, see
    ``periods_between``). A range join would sort every row of the counted table by date.
    """

    periods: tuple[ReportingPeriod, ...]

    @property
    def first_month(self) -> int:
        return min(month_key(p.start) for p in self.periods)

    def table(self, *, cumulative: bool = False) -> ir.Table:
        """(period, _month, bounds): one row per month a period takes rows from. With
        ``cumulative`` (mode as_at_end) a period takes every month up to its end; rows
        before the first period are given its first month (see ``_month_of``)."""
        rows = {"period": [], "_month": [], "_period_start": [], "_period_end": []}
        for p in self.periods:
            first = self.first_month if cumulative else month_key(p.start)
            for month in range(first, month_key(p.end) + 1):
                rows["period"].append(p.label)
                rows["_month"].append(month)
                rows["_period_start"].append(p.start)
                rows["_period_end"].append(p.end)
        return ibis.memtable(rows).cast({"_month": "int64", "_period_start": "date",
                                         "_period_end": "date"})

    def days(self) -> ir.Table:
        """(period, _day, bounds): one row per day of each period, for rows that count in
        the period their date falls in. Joining on the date itself is cheaper than
        computing every row's month (a few thousand days against millions of rows)."""
        rows = {"period": [], "_day": [], "_period_start": [], "_period_end": []}
        for p in self.periods:
            for offset in range((p.end - p.start).days + 1):
                rows["period"].append(p.label)
                rows["_day"].append(p.start + timedelta(days=offset))
                rows["_period_start"].append(p.start)
                rows["_period_end"].append(p.end)
        return ibis.memtable(rows).cast({"_day": "date", "_period_start": "date",
                                         "_period_end": "date"})


def periods_table(periods: list[ReportingPeriod]) -> Periods:
    return Periods(tuple(periods))


def _month_of(when: ir.Value, floor: int | None = None) -> ir.Value:
    month = (when.year() * MONTHS_PER_YEAR + when.month() - 1).cast("int64")
    return month if floor is None else ibis.greatest(month, floor)


def _age_band_index(rows: ir.Table, count: Count) -> ir.Value:
    """ESP2013 band index (0..18) of the row's age at the date it is counted by: the age the
    source recorded then (see definition.RECORDED_AGES), else the age reached that calendar
    year from the year of birth (the convention when only the year of birth is kept)."""
    age = rows[count.date].year() - rows.year_of_birth
    if (recorded := recorded_age(count)) is not None:
        age = rows[DATED_AGE if count.dated_by else recorded].coalesce(age)
    return ibis.greatest(ibis.least(age // AGE_BAND_WIDTH, LAST_BAND), 0).cast("int64")


def _base(source: Source, defn: Definition, count: Count, columns: set[str]) -> ir.Table:
    """The counted table with any person columns it lacks joined from patients, and the
    date that puts it in a period when that is another table's (``dated_by``)."""
    rows = _own_and_person(source, count, columns)
    if count.dated_by is None:
        return rows
    on = count.dated_by.on
    dates = _dates_by_key(source, count)
    # An inner join: a row with no related date (no death) is in no period, as a row
    # whose own date is empty.
    return rows.join(dates, rows[on] == dates._key).select(
        *[rows[c] for c in rows.columns], *[dates[c] for c in dates.columns if c != "_key"])


# The dating table's recorded age at its date (deaths.age_at_death), joined with the date.
DATED_AGE = "_dated_age"


def _dates_by_key(source: Source, count: Count) -> ir.Table:
    """The date of each key of ``count.dated_by``'s table (its key, so one row each; the
    latest should a table hold more), with the age recorded then if the table has one."""
    other = source.table(count.dated_by.table)
    keyed = other.filter(other[count.dated_by.on].notnull() & other[count.date].notnull())
    values = {count.date: keyed[count.date].max()}
    if (age := recorded_age(count)) is not None:
        values[DATED_AGE] = keyed[age].argmax(keyed[count.date])
    return keyed.group_by(_key=keyed[count.dated_by.on]).aggregate(**values)


def _own_and_person(source: Source, count: Count, columns: set[str]) -> ir.Table:
    table = source.table(count.table)
    own = set(table.columns)
    borrowed = [c for c in columns if c not in own and c in PATIENT_COLUMNS]
    keep = sorted(c for c in columns if c in own)
    if not borrowed:
        return table.select(keep)
    copy = source.with_person(count.table, columns) if source.with_person else None
    if copy is not None:  # the join done once, when the tables were last loaded
        return copy.select(*keep, *borrowed)
    patients = source.table("patients").select("patient_id", *borrowed)
    joined = table.left_join(patients, table.patient_id == patients.patient_id)
    return joined.select(*[table[c] for c in keep], *[patients[c] for c in borrowed])


def person_columns_needed(defn: Definition, group_by: tuple[str, ...]
                          ) -> dict[str, set[str]]:
    """Table -> the columns ``defn`` reads from it, for each counted table it reads with a
    person column borrowed from patients (what a derived copy must carry)."""
    out: dict[str, set[str]] = {}
    for part in (defn.numerator, defn.denominator):
        if isinstance(part, Count):
            columns = columns_read(defn, part, group_by)
            if set(derived.borrowable(part.table)) & columns:
                out.setdefault(part.table, set()).update(columns)
    return out


def _attach_periods(rows: ir.Table, periods: Periods, defn: Definition,
                    count: Count, snapshot_of: str | None = None) -> ir.Table:
    """Rows with the period they count in. In snapshot mode only the period's latest
    snapshot of the rows ``snapshot_of`` keeps (a filter): one screening programme's
    latest date, not the table's (another programme's dates left it none, a hunt)."""
    cumulative = defn.mode == "as_at_end"
    if cumulative:
        months = periods.table(cumulative=True)
        keyed = rows.mutate(_row_month=_month_of(rows[count.date], periods.first_month))
        joined = keyed.join(months, keyed._row_month == months._month).select(
            *[keyed[c] for c in rows.columns], months.period, months._period_start,
            months._period_end)
    else:
        days = periods.days()
        joined = rows.join(days, rows[count.date] == days._day).select(
            *[rows[c] for c in rows.columns], days.period, days._period_start,
            days._period_end)
    if cumulative and count.until:
        until = joined[count.until]
        joined = joined.filter(until.isnull() | (until > joined._period_end))
    if defn.mode == "snapshot":  # keep only the latest snapshot date in each period
        basis = joined.filter(_filter(joined, snapshot_of)) if snapshot_of else joined
        latest = basis.group_by("period").aggregate(_latest=basis[count.date].max())
        joined = joined.join(latest, [joined.period == latest.period,
                                      joined[count.date] == latest._latest]).select(joined)
    return joined


def _filter(rows: ir.Table, where: str) -> ir.BooleanValue:
    """A definition's filter on rows with their period attached (false where null)."""
    return filters.to_ibis(expr.parse(where),
                           lambda r: rows[PERIOD_NAMES.get(r.name, r.name)]).fill_null(False)


def rows_meeting_filter(source: Source, count: Count) -> ir.Table | None:
    """The counted table's rows meeting its own filter, periods aside; None where the
    filter speaks of the period or of another table's rows (no row meets it or fails it
    without them)."""
    if not count.where:
        return source.table(count.table)
    parsed = expr.parse(count.where)
    refs = expr.columns_used(parsed)
    used = {c.name for c in refs}
    if used & set(PERIOD_NAMES) or any(c.table is not None for c in refs):
        return None
    rows = _own_and_person(source, count, used)
    return rows.filter(_filter(rows, count.where))


def _related(rows: ir.Table, source: Source, count: Count, rel, keep: bool) -> ir.Table:
    other = source.table(rel.table)

    def resolve(ref: expr.ColumnRef):
        if ref.name in PERIOD_NAMES and ref.table is None:
            return rows[PERIOD_NAMES[ref.name]]
        if ref.table == count.table:
            return rows[ref.name]
        return other[ref.name]

    if rel.latest_by:
        other = _latest_related(rows, other, count, rel)
        preds = [rows[rel.on] == other._key, rows[count.date] == other._when]
    else:
        preds = [rows[rel.on] == other[rel.on]]
    if rel.where:
        preds.append(filters.to_ibis(expr.parse(rel.where), resolve))
    return rows.semi_join(other, preds) if keep else rows.anti_join(other, preds)


def _latest_related(rows: ir.Table, other: ir.Table, count: Count, rel) -> ir.Table:
    """For each (key, counted date) among ``rows``: the other table's latest rows by
    ``rel.latest_by`` on or before that date, of those passing ``rel.among`` (every row of
    that latest date), with the key and date as ``_key`` and ``_when``."""
    keys = rows.select(_key=rows[rel.on], _when=rows[count.date]).distinct()
    if rel.among:
        other = other.filter(filters.to_ibis(expr.parse(rel.among), lambda r: other[r.name]))
    candidates = keys.join(other, [keys._key == other[rel.on],
                                   other[rel.latest_by] <= keys._when])
    # A window, not a group-by joined back: one pass (a third faster on England's deaths).
    per_key = ibis.window(group_by=[candidates._key, candidates._when])
    marked = candidates.mutate(_latest=candidates[rel.latest_by].max().over(per_key))
    return marked.filter(marked[rel.latest_by] == marked._latest).drop("_latest")


def filtered_rows(source: Source, defn: Definition, count: Count, periods: Periods,
                  group_by: tuple[str, ...] = (), *, values: tuple[str, ...] = ()
                  ) -> ir.Table:
    """Rows that count, one per (row, period) they fall in, with ``period`` attached,
    carrying the columns ``values`` read (by default ``count.value``'s)."""
    columns = set().union(*(columns_read(defn, count.model_copy(update={"value": v}),
                                         group_by) for v in values or (count.value,)))
    rows = _base(source, defn, count, columns)
    rows = _attach_periods(rows, periods, defn, count, count.where)
    if count.where:
        rows = rows.filter(_filter(rows, count.where))
    for rel in count.require:
        rows = _related(rows, source, count, rel, keep=True)
    for rel in count.exclude:
        rows = _related(rows, source, count, rel, keep=False)
    return rows


def _metrics(rows: ir.Table, value: str) -> dict[str, ir.Value]:
    """What counting ``value`` over ``rows`` gives, by the names the roll-up sums."""
    kind, _, col = value.partition(":")
    if kind == "rows":
        return {"n": rows.count().cast("float64")}
    if kind == "distinct":
        return {"n": rows[col].nunique().cast("float64")}
    values = rows[col].cast("float64")
    if kind == "sum":
        # A sum's rows are events weighing their value (an admission its bed days): its
        # interval needs how many there were and their squares (stats.weighted_rate).
        return {"n": values.sum(), "n_events": values.count().cast("float64"),
                "n_sq": (values * values).sum()}
    return {"n": values.count().cast("float64"), "total": values.sum(),
            "total_sq": (values * values).sum()}


# What counting a value gives (see _metrics), and how the i-th value of a scan counting
# several names them: "n__1", "n_events__1" ...
METRICS = ("n", "n_events", "n_sq", "total", "total_sq")
VALUE_SUFFIX = "__"


def aggregate_values(source: Source, defn: Definition, count: Count, periods: Periods,
                     group_by: tuple[str, ...], values: tuple[str, ...]) -> ir.Table:
    """One scan of ``count``'s rows counting each of ``values`` (``count.value`` is not
    read): admissions counted and their bed days summed, a screening programme's people
    screened and eligible. Metrics are suffixed with the value's place (``n__0``); groups
    are the same for every value, as every value is counted over the same rows."""
    rows = filtered_rows(source, defn, count, periods, group_by, values=values)
    keys = {"period": rows.period, "unit": rows[defn.attribution_col]}
    for col in group_by:
        keys[col] = (_age_band_index(rows, count)
                     if col == "age_band" else rows[col].cast("string"))
    if values[0].startswith(f"{PER}:"):  # never shared with other values (cells._rows_key)
        return _per_person(rows, keys, values[0].partition(":")[2])
    metrics = {f"{name}{VALUE_SUFFIX}{i}": metric for i, value in enumerate(values)
               for name, metric in _metrics(rows, value).items()}
    return rows.group_by(**keys).aggregate(**metrics)


# 'per:<column>': rows counted, those sharing the column's value (a person's admissions)
# being one person's events, not independent ones. PHE's method for non-independent events
# (stats.dsr_non_independent, one band): Dobson's limits on the events with variance
# Σk² over the people's counts k, which is stats.weighted_rate with the rows as events and
# Σk² as the squares; wider than Byar's on the rows (1.65 admissions a person in the last
# 90 days of life: an independent check).
PER = "per"


def _per_person(rows: ir.Table, keys: dict, column: str) -> ir.Table:
    """Each person's rows counted within a unit (and breakdown): the events Σk and the
    squares Σk². Rows without the column are each a person of their own. A person whose
    rows fall in two units is two events (k1² + k2² for (k1 + k2)²): the interval of an
    area holding both is then a little narrow (with practice attribution a person's rows
    are one practice's)."""
    each = rows.group_by(**keys, _cluster=rows[column]).aggregate(
        _k=rows.count().cast("float64"))
    unknown = each._cluster.isnull()
    first = f"{VALUE_SUFFIX}0"
    return each.group_by(list(keys)).aggregate(**{
        f"n{first}": each._k.sum(),
        f"n_events{first}": each._k.sum(),
        f"n_sq{first}": unknown.ifelse(each._k, each._k * each._k).sum()})


def aggregate_count(source: Source, defn: Definition, count: Count, periods: Periods,
                    group_by: tuple[str, ...] = ()) -> ir.Table:
    counted = aggregate_values(source, defn, count, periods, group_by, (count.value,))
    suffix = f"{VALUE_SUFFIX}0"
    return counted.rename({c.removesuffix(suffix): c for c in counted.columns
                           if c.endswith(suffix)})


def pairable(defn: Definition) -> bool:
    """Numerator and denominator can come from one scan: same table, date and window, rows
    counted, and no related-table conditions (which need their own joins)."""
    num, den = defn.numerator, defn.denominator
    return (isinstance(den, Count) and num.table == den.table and num.date == den.date
            and num.dated_by == den.dated_by and num.until == den.until
            and num.value == den.value == "rows"
            and not (num.require or num.exclude or den.require or den.exclude))


def aggregate_pair(source: Source, defn: Definition, periods: Periods,
                   group_by: tuple[str, ...] = ()) -> ir.Table:
    """One scan counting both parts: rows meeting either filter, with a flag for each."""
    num, den = defn.numerator, defn.denominator
    both = num.model_copy(update={"where": None})
    columns = columns_read(defn, num, group_by) | columns_read(defn, den, group_by)
    # A snapshot is the latest of the denominator's rows: the data set the numerator is
    # part of.
    rows = _attach_periods(_base(source, defn, both, columns), periods, defn, num, den.where)

    def flag(where: str | None) -> ir.BooleanValue:
        return _filter(rows, where) if where else ibis.literal(True)

    rows = rows.mutate(_num=flag(num.where), _den=flag(den.where))
    keys = {"period": rows.period, "unit": rows[defn.attribution_col]}
    for col in group_by:
        keys[col] = (_age_band_index(rows, num)
                     if col == "age_band" else rows[col].cast("string"))
    # Groups with no row in either part are dropped after counting, not rows before it: a
    # filter on the flags is pushed down by DuckDB and evaluates both conditions twice.
    counts = rows.group_by(**keys).aggregate(
        num=rows._num.cast("float64").sum(), den=rows._den.cast("float64").sum())
    return counts.filter((counts.num > 0) | (counts.den > 0))


def aggregate_population(source: Source, pop: Population, periods: Periods,
                         group_by: tuple[str, ...] = (), *, at_end: bool = False,
                         scale: ir.Table | None = None) -> ir.Table:
    """Mean registered population over the quarters of each period, by unit and group; with
    ``at_end``, the period's last list (for a register as it stands at the period's end,
    as QOF divides a register by the list at the same date). ``scale``: ``hole_scale``
    of these periods, when the caller has it already (one scan for every indicator)."""
    table = source.table("registered_population")
    band = _band_lookup()
    rows = table.join(band, table.age_band == band.label).select(table, band.band_index)
    rows = rows.filter(rows.sex.isin(list(pop.sex)), rows.band_index >= pop.min_age //
                       AGE_BAND_WIDTH)
    if pop.max_age is not None:
        rows = rows.filter(rows.band_index <= pop.max_age // AGE_BAND_WIDTH)
    months = periods.table()
    rows = rows.join(months, _month_of(rows.quarter_start) == months._month
                     ).select(rows, months.period)
    if at_end:  # one date for every practice: a list missing then is missing, not older
        last = rows.group_by("period").aggregate(_last=rows.quarter_start.max())
        rows = rows.join(last, [rows.period == last.period,
                                rows.quarter_start == last._last]).select(rows)
    keys = {"period": rows.period, "unit": rows.practice_code}
    for col in group_by:
        keys[col] = rows.band_index if col == "age_band" else rows[col].cast("string")
    if at_end:
        return rows.group_by(**keys).aggregate(n=rows.population.sum().cast("float64"))
    # The mean over the period's quarters the workspace has lists for, a practice without
    # a list in one of them counting none then: a practice closing half way through a
    # year was counted as listed all year, halving its rate (an engine hunt). A quarter
    # missing between two of a practice's lists is missing data, not a closure: there it
    # counts the mean of its other quarters of the period (it doubled an open practice's
    # rate; the compute warns, see coverage.list_holes).
    totals = rows.group_by(**keys).aggregate(_total=rows.population.sum())
    starts = _quarter_starts(table, months)
    quarters = starts.group_by("period").aggregate(_quarters=starts._start.nunique())
    if scale is None:
        scale = _hole_scale(table, starts)
    totals = totals.join(quarters, "period").select(totals, quarters._quarters)
    totals = totals.left_join(scale, ["period", "unit"]).select(
        totals, _scale=scale._scale.fill_null(1.0))
    return totals.select(*keys, n=totals._total.cast("float64") * totals._scale
                         / totals._quarters)


def _quarter_starts(table: ir.Table, months: ir.Table) -> ir.Table:
    """(_start, period): each quarter of a period that has any list loaded."""
    starts = table.select(_start=table.quarter_start).distinct()
    return starts.join(months, _month_of(starts._start) == months._month).select(
        starts._start, months.period)


def list_bounds(table: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Of the registered population lists, (unit, _start) of each practice's quarters and
    (unit, _first, _last): its first and last quarter."""
    own = table.select(unit=table.practice_code, _start=table.quarter_start).distinct()
    return own, own.group_by("unit").aggregate(_first=own._start.min(),
                                               _last=own._start.max())


def _list_spans(table: ir.Table, starts: ir.Table) -> ir.Table:
    """(period, unit, _span, _own): of a period's listed quarters, how many lie between a
    practice's first and last list in the workspace, and how many it has a list for."""
    own, bounds = list_bounds(table)
    span = starts.join(bounds, (starts._start >= bounds._first)
                       & (starts._start <= bounds._last)).select(starts.period, bounds.unit)
    span = span.group_by(["period", "unit"]).aggregate(_span=span.count())
    mine = own.join(starts, own._start == starts._start).select(starts.period, own.unit)
    mine = mine.group_by(["period", "unit"]).aggregate(_own=mine.count())
    return span.join(mine, ["period", "unit"]).select(span, mine._own)


def hole_scale(source: Source, periods: Periods) -> ir.Table:
    """(period, unit, _scale) of ``periods``: see ``_hole_scale``."""
    table = source.table("registered_population")
    return _hole_scale(table, _quarter_starts(table, periods.table()))


def _hole_scale(table: ir.Table, starts: ir.Table) -> ir.Table:
    """(period, unit, _scale): the quarters a practice was open in a period over those it
    has a list for, where some are missing between its lists."""
    spans = _list_spans(table, starts)
    spans = spans.filter(spans._span > spans._own)
    return spans.select("period", "unit", _scale=spans._span.cast("float64") / spans._own)


def _band_lookup() -> ir.Table:
    return ibis.memtable({"label": list(AGE_BANDS),
                          "band_index": list(range(len(AGE_BANDS)))})


def dates_by_month(source: Source, name: str, column: str) -> ir.Table:
    """(month, first, last): the months (``month_key``) in which ``name`` has rows dated by
    ``column``, with each month's first and last date. One scan gives both how far the
    data go and where they have gaps."""
    table = source.table(name)
    dated = table.filter(table[column].notnull())
    return dated.group_by(month=_month_of(dated[column])).aggregate(
        first=dated[column].min(), last=dated[column].max())


def dated_table(count: Count) -> str:
    """The table whose ``count.date`` puts rows in periods."""
    return count.table if count.dated_by is None else count.dated_by.table
