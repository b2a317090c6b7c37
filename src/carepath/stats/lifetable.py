"""Period life expectancy by the Chiang II abridged life table with Silcocks et al. limits.

As PHEindicatormethods ``phe_life_expectancy``: 20 bands starting 0, 1, 5, 10, ... 90.
An area whose data cannot support a life table gets NaN throughout, with the reason in
``LifeTable.suppressed`` (PHE warns instead; Carepath never warns, it reports).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carepath.stats._validate import CONF_95, StatsInputError, as_float_array, check_confidence
from carepath.stats.intervals import z_value

LE_START_AGES = (0, 1) + tuple(range(5, 95, 5))
LE_BANDS = len(LE_START_AGES)  # 20
#: Fraction of the first year lived by infants who die (0.5 in every other band).
INFANT_FRACTION_LIVED = 0.1
OTHER_FRACTION_LIVED = 0.5
RADIX = 100_000
#: Areas with this total population or fewer are not published.
MIN_TOTAL_POPULATION = 5000
#: A value whose 95% interval is wider than 2 x this many years is not published.
MAX_HALF_WIDTH_YEARS = 10
METHOD_CHIANG = "Chiang, using Silcocks et al for confidence limits"


@dataclass(frozen=True, eq=False)
class LifeTable:
    """Life expectancy at each band's start age, shaped (areas, 20)."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pops_used: np.ndarray
    deaths_used: np.ndarray
    suppressed: np.ndarray  # per area: None or the reason it is NaN
    confidence: float
    method: str = METHOD_CHIANG


def _suppression(deaths: np.ndarray, pop: np.ndarray) -> np.ndarray:
    reasons = np.full(deaths.shape[0], None, dtype=object)
    checks = (
        ((pop.sum(axis=1) <= MIN_TOTAL_POPULATION), "total population of 5,000 or fewer"),
        ((deaths > pop).any(axis=1), "deaths exceed population in an age band"),
        ((pop <= 0).any(axis=1), "an age band has a population of zero or less"),
        ((deaths < 0).any(axis=1), "an age band has negative deaths"),
        ((np.isnan(deaths) | np.isnan(pop)).any(axis=1), "an age band is missing"),
    )
    for mask, reason in checks:  # the last matching check wins; all are data problems
        reasons[mask] = reason
    return reasons


def life_expectancy(deaths, population, *, confidence: float = CONF_95,
                    start_ages=LE_START_AGES) -> LifeTable:
    """Life expectancy at every start age for each area (rows of ``deaths``/``population``).

    Shapes (areas, 20) or (20,). Bands must start at 0, 1, 5, ..., 90 in order.
    """
    c = check_confidence(confidence, allow_one=False)
    ages = tuple(int(a) for a in start_ages)
    if ages != LE_START_AGES:
        raise StatsInputError(f"start_ages must be {LE_START_AGES} (20 bands, 0 first, in "
                              f"order); got {ages}")
    d = np.atleast_2d(as_float_array(deaths, "deaths"))
    p = np.atleast_2d(as_float_array(population, "population"))
    # (areas, 20) at most: a third axis passed the band check, then failed deep in the
    # table with an IndexError (an independent check).
    if d.ndim != 2 or d.shape != p.shape or d.shape[-1] != LE_BANDS:
        raise StatsInputError(f"deaths and population must both be shaped (areas, {LE_BANDS});"
                              f" got {d.shape} and {p.shape}")
    reasons = _suppression(d, p)
    bad = reasons != None
    d = np.where(bad[:, None], 1.0, d)  # placeholders; these rows are blanked at the end
    p = np.where(bad[:, None], 2.0, p)
    value, se, pops_used, deaths_used = _chiang(d, p)
    z = z_value(c)
    with np.errstate(invalid="ignore"):
        lower, upper = value - z * se, value + z * se
        wide = z_value(CONF_95) * se > MAX_HALF_WIDTH_YEARS
    value = np.where(wide | ~np.isfinite(value), np.nan, value)
    for arr in (value, lower, upper, pops_used, deaths_used):
        arr[bad] = np.nan
    return LifeTable(value, lower, upper, pops_used, deaths_used, reasons, c)


def _chiang(d: np.ndarray, p: np.ndarray):
    last = LE_BANDS - 1
    m = d / p
    a = np.full(LE_BANDS, OTHER_FRACTION_LIVED)
    a[0] = INFANT_FRACTION_LIVED
    width = np.diff(np.array(LE_START_AGES, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.concatenate([np.broadcast_to(width, (d.shape[0], last)), 2 / m[:, -1:]], axis=1)
        q = np.where(d <= p / n / a, m * n / (1 + m * n * (1 - a)), 1.0)
        q[:, last] = 1.0
        surv = np.cumprod(np.concatenate([np.ones((d.shape[0], 1)), 1 - q[:, :-1]], axis=1),
                          axis=1)
        l_ = RADIX * surv
        l_next = np.concatenate([l_[:, 1:], np.zeros((d.shape[0], 1))], axis=1)
        died = l_ - l_next
        big_l = n * (l_next + a * died)
        big_l[:, last] = l_[:, last] / m[:, last]
        t = np.cumsum(big_l[:, ::-1], axis=1)[:, ::-1]
        e = np.where(l_ == 0, 0.0, t / l_)
        sp = np.where(died == 0, 0.0, q**2 * (1 - q) / d)
        sp[:, last] = 4 / (d[:, last] * m[:, last] ** 2)
        e_next = np.concatenate([e[:, 1:], np.zeros((d.shape[0], 1))], axis=1)
        w = sp * l_**2 * ((1 - a) * n + e_next) ** 2
        w[:, last] = (l_[:, last] / 2) ** 2 * sp[:, last]
        se = np.sqrt(np.cumsum(w[:, ::-1], axis=1)[:, ::-1] / l_**2)
    pops_used = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]
    deaths_used = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]
    return e, se, pops_used, deaths_used
