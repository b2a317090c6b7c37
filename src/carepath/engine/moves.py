"""Practices that moved between areas of one level from one period to the next.

An area's recent trend runs over its last five periods; a practice moving in or out in
that time changes what the area's figures are of, and a high-coverage practice moving from
one PCN to another read as "decreasing and getting worse" in the one and "increasing and
getting better" in the other (z = -5.4 and 4.6), where each PCN's own practices showed no
significant change (an independent check). Such an area gets no trend across the move, as
the trend method's page says. Practices opening or closing do not count: they are no move,
and every national series would lose its trend to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from carepath.engine.rollup import MOVED, ROLLUP_LEVELS, links_in_period


def moves(hierarchy: pd.DataFrame, periods: Sequence) -> pd.DataFrame:
    """(area_type, area_code, period) of each area a practice moved into or out of between
    the period before and this one (``periods`` in time order: label, start, end)."""
    columns = ["area_type", "area_code", "period"]
    links = hierarchy[hierarchy.parent_type.isin(ROLLUP_LEVELS)]
    # Only a practice with two parents at one level can have moved: looking at every
    # practice in every period took 2.6 s a compute for England's quarters.
    parents = links.groupby(["child_code", "parent_type"]).parent_code.nunique()
    practices = parents[parents > 1].index.get_level_values("child_code").unique()
    if not len(practices) or len(periods) < 2:
        return pd.DataFrame(columns=columns)
    hierarchy = hierarchy[hierarchy.child_code.isin(practices)]
    units = pd.DataFrame([(p.label, pd.Timestamp(p.start), pd.Timestamp(p.end), code)
                          for p in periods for code in practices],
                         columns=["period", "period_start", "period_end", "unit"])
    order = {p.label: i for i, p in enumerate(periods)}
    links = links_in_period(units, hierarchy)[["period", "unit", "parent_type", "parent_code"]]
    links = links.assign(place=links.period.map(order)).sort_values("place")
    before = links.assign(place=links.place + 1).rename(
        columns={"parent_code": "was", "period": "from_period"})
    pairs = links.merge(before, on=["unit", "parent_type", "place"])
    moved = pairs[pairs.parent_code != pairs.was]
    found = pd.concat([moved[["parent_type", "parent_code", "period"]],
                       moved[["parent_type", "was", "period"]].rename(
                           columns={"was": "parent_code"})], ignore_index=True)
    found.columns = columns
    return found.drop_duplicates().reset_index(drop=True)


def mark_moves(cells: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """``cells`` with ``MOVED``: whether a practice moved in or out since the period
    before."""
    if found.empty:
        return cells.assign(**{MOVED: False})
    keys = ["area_type", "area_code", "period"]
    marked = cells.merge(found.assign(**{MOVED: True}), on=keys, how="left")
    marked[MOVED] = marked[MOVED].astype("boolean").fillna(False).astype(bool)
    marked.index = cells.index
    return marked
