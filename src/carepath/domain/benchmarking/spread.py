"""Outliers allowing for the spread between practices (overdispersion).

A practice outside its 99.8% interval is outside by chance alone 1 time in 500. Where
practices differ far more than chance allows (screening coverage: case mix, list
cleaning, coding), many are "outliers" whose population explains them as much as their
care. Spiegelhalter's method (stats.overdispersion) widens the limits by the spread
between all the workspace's practices; a practice still outside them is the least likely
to be chance or case mix. Peer review sees both, so a group starts with those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepath.stats import CONF_998, StatsInputError
from carepath.stats.funnels import HIGHER, LOWER
from carepath.stats.overdispersion import od_funnel_significance, overdispersion

# The indicator statistics whose spread can be estimated from counts, and the funnel
# statistic each is (a DSR or a mean has no single count to widen by).
SPREAD_STATISTICS = {"proportion": "proportion", "crude_rate": "rate", "isratio": "ratio"}
# Spiegelhalter's additive random effect, as the indicator page's funnel draws by default.
SPREAD_METHOD = "additive"
# Fewer practices than this give no estimate of the spread worth judging by.
MIN_PRACTICES_FOR_SPREAD = 10


@dataclass(frozen=True)
class Spread:
    """One indicator's spread between practices: ``phi`` (1 when no more than chance) and
    each practice's side of the widened 99.8% limits ("higher", "similar", "lower")."""

    phi: float
    overdispersed: bool
    practices: int
    sides: dict[str, str]


def spreads(practices: pd.DataFrame, national: pd.DataFrame,
            statistics: dict[str, str | None]) -> dict[str, Spread]:
    """Each indicator's spread, from all ``practices``' latest published rows (the
    workspace's, whoever looks) about the ``national`` row's value. ``statistics``:
    indicator id -> its statistic; indicators of another statistic, or with too few
    practices, are left out."""
    nat = national.set_index("indicator_id")
    usable = practices[(practices["value_state"] == "published")
                       & practices["numerator"].notna() & (practices["denominator"] > 0)]
    out = {}
    for ind, rows in usable.groupby("indicator_id", sort=False):
        kind = SPREAD_STATISTICS.get(statistics.get(ind) or "")
        if kind is None or ind not in nat.index or len(rows) < MIN_PRACTICES_FOR_SPREAD:
            continue
        target = _per_unit(nat.loc[ind])
        if target is None:
            continue
        found = _spread(rows, kind, target)
        if found is not None:
            out[ind] = found
    return out


def _per_unit(national: pd.Series) -> float | None:
    """The national value on the counts' own scale (a proportion, not a percentage)."""
    num, den = national.get("numerator"), national.get("denominator")
    if pd.isna(num) or pd.isna(den) or den <= 0:
        return None
    return float(num) / float(den)


def _spread(rows: pd.DataFrame, kind: str, target: float) -> Spread | None:
    x = rows["numerator"].to_numpy(dtype=float)
    n = rows["denominator"].to_numpy(dtype=float)
    if kind == "proportion" and not 0 < target < 1:
        return None  # every practice at 0% or 100%: no spread to estimate
    try:
        od = overdispersion(x, n, statistic=kind, target=target)
        sides = od_funnel_significance(x, n, statistic=kind, method=SPREAD_METHOD,
                                       confidence=CONF_998, target=target)
    except StatsInputError:
        return None  # counts the statistic cannot take (a numerator above its denominator)
    return Spread(od.phi, od.overdispersed, od.areas,
                  dict(zip(rows["area_code"], np.asarray(sides, dtype=str), strict=True)))


def still_outside(spread: Spread | None, area_code: str, direction: str) -> bool | None:
    """Whether a practice outside its 99.8% interval (``direction`` "high" or "low") is
    outside the limits widened for the spread too; None where that cannot be said. With
    no more spread than chance the limits are not widened, and its judgement stands."""
    if spread is None or area_code not in spread.sides:
        return None
    if not spread.overdispersed:
        return True
    return spread.sides[area_code] == (HIGHER if direction == "high" else LOWER)


def for_practices(spreads_: dict[str, Spread], codes: set[str]) -> dict[str, Spread]:
    """The spreads with only ``codes``' sides: what one locality's outliers read, small
    enough to hand to the process drawing its pack."""
    return {ind: Spread(s.phi, s.overdispersed, s.practices,
                        {c: side for c, side in s.sides.items() if c in codes})
            for ind, s in spreads_.items()}


def said(outside: bool | None, phi: float | None) -> str:
    """``still_outside`` in the words the outliers page and the pack both show."""
    if outside is None:
        return "not assessed"
    if not outside:
        return f"Within (φ {phi:.1f})"
    return f"Still outside (φ {phi:.1f})" if phi and phi > 1 else \
        "Still outside (no more spread than chance)"
