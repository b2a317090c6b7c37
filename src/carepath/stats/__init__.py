"""Carepath statistics core: PHE/OHID indicator methods, funnels, inequality, SPC.

numpy arrays in, arrays out; scalars broadcast. See docs/methods/ for each method, its
formulas, edge cases and the peer implementation it is tested against.
"""

from __future__ import annotations

from carepath.stats import spc
from carepath.stats._validate import CONF_95, CONF_998, LEVEL_SAID, StatsInputError, level_tag
from carepath.stats.funnels import (
    FunnelLimits,
    funnel_labels,
    funnel_limits,
    funnel_points,
    funnel_significance,
    with_polarity,
)
from carepath.stats.inequality import SiiResult, quantiles, sii
from carepath.stats.intervals import (
    EXACT_BELOW,
    Interval,
    mean,
    mean_from_summary,
    proportion,
    rate,
    rate_methods,
    weighted_rate,
    z_value,
)
from carepath.stats.lifetable import LifeTable, life_expectancy
from carepath.stats.overdispersion import (
    Overdispersion,
    od_funnel_limits,
    od_funnel_significance,
    overdispersion,
)
from carepath.stats.reliability import Shrinkage, reliability, shrink
from carepath.stats.standardise import (
    DSR_MIN_EVENTS,
    ESP2013,
    dsr,
    dsr_non_independent,
    expected_counts,
    israte,
    isratio,
)
from carepath.stats.trend import TrendMarker, trend_labels, trend_marker

isr = israte  # the short name

__all__ = [
    "CONF_95",
    "CONF_998",
    "DSR_MIN_EVENTS",
    "ESP2013",
    "EXACT_BELOW",
    "LEVEL_SAID",
    "FunnelLimits",
    "Interval",
    "LifeTable",
    "Overdispersion",
    "Shrinkage",
    "SiiResult",
    "StatsInputError",
    "TrendMarker",
    "dsr",
    "dsr_non_independent",
    "expected_counts",
    "funnel_labels",
    "funnel_limits",
    "funnel_points",
    "funnel_significance",
    "isr",
    "israte",
    "isratio",
    "level_tag",
    "life_expectancy",
    "mean",
    "mean_from_summary",
    "od_funnel_limits",
    "od_funnel_significance",
    "overdispersion",
    "proportion",
    "quantiles",
    "rate",
    "rate_methods",
    "reliability",
    "shrink",
    "sii",
    "spc",
    "trend_labels",
    "trend_marker",
    "weighted_rate",
    "with_polarity",
    "z_value",
]
