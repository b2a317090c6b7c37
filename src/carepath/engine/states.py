"""Each value's state, kept distinct from zero everywhere: published, suppressed (small
numbers, or by the publisher of the data) or missing, with the reason in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carepath import stats
from carepath.disclosure.rules import LEFT_OUT, SUPPRESSED_AT_SOURCE
from carepath.engine.rollup import NATIONAL, band_matrix, events_outside_ages
from carepath.indicators.definition import Definition, Population
from carepath.stats.standardise import DSR_TOO_FEW_NOTE

NUMERATOR_EXCEEDS = ("numerator exceeds denominator: is the numerator's filter narrower than "
                     "the denominator's? Otherwise check the data")
# 0 eligible, 0 screened: counted, and nobody to count (it read 'no data': a hunt).
NO_ONE = "the denominator is 0: no one to count in this area and period"
NO_LISTS = "no registered population for this area and period: its lists are not loaded"
UNIT_LEVELS = ("practice", "provider")


def _suppressed_at_source(cells: pd.DataFrame, state: np.ndarray, note: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """A practice the publisher suppressed is suppressed (not missing), and so is an area
    holding only such practices (it read 'no data': a hunt); an area holding others too
    says how many its figure leaves out."""
    n = cells["withheld_units"].to_numpy(float)
    den = cells["den"].to_numpy(float)
    unit = cells.area_type.isin(UNIT_LEVELS).to_numpy()
    whole = (n > 0) & (unit | ~(den > 0))
    state = np.where(whole, "suppressed", state)
    note = np.where(whole, SUPPRESSED_AT_SOURCE, note)
    above = (n > 0) & ~whole & (state == "published")
    if above.any():
        told = np.array([LEFT_OUT.format(n=int(k), s="" if k == 1 else "s") for k in n[above]],
                        dtype=object)
        note = note.astype(object)
        note[above] = told
    return state, note


UNAGED = "{n} counted with no recorded age: not in the standardised rate"
HALF_AN_EVENT = 0.5


def _unaged_note(cells: pd.DataFrame, state: np.ndarray, note: np.ndarray) -> np.ndarray:
    """A DSR is a sum over age bands: events with no age are in the numerator shown but
    not in the rate, which said nothing of them (a hunt)."""
    unaged = cells.num.to_numpy(float) - band_matrix(cells.num_bands).sum(axis=1)
    told = (unaged >= HALF_AN_EVENT) & (state == "published")  # not a weighted sum's noise
    if told.any():
        note = note.astype(object)
        note[told] = [UNAGED.format(n=f"{k:,.0f}") for k in unaged[told]]
    return note


def value_states(defn: Definition, cells: pd.DataFrame) -> pd.DataFrame:
    """published / suppressed / missing, with the reason: never confused with zero."""
    state = np.where(cells.value.notna(), "published", "missing")
    note = np.where(cells.value.notna(), None, "no data for this area and period")
    den = cells.den.to_numpy(float) if "den" in cells else np.full(len(cells), np.nan)
    note = np.where(np.isnan(cells.value.to_numpy(float)) & (den == 0), NO_ONE, note)
    if isinstance(defn.denominator, Population):
        unlisted = ~(den > 0) & (cells.num.to_numpy(float) > 0)
        note = np.where(unlisted, NO_LISTS, note)
    if defn.statistic == "proportion":
        bad = (cells.num > cells.den).to_numpy()
        note = np.where(bad, NUMERATOR_EXCEEDS, note)
    if defn.statistic == "dsr":
        few = cells.value.isna().to_numpy() & (cells.num.to_numpy(float) < stats.DSR_MIN_EVENTS)
        note = np.where(few, DSR_TOO_FEW_NOTE, note)
        note = np.where(cells.value.isna().to_numpy() & events_outside_ages(defn, cells),
                        "events at ages the population does not cover: filter the "
                        "numerator to the same ages", note)
    small = np.isfinite(den) & (den < defn.disclosure.min_denominator) & \
        (cells.area_type != NATIONAL).to_numpy()
    state = np.where(small, "suppressed", state)
    note = np.where(small, f"denominator below {defn.disclosure.min_denominator:g}", note)
    if "withheld_units" in cells:
        state, note = _suppressed_at_source(cells, state, note)
    if defn.statistic == "dsr" and "num_bands" in cells and len(cells):
        note = _unaged_note(cells, state, note)
    hide = state != "published"
    shown = {col: np.where(hide, np.nan, cells[col].to_numpy(float))
             for col in ("value", "lower95", "upper95", "lower998", "upper998")}
    return cells.assign(value_state=state, value_note=note, **shown)
