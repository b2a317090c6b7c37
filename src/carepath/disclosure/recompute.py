"""Values and intervals recomputed from the rounded counts, so that a published interval
cannot give the exact count back: the same published methods as the engine, vectorised."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from carepath.disclosure.rules import CI_COLUMNS, LEVELS, MEAN_DECIMALS, SD_DECIMALS
from carepath.stats.intervals import (
    WEIGHTED_METHODS,
    byars_lower,
    byars_upper,
    poisson_count_limits,
    wilson_limits,
)


# A DSR's and a mean's intervals are shaped by the exact count: a DSR's Dobson limits sit
# at value + s x (Byar's limit of O - O), whose lower and upper parts are in a ratio that
# only O decides, and a mean's 95% and 99.8% half-widths in a ratio only its number of
# people decides. Published as computed, every row gave its exact count back (found by a
# review). So the limits are those of the rounded count, from published figures only.
def to_one_event(value: float, rounded: float) -> float:
    """A DSR to the power of ten at or below one event's mean weight (value / rounded
    count): 519.39 of about 90 events is 519, of about 10 events 520. A DSR is a weighted
    sum of its age bands' counts, the weights public (ESP2013 and published list sizes):
    published to sixteen digits, one exact equation told which ages a small practice's
    cancers were (a review found the values so published). Rounded so, it says as much as
    its rounded count does."""
    if not rounded or not value or not math.isfinite(value):
        return value
    return round(value, -math.floor(math.log10(abs(value) / rounded)))


def dobson_from_rounded(row: dict) -> None:
    """The value to one event's weight (``to_one_event``), and Dobson limits on the rounded
    count, their spread s taken as value / rounded count (the mean weight of an event),
    so they rest on published figures alone: the exact spread put a floor of value / s
    under the exact count (a privacy review)."""
    row["value"] = to_one_event(row["value"], row["numerator"])
    rounded, value = row["numerator"], row["value"]
    for level, (low, high) in zip(LEVELS, (CI_COLUMNS[:2], CI_COLUMNS[2:]), strict=True):
        if row.get(low) is None or row.get(high) is None:
            continue
        if not rounded:
            row[low] = row[high] = None
            continue
        spread = value / rounded
        row[low] = value + spread * (float(byars_lower(rounded, level)) - rounded)
        row[high] = value + spread * (float(byars_upper(rounded, level)) - rounded)


def t_from_rounded(row: dict, exact: float) -> None:
    rounded = row["numerator"]
    lower = row.get(CI_COLUMNS[0])
    exact_value = row["value"]
    row["value"] = round(exact_value, MEAN_DECIMALS)
    if lower is None or exact < 2 or rounded < 2:
        for col in CI_COLUMNS:
            row[col] = None
        return
    # The standard deviation, read off the 95% half-width of the exact count.
    sd = (exact_value - lower) * math.sqrt(exact) / _t(exact, LEVELS[0])
    sd = round(sd, SD_DECIMALS)
    for level, (low, high) in zip(LEVELS, (CI_COLUMNS[:2], CI_COLUMNS[2:]), strict=True):
        half = _t(rounded, level) * sd / math.sqrt(rounded)
        row[low], row[high] = row["value"] - half, row["value"] + half


def _t(count: float, level: float) -> float:
    return float(special.stdtrit(count - 1, 1 - (1 - level) / 2))


def recompute(row: dict, exact_num: float, exact_den: float | None,
               pending: Recomputations) -> None:
    num = row["numerator"]
    den, exact_den = (1.0, 1.0) if row.get("statistic") == "count" \
        else (row.get("denominator"), exact_den)
    if not den or not exact_den:
        return
    if row.get("method") in WEIGHTED_METHODS:  # bed days; admissions counted per person
        _weighted(row, num, den, exact_num, exact_den)
        return
    pending.add(row, num, den, exact_num, exact_den)


class Recomputations:
    """Rows whose value and interval are recomputed from their rounded counts, all at once:
    one vectorised call per method and level instead of one per row (an England export
    spent more than half of its five minutes in those calls). The same published methods
    as the engine: Wilson for proportions; exact Poisson below 10 events and Byar's from 10
    for rates, counts and standardised ratios."""

    def __init__(self) -> None:
        self.rows: dict[bool, list[dict]] = {True: [], False: []}  # keyed by "proportion?"
        self.counts: dict[bool, list[tuple]] = {True: [], False: []}

    def add(self, row: dict, num: float, den: float, exact_num: float,
            exact_den: float) -> None:
        proportion = row.get("statistic") == "proportion"
        self.rows[proportion].append(row)
        self.counts[proportion].append((num, den, exact_num, exact_den, row["value"],
                                        _number(row.get("upper95"))))

    def run(self) -> None:
        for proportion, rows in self.rows.items():
            if rows:
                _recompute_all(rows, np.array(self.counts[proportion], dtype=float),
                               proportion)


def _number(value: Any) -> float:
    return math.nan if value is None else value


def _scaled_limits(x: np.ndarray, n: np.ndarray, level: float, proportion: bool,
                   scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and limits of x / n times ``scale``, multiplied in the order stats.proportion
    and stats.rate multiply, so they agree to the last bit."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if proportion:
            lower, upper = wilson_limits(x, n, level)
            return x / n * scale, lower * scale, upper * scale
        lower, upper = poisson_count_limits(x, level)
        per_unit = scale / n
        return x * per_unit, lower * per_unit, upper * per_unit


def _scales(counts: np.ndarray, proportion: bool) -> np.ndarray:
    """What each value is the count per denominator times: 100 for a percentage, the rate's
    multiplier over the period's years for a crude rate per head, 100 x the reference rate
    for an ISR ... read off the exact figures, so no definition needs to be at hand. NaN
    where it cannot be read."""
    _, _, exact_num, exact_den, value, upper95 = counts.T
    # No events: the value is 0 whatever the scale; the upper limit still carries it.
    per_one = _scaled_limits(np.zeros_like(exact_den), exact_den, LEVELS[0], proportion,
                             np.ones_like(exact_den))[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(exact_num != 0, value * exact_den / exact_num,
                         np.where(per_one > 0, upper95 / per_one, np.nan))
        return np.where(scale > 0, scale, np.nan)


def _recompute_all(rows: list[dict], counts: np.ndarray, proportion: bool) -> None:
    num, den = counts[:, 0], counts[:, 1]
    scale = _scales(counts, proportion)
    value, low95, high95 = _scaled_limits(num, den, LEVELS[0], proportion, scale)
    _, low998, high998 = _scaled_limits(num, den, LEVELS[1], proportion, scale)
    columns = dict(zip(CI_COLUMNS, (low95, high95, low998, high998), strict=True))
    known = ~np.isnan(scale)
    for i, row in enumerate(rows):
        if known[i]:
            row["value"] = float(value[i])
            row.update({col: float(column[i]) for col, column in columns.items() if col in row})
        elif counts[i, 2]:  # events but no scale to recompute with (a value of 0 over 12
            # events): neither the exact value nor the exact interval goes out
            row["value"] = None
            row.update({col: None for col in columns if col in row})


def _weighted(row: dict, num: float, den: float, exact_num: float, exact_den: float) -> None:
    """A sum over weighted events (bed days per death): the value from the rounded counts,
    and no interval. Its interval rests on the number of events and their weights, which
    the row does not carry; moved with the rounded total, its shape gave back the exact
    number of admissions, and a value over the exact deaths gave back those."""
    scale = row["value"] * exact_den / exact_num if exact_num else None
    row["value"] = num / den * scale if scale is not None else 0.0
    for col in CI_COLUMNS:
        if col in row:
            row[col] = None
    row["disclosure"] = f"{row['disclosure']}; {WEIGHTED_NO_INTERVAL}"


WEIGHTED_NO_INTERVAL = ("interval not published (it would give back counts the rounding "
                        "hides)")
