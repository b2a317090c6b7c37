"""Indicator metadata for pages (title, polarity, unit, definition): the ONE place the web
app asks, so switching to ``carepath.indicators.library`` when it lands is a one-line change.
"""

from __future__ import annotations

import duckdb

from carepath.reports.indicator_meta import indicator_meta as _reports_meta


def indicator_meta(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """id -> {"title", "higher_is_better" (True/False/None), "unit", "definition", "source"}."""
    return _reports_meta(con)


def polarity_text(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return "No judgement (higher is neither better nor worse)"
    return "Higher is better" if higher_is_better else "Lower is better"
