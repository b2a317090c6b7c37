"""Reporting periods: only complete periods inside the data, labelled as users expect."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from carepath.indicators.periods import periods_between

KINDS = ("financial_year", "calendar_year", "quarter", "rolling_12_months")


def test_labels_and_bounds():
    fy = periods_between("financial_year", date(2019, 4, 3), date(2025, 3, 30))
    assert [p.label for p in fy][:2] == ["2019/20", "2020/21"] and len(fy) == 6
    q = periods_between("quarter", date(2024, 4, 1), date(2024, 12, 31))
    assert [p.label for p in q] == ["2024/25 Q1", "2024/25 Q2", "2024/25 Q3"]
    rolling = periods_between("rolling_12_months", date(2023, 4, 1), date(2024, 6, 30))
    assert [p.label for p in rolling] == ["12 months to Mar 2024", "12 months to Jun 2024"]


@given(st.sampled_from(KINDS), st.dates(date(2015, 1, 1), date(2030, 1, 1)),
       st.integers(0, 2000))
def test_periods_are_complete_and_inside_the_data(kind, first, span):
    last = first + timedelta(days=span)
    month_start = date(first.year, first.month, 1)
    for p in periods_between(kind, first, last):
        assert month_start <= p.start <= p.end
        assert (p.end.year, p.end.month) <= (last.year, last.month)
        assert p.years > 0.24
