"""Reporting periods: financial year, calendar year, quarter, rolling 12 months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FINANCIAL_YEAR_START_MONTH = 4
MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class ReportingPeriod:
    label: str
    start: date
    end: date

    @property
    def years(self) -> float:
        """Length in years, for person-years of population: whole months over twelve
        (periods are whole months), so a year is exactly one whatever its days and a rate
        over a year is count / population, as Fingertips publishes it; a quarter is 0.25."""
        after = self.end + timedelta(days=1)
        months = (after.year - self.start.year) * MONTHS_PER_YEAR + after.month - \
            self.start.month
        return months / MONTHS_PER_YEAR


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _quarter_label(start: date) -> str:
    fy = start.year if start.month >= FINANCIAL_YEAR_START_MONTH else start.year - 1
    q = ((start.month - FINANCIAL_YEAR_START_MONTH) % 12) // 3 + 1
    return f"{fy}/{str(fy + 1)[-2:]} Q{q}"


def financial_year_label(year: int) -> str:
    """The financial year starting in ``year`` as people write it: 2024 -> '2024/25'."""
    return f"{year}/{(year + 1) % 100:02d}"


def _fy_label(start: date) -> str:
    return financial_year_label(start.year)


def periods_between(kind: str, first: date, last: date) -> list[ReportingPeriod]:
    """Every complete period of ``kind`` inside [first, last], whole months assumed
    (data that start on 3 April cover April)."""
    first = date(first.year, first.month, 1)
    last_month_end = _add_months(date(last.year, last.month, 1), 1) - timedelta(days=1)
    if kind == "financial_year":
        start = date(first.year if first.month <= FINANCIAL_YEAR_START_MONTH else
                     first.year + 1, FINANCIAL_YEAR_START_MONTH, 1)
        step, label = 12, _fy_label
    elif kind == "calendar_year":
        start = first if first.month == 1 else date(first.year + 1, 1, 1)
        step, label = 12, lambda s: str(s.year)
    elif kind == "quarter":
        offset = (first.month - FINANCIAL_YEAR_START_MONTH) % 3
        start = _add_months(first, (3 - offset) % 3)
        step, label = 3, _quarter_label
    elif kind == "rolling_12_months":
        return _rolling(first, last_month_end)
    else:
        raise ValueError(f"unknown period kind {kind!r}")
    out = []
    while (end := _add_months(start, step) - timedelta(days=1)) <= last_month_end:
        out.append(ReportingPeriod(label(start), start, end))
        start = _add_months(start, step)
    return out


def _rolling(first: date, last_month_end: date) -> list[ReportingPeriod]:
    """12-month windows ending at each quarter end (Fingertips-style rolling periods)."""
    out = []
    for q in periods_between("quarter", first, last_month_end):
        start = _add_months(date(q.end.year, q.end.month, 1), -11)
        if start >= first:
            out.append(ReportingPeriod(f"12 months to {q.end:%b %Y}", start, q.end))
    return out
