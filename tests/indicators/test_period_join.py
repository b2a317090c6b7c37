"""Rows join their reporting periods by day or month (an equality join on a small table, not
a range join over every row). Property: the result is exactly the plain date-range rule."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.engine.compile import _attach_periods, periods_table
from carepath.indicators.periods import periods_between

FIRST, LAST = date(2019, 1, 1), date(2024, 12, 31)
PERIOD_KINDS = ["financial_year", "calendar_year", "quarter", "rolling_12_months"]
dates = st.dates(date(2016, 1, 1), date(2026, 6, 30))


def _expected(rows, periods, mode):
    """The definition of the rule, one row and one period at a time."""
    out = set()
    for i, (when, until) in enumerate(rows):
        for p in periods:
            if mode == "as_at_end":
                inside = when <= p.end and (until is None or until > p.end)
            else:
                inside = p.start <= when <= p.end
            if inside:
                out.add((i, p.label))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(dates, st.none() | dates), min_size=1, max_size=30),
       st.sampled_from(PERIOD_KINDS), st.sampled_from(["in_period", "as_at_end"]))
def test_period_join_keeps_exactly_the_rows_of_the_date_range_rule(rows, kind, mode):
    periods = periods_between(kind, FIRST, LAST)
    table = ibis.memtable({"i": list(range(len(rows))), "d": [r[0] for r in rows],
                           "u": [r[1] for r in rows]}).cast({"d": "date", "u": "date"})
    joined = _attach_periods(table, periods_table(periods), SimpleNamespace(mode=mode),
                             SimpleNamespace(date="d", until="u"))
    got = ibis.duckdb.connect().execute(joined.select("i", "period"))
    assert set(zip(got.i, got.period, strict=True)) == _expected(rows, periods, mode)


def test_first_and_last_days_of_a_period_are_inside_it():
    periods = periods_between("financial_year", date(2023, 4, 1), date(2024, 3, 31))
    edge = [date(2023, 4, 1), date(2024, 3, 31), date(2023, 3, 31), date(2024, 4, 1)]
    table = ibis.memtable({"i": [0, 1, 2, 3], "d": edge}).cast({"d": "date"})
    joined = _attach_periods(table, periods_table(periods), SimpleNamespace(mode="in_period"),
                             SimpleNamespace(date="d", until=None))
    got = ibis.duckdb.connect().execute(joined.select("i", "period"))
    assert sorted(got.i) == [0, 1]
