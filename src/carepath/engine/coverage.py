"""Which periods an indicator is computed for: complete periods inside the data of every
table its counts read, with the follow-up it needs, and not those the data have a gap in.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from carepath.engine import compile as cp
from carepath.engine.context import Context, date_range, dates_by_month, once
from carepath.indicators.definition import PERIOD_KINDS, Count, Definition
from carepath.indicators.periods import periods_between
from carepath.model.schema import table as schema_table

LOOKBACK_FOR_STATE_MODES = timedelta(days=366)


def periods(ctx: Context, defn: Definition):
    span = _span(ctx, defn)
    if span is None:
        return []
    first, last = span
    follow_up = timedelta(days=defn.follow_up_days)
    return [p for p in periods_between(defn.period, first, last)
            if not follow_up or p.end + follow_up <= last]


def _span(ctx: Context, defn: Definition) -> tuple[date, date] | None:
    """The first and last dates periods may take in: the counted table's first date (a
    year before it for a snapshot or a state, which looks back) to the last date every
    table the counts read has data to. None where a table has no dated rows."""
    count = defn.numerator
    rng = date_range(ctx, cp.dated_table(count), count.date)
    first = rng["first"].iloc[0]
    if pd.isna(first):
        return None
    last, _ = _data_end(ctx, defn)
    if last is None:
        return None
    first = pd.Timestamp(first).date()
    if defn.mode != "in_period":
        first = first - LOOKBACK_FOR_STATE_MODES
    return first, last


def _months(ctx: Context, table: str, column: str) -> set[int]:
    """The months (``month_key``) in which ``table`` has rows dated by ``column``."""
    return set(dates_by_month(ctx, table, column)["month"].tolist())


def without_gaps(ctx: Context, defn: Definition, periods: list
                 ) -> tuple[list, list[tuple[str, str, str]]]:
    """The periods in which every table the counts read has rows, and for those some table
    has none in, what to say. A year missing from the tumours counted 0 events over a
    whole population and published true zeros (an engine hunt); a year missing from the
    admissions or deaths a count requires or excludes read as none happening (a second
    hunt): a gap is not a zero. Only for events in the period: a register or a snapshot
    reads earlier rows. A gap is (period label, table, date column)."""
    if defn.mode != "in_period":
        return periods, []
    kept, gaps = [], []
    for p in periods:
        empty = [(table, column) for table, column in _dates_read(defn)
                 if not _has_rows(_months(ctx, table, column), p.start, p.end)]
        if empty:
            gaps.append((p.label, *empty[0]))
        else:
            kept.append(p)
    return kept, gaps


def _has_rows(months: set[int], start: date, end: date) -> bool:
    return any(k in months for k in range(cp.month_key(start), cp.month_key(end) + 1))


def empty_months(ctx: Context, defn: Definition, periods: list) -> str | None:
    """A warning naming the months without a row inside periods that have some (for a
    table read after the counted date, through the follow-up too): a month missing from
    an extract reads as fewer events (a twelfth fewer in a year), which no figure shows (a
    review). Said, not refused: small areas' tables can be quiet."""
    if defn.mode != "in_period":
        return None
    follow_up = timedelta(days=defn.follow_up_days)
    found = []
    for i, (table, column) in enumerate(_dates_read(defn)):
        months = _months(ctx, table, column)
        for p in periods:
            end = p.end if i == 0 else p.end + follow_up
            keys = range(cp.month_key(p.start), cp.month_key(end) + 1)
            missing = [k for k in keys if k not in months]
            if missing:
                found.append(f"{table}.{column} in {p.label} "
                             f"({', '.join(_month_text(k) for k in missing)})")
    if not found:
        return None
    return f"no rows in some months: {'; '.join(found)}: a gap in the data reads as fewer events"


def _month_text(key: int) -> str:
    year, month = divmod(key, cp.MONTHS_PER_YEAR)
    return f"{year}-{month + 1:02d}"


# Tables of states recorded before the rows they qualify (a register entry, a stated
# preference): their latest date is when someone was last added, not how far the data go,
# so they do not end a count's periods when only required or excluded.
RECORDED_BEFORE = frozenset({"eol_register", "preferences"})


def _dates_read(defn: Definition) -> list[tuple[str, str]]:
    """(table, date column) of every table the counts read rows of, the one dating the
    numerator first: a period is computed only as far as all of them go."""
    out = []
    for part in (defn.numerator, defn.denominator):
        if not isinstance(part, Count):
            continue
        out.append((cp.dated_table(part), part.date))
        if part.dated_by is not None:  # and no later than the counted table's own data go
            out.append((part.table, part.dated_by.own_date))
        for rel in (*part.require, *part.exclude):
            dates = schema_table(rel.table).dates  # definitions read data tables only
            if dates and rel.table not in RECORDED_BEFORE:
                out.append((rel.table, dates[0]))
    return list(dict.fromkeys(out))


def _data_end(ctx: Context, defn: Definition) -> tuple[date | None, tuple[str, str]]:
    """The last date every table the counts read has data to, and the (table, column)
    ending first. A table ending earlier than the numerator's read as 'none happened':
    deaths loaded to January published one-year survival of 80% for 67% (a hunt)."""
    ends = []
    for table, column in _dates_read(defn):
        last = date_range(ctx, table, column)["last"].iloc[0]
        ends.append((None if pd.isna(last) else pd.Timestamp(last).date(), (table, column)))
    if any(end is None for end, _ in ends):
        return None, next(where for end, where in ends if end is None)
    return min(ends, key=lambda e: e[0])


def no_periods_reason(ctx: Context, defn: Definition) -> str:
    table, column = cp.dated_table(defn.numerator), defn.numerator.date
    last = ctx.scans.get(("dates", table, column))
    if last is None or pd.isna(last["last"].iloc[0]):
        return f"no rows of {table} have a value in {column}"
    end, (table, column) = _data_end(ctx, defn)
    if end is None:
        return f"no rows of {table} have a value in {column}"
    if defn.follow_up_days:
        return (f"no {defn.period.replace('_', ' ')} ends {defn.follow_up_days} days before "
                f"the latest {table}.{column} ({end}), the follow-up it needs")
    if _none_meet_the_filter(ctx, defn):  # another period would not help
        return (f"no row of {defn.numerator.table} meets the numerator's filter "
                f"({defn.numerator.where}): nothing to count in any period")
    return (f"no complete {defn.period.replace('_', ' ')} in the {table} data (to {end})"
            f"{_other_periods(ctx, defn)}")


def _none_meet_the_filter(ctx: Context, defn: Definition) -> bool:
    """No row of the counted table meets the numerator's filter: a screening table of
    cervical programmes only has no bowel screening, and advice to compute by another
    period sent the user to edit a definition for nothing (a walkthrough)."""
    rows = cp.rows_meeting_filter(ctx.source, defn.numerator)
    return rows is not None and rows.limit(1).count().to_pyarrow().as_py() == 0


def _other_periods(ctx: Context, defn: Definition) -> str:
    """What periods of another kind the data hold, and how to compute by one: a snapshot
    file of December (cervical screening's of 2017) holds no financial year's end, and
    said only that."""
    span = _span(ctx, defn)
    if span is None:
        return ""
    latest = {kind.replace("_", " "): found[-1].label for kind in PERIOD_KINDS
              if kind != defn.period and (found := periods_between(kind, *span))}
    if not latest:
        return ""
    held = [f"{kind} ({label})" for kind, label in latest.items()]
    held = ", ".join(held[:-1]) + " and " + held[-1] if len(held) > 1 else held[0]
    copy = f" ({defn.source_file})" if defn.source_file else ""
    return (f". They hold a complete {held}: to compute by one, copy the definition"
            f"{copy} to the workspace's indicators/ folder and set `period: "
            f"{next(iter(latest)).replace(' ', '_')}` (or another of these) and a version "
            "of your own in it")


def gap_note(defn: Definition, gaps: list[tuple[str, str, str]]) -> str:
    said = "; ".join(f"{table}.{column} in {label}" for label, table, column in gaps)
    return (f"no rows of {said}: a gap in the data, not a count of zero, so no values for "
            "those periods")


QUARTER_START_MONTHS = (1, 4, 7, 10)


def part_listed(ctx: Context, defn: Definition, periods: list) -> list:
    """The periods (of events, over the mean list) missing a quarter's lists in the whole
    workspace: lists ending in July counted a practice closing in September as listed all
    year (a second hunt). A register over the period's last list needs only that one."""
    if defn.mode != "in_period":
        return []
    listed = _months(ctx, "registered_population", "quarter_start")
    return [p for p in periods
            if any(k not in listed for k in _quarter_keys(p.start, p.end))]


def _quarter_keys(start: date, end: date) -> list[int]:
    return [k for k in range(cp.month_key(start), cp.month_key(end) + 1)
            if k % cp.MONTHS_PER_YEAR + 1 in QUARTER_START_MONTHS]


def part_listed_note(periods: list) -> str:
    return (f"the registered population lists do not cover every quarter of "
            f"{', '.join(p.label for p in periods)}: no values for "
            f"{'it' if len(periods) == 1 else 'them'} (a quarter with no lists would count "
            "its events over no people)")


HOLES_NAMED = 5  # practices named in the warning; the rest counted


def list_holes(ctx: Context) -> pd.DataFrame:
    """(unit, quarter_start) of each quarter the workspace has lists for, missing between
    two of a practice's own lists: missing data, filled by the mean of its other quarters
    (see compile.aggregate_population). Once per compute."""
    def build() -> pd.DataFrame:
        table = ctx.source.table("registered_population")
        own, bounds = cp.list_bounds(table)
        starts = table.select(_start=table.quarter_start).distinct()
        inside = starts.join(bounds, (starts._start > bounds._first)
                             & (starts._start < bounds._last)).select(bounds.unit,
                                                                      starts._start)
        holes = inside.anti_join(own, ["unit", "_start"])
        found = holes.to_pyarrow().to_pandas()
        found["_start"] = pd.to_datetime(found["_start"]).dt.date
        return found
    return once(ctx, ("list holes",), build)


def list_holes_note(ctx: Context, periods: list) -> str | None:
    """A warning naming the practices with a quarter's list missing inside the periods
    computed, or None."""
    holes = list_holes(ctx)
    inside = holes[holes["_start"].map(lambda d: any(p.start <= d <= p.end for p in periods))]
    if inside.empty:
        return None
    units = sorted(inside["unit"].unique())
    named = ", ".join(units[:HOLES_NAMED]) + (
        f" and {len(units) - HOLES_NAMED:,} more" if len(units) > HOLES_NAMED else "")
    quarters = ", ".join(str(d) for d in sorted(inside["_start"].unique()))
    return (f"{len(units):,} practice{'' if len(units) == 1 else 's'} ({named}) "
            f"{'has' if len(units) == 1 else 'have'} no registered population list for a "
            f"quarter between two of {'its' if len(units) == 1 else 'their'} lists "
            f"({quarters}): the population there is taken as the mean of the other "
            "quarters of the period; load the missing lists")
