"""Each area's value compared with its parent's and national (higher, lower, similar;
better or worse where the polarity says), and ranked into quintiles among its peers.

Works on the cells ``rollup`` makes, whichever backend counted them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carepath import stats
from carepath.engine.rollup import NATIONAL
from carepath.indicators.definition import Definition

QUINTILES = 5
# Values this close (relative) rank as ties: engines sum in different orders, so the same
# rate can differ in its last bits, and that must not change a quintile.
TIE_RELATIVE_TOLERANCE = 1e-12
# Near zero a relative test never ties (0 against 5e-17 left by 0.1 + 0.2 - 0.3); no
# indicator's values differ meaningfully by less than this.
TIE_ABSOLUTE_TOLERANCE = 1e-12
QUINTILE_KEYS = ["area_type", "period", "breakdown", "category"]

# Judgements, in the order of their codes (codes are built in NumPy; the column is a
# pandas Categorical, so no text is made per row).
JUDGEMENTS = ("higher", "lower", "similar", "not_compared", "better", "worse")
_HIGHER, _LOWER, _SIMILAR, _NOT_COMPARED, _BETTER, _WORSE = range(len(JUDGEMENTS))


def judge(lower, upper, comparator, polarity: str) -> pd.Categorical:
    """Each interval against its comparator value: higher, lower or similar, as better or
    worse where the polarity says which is good; not compared where either is unknown."""
    code = np.where(lower > comparator, _HIGHER, np.where(upper < comparator, _LOWER, _SIMILAR))
    code = np.where(np.isfinite(lower) & np.isfinite(comparator), code, _NOT_COMPARED)
    if polarity != "no_judgement":
        good, bad = (_HIGHER, _LOWER) if polarity == "high_is_good" else (_LOWER, _HIGHER)
        code = np.select([code == good, code == bad], [_BETTER, _WORSE], code)
    return pd.Categorical.from_codes(code, categories=JUDGEMENTS)


def compare(defn: Definition, cells: pd.DataFrame, parent_map: pd.DataFrame) -> pd.DataFrame:
    level = stats.level_tag(defn.comparator.confidence)
    key = ["period", "breakdown", "category"]
    national = cells[cells.area_type == NATIONAL][key + ["value"]].rename(
        columns={"value": "_national"})
    cells = cells.merge(national, on=key, how="left")
    cells = cells.merge(parent_map, on=["period", "area_type", "area_code"], how="left")
    parent_values = cells[key + ["area_code", "value"]].drop_duplicates(
        subset=key + ["area_code"]).rename(columns={"area_code": "parent_code",
                                                    "value": "_parent"})
    cells = cells.merge(parent_values, on=key + ["parent_code"], how="left")
    lo, hi = cells[f"lower{level}"].to_numpy(float), cells[f"upper{level}"].to_numpy(float)
    cells["compared_to_national"] = judge(lo, hi, cells._national.to_numpy(float),
                                           defn.polarity)
    cells["compared_to_parent"] = judge(lo, hi, cells._parent.to_numpy(float), defn.polarity)
    if defn.comparator.method == "funnel" and defn.statistic == "proportion":
        cells["compared_to_national"] = _funnel_judgements(defn, cells)
    elif defn.comparator.method == "quantiles":
        cells["compared_to_national"] = "not_compared"  # the quintile is the comparison
    national_rows = cells.area_type == NATIONAL
    # A count is of its own area's people: beside the larger area's it is always lower
    # ('better', for a low-is-good count), which says nothing (an independent check).
    # Fingertips compares no counts either.
    uncompared = national_rows | (defn.statistic == "count")
    cells.loc[uncompared, ["compared_to_national", "compared_to_parent"]] = "not_compared"
    return cells.drop(columns=["_national", "_parent"])


def _funnel_judgements(defn: Definition, cells: pd.DataFrame) -> np.ndarray:
    """Each area against the funnel around the national proportion of its period and
    category (Spiegelhalter; PHE limits), at the comparator's confidence."""
    out = np.full(len(cells), "not_compared", dtype=object)
    usable = (cells.value_state == "published") & cells._national.notna() & (cells.den > 0)
    for _, group in cells[usable].groupby(["period", "breakdown", "category"]):
        baseline = float(group._national.iloc[0]) / defn.scale
        raw = stats.funnel_significance(group.num.to_numpy(float), group.den.to_numpy(float),
                                        statistic="proportion", baseline=baseline,
                                        confidence=defn.comparator.confidence)
        out[cells.index.get_indexer(group.index)] = stats.with_polarity(raw, defn.polarity)
    return out


def quintiles(cells: pd.DataFrame) -> pd.Series:
    """1 (lowest) to 5 among published areas of the same type, period and category, by
    PHE's quantile method (stats.quantiles, tested on PHEindicatormethods' cases): ties
    share the lowest rank, and fewer than five areas get none."""
    values = _merge_near_ties(cells, QUINTILE_KEYS).to_numpy(float)
    groups = cells.groupby(QUINTILE_KEYS, sort=False, dropna=False).ngroup().to_numpy()
    q = stats.quantiles(values, QUINTILES, invert=False, groups=groups)
    result = pd.Series(q, index=cells.index).astype("Int64")
    return result.mask(cells.area_type == NATIONAL)


def _merge_near_ties(cells: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Each value replaced by the first of its run of near-equal neighbours (sorted within
    its group), so float noise from a different summation order makes a tie, not a rank."""
    group = cells.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    order = np.lexsort((cells["value"].to_numpy(float), group))
    ordered = cells["value"].iloc[order]
    value = ordered.to_numpy(float)
    previous = np.roll(value, 1)
    tolerance = np.maximum(TIE_ABSOLUTE_TOLERANCE, TIE_RELATIVE_TOLERANCE
                           * np.maximum(np.abs(value), np.abs(previous)))
    gap = np.abs(value - previous) > tolerance
    new_group = np.diff(group[order], prepend=-1) != 0
    starts = new_group | gap | np.isnan(value) | np.isnan(previous)
    block = pd.Series(np.cumsum(starts), index=ordered.index)
    first = ordered.groupby(block).transform("first")
    return first.reindex(cells.index)
