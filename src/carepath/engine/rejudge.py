"""Comparisons, quintiles and trends judged again on the published (rounded) figures.

The engine judges each area on its exact figures. Published beside the rounded ones, those
judgements can disagree with what a reader sees (an area marked "worse" whose published
interval holds the national value), and they tell the order of the exact counts that the
rounding hides (a privacy review). So every public output judges again, with the engine's
own functions and the definition's comparator, on exactly the figures it publishes.
"""

from __future__ import annotations

import pandas as pd

from carepath.disclosure import CI_COLUMNS
from carepath.engine import comparisons, rollup
from carepath.indicators.definition import Definition

JUDGED = ("compared_to_national", "compared_to_parent", "quantile", "trend")
PUBLISHED = "published"


def judged_on_published(values: pd.DataFrame, definitions: dict[str, Definition]
                        ) -> pd.DataFrame:
    """``values`` (disclosure-controlled rows of indicator_values) with their judgements
    made again from the published figures. An indicator without a definition at hand
    keeps none: an exact judgement is not published."""
    if values.empty:
        return values
    parts = []
    for indicator_id, rows in values.groupby("indicator_id", sort=False):
        defn = definitions.get(str(indicator_id))
        parts.append(_judged(defn, rows) if defn is not None else _cleared(rows))
    return pd.concat(parts).loc[values.index]


def _cleared(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for column in JUDGED:
        if column in out:
            out[column] = None
    return out


def trends_on_published(defn: Definition, window: pd.DataFrame, order: dict[str, int],
                        marked: pd.Series) -> pd.Series:
    """The recent trend of each series in ``window`` (published rows of its last periods,
    each period's as its own publication disclosed them) judged on those figures, where
    the engine marked one (``marked``, aligned: it alone knows the periods with no rows):
    a publication of one period carries the trend the publications of its periods give."""
    trends = rollup.recent_trends(defn, _numeric(window), order)
    return trends.where(marked.to_numpy(bool), None)


def _numeric(rows: pd.DataFrame) -> pd.DataFrame:
    cells = rows.rename(columns={"numerator": "num", "denominator": "den"}).copy()
    for column in ("num", "den", "value", *CI_COLUMNS):
        cells[column] = pd.to_numeric(cells[column], errors="coerce")
    cells["period_start"] = pd.to_datetime(cells["period_start"])
    return cells


def _judged(defn: Definition, rows: pd.DataFrame) -> pd.DataFrame:
    cells = _numeric(rows)
    parent_map = cells[["period", "area_type", "area_code", "parent_code"]].drop_duplicates(
        subset=["period", "area_type", "area_code"])
    index = cells.index
    cells = comparisons.compare(defn, cells.drop(columns=["parent_code"]).reset_index(drop=True),
                           parent_map)
    cells["quantile"] = comparisons.quintiles(cells)
    cells["trend"] = rollup.recent_trends(defn, cells)
    cells.index = index
    out = rows.copy()
    shown = out["value_state"] == PUBLISHED
    for column in JUDGED:
        if column in out:
            judged = cells[column].astype(object).where(shown, None)
            if column == "trend":  # none where the engine put none: it alone knows the
                # periods' order, so a gap period (no rows) is not bridged here
                judged = judged.where(out[column].notna(), None)
            out[column] = judged.where(judged.notna(), None)
    return out
