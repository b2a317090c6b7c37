"""Peer groups, opportunity with uncertainty, reliability and overdispersion for the pages,
on top of ``carepath.domain.benchmarking`` and ``carepath.stats`` (cached per data version).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from carepath.domain.benchmarking import opportunity, peers, profiles
from carepath.web.cache import VersionedCache

# Fingertips publishes practice profiles only from a list size of 750: below it single-year
# values are mostly noise (the same threshold as the locality packs).
SMALL_PRACTICE_LIST = 750
# Opportunity needs posterior draws for every practice of the period (1.3 s for 1,000,
# once per indicator and period: an ICB has up to about 450); on more, the page says why
# it has none.
MAX_OPPORTUNITY_PRACTICES = 1000
OVERDISPERSION_METHODS = ("additive", "multiplicative")


def _features(cache: VersionedCache, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    # Keyed by the indicator-values version: features change with loads, which come with
    # a recompute in practice.
    return cache.get("peer_features", con, lambda c: peers.practice_features(c))


def similar_practices(cache: VersionedCache, con: duckdb.DuckDBPyConnection, code: str,
                      model: peers.PeerModel | None = None) -> pd.DataFrame:
    """The practice's peer group, as ``peers.peer_groups`` ranks it, from one row of
    distances (the full matrix of an England workspace would not fit in memory)."""
    model = model or peers.PeerModel()
    features = _features(cache, con)
    if features.empty or "list_size" not in features.columns:
        return pd.DataFrame(columns=["peer_code", "name", "rank", "distance", "list_size"])
    # A feature nobody has (no IMD or rurality loaded) cannot separate practices: leave it
    # out rather than let it turn every distance into NaN.
    usable = {k: w for k, w in model.weights.items() if features[k].notna().any()}
    model = peers.PeerModel(weights=usable, group_size=model.group_size)
    codes = features["practice_code"].to_numpy()
    hits = np.flatnonzero(codes == code)
    if len(codes) < 2 or not len(hits) or not usable:
        return pd.DataFrame(columns=["peer_code", "name", "rank", "distance", "list_size"])
    z = peers._scaled(features, model)
    d = np.sqrt(((z - z[hits[0]]) ** 2).sum(axis=1))
    d[hits[0]] = np.inf
    k = min(model.group_size, len(codes) - 1)
    order = np.lexsort((np.arange(len(codes)), d))[:k]
    return pd.DataFrame({"peer_code": codes[order], "name": features["name"].to_numpy()[order],
                         "rank": np.arange(1, k + 1), "distance": d[order],
                         "list_size": features["list_size"].to_numpy()[order]})


def model_description(cache: VersionedCache, con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The similarity model as used: features without data are left out (and said so)."""
    features = _features(cache, con)
    rows = peers.PeerModel().describe()
    for r in rows:
        r["used"] = bool(features[r["feature"]].notna().any()) if len(features) else False
    return rows


def list_size(cache: VersionedCache, con: duckdb.DuckDBPyConnection, code: str) -> int | None:
    features = _features(cache, con)
    if "list_size" not in features.columns:  # no registered-population data loaded
        return None
    hit = features.loc[features["practice_code"] == code, "list_size"]
    return None if hit.empty else int(hit.iloc[0])


def practice_opportunity(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                         rows: list[dict], every: pd.DataFrame, *, key: tuple,
                         higher_is_better: bool | None, statistic: str | None
                         ) -> opportunity.Opportunity | None:
    """Gain if every practice in ``rows`` matched the top quartile of its peers, estimated
    over ``every`` practice of the period (the rows of all of them, unscoped): the figure
    for a practice is the same whoever looks and whatever the page narrows to."""
    if higher_is_better is None or statistic != "proportion":
        return None
    shown = [r["area_code"] for r in rows if r["value_state"] == "published"
             and r["numerator"] is not None and r["denominator"]]
    usable = every[(every["value_state"] == "published") & every["numerator"].notna()
                   & (every["denominator"] > 0)]
    if not shown or not 2 <= len(usable) <= MAX_OPPORTUNITY_PRACTICES:
        return None
    values = pd.DataFrame({"practice_code": usable["area_code"],
                           "numerator": usable["numerator"].astype(float),
                           "denominator": usable["denominator"].astype(float)})

    def build(c):
        groups = _peer_groups_of(cache, c, list(values["practice_code"]))
        if groups.empty:
            return None
        return opportunity.estimate(values, groups, higher_is_better=higher_is_better,
                                    statistic=statistic, counted=shown)

    return cache.get(("opportunity", *key, tuple(shown)), con, build)


def practice_spreads(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                     meta: dict) -> dict:
    """The practices' spreads for outliers (``profiles.practice_spreads``): one for every
    locality, worked out once a data version (England's took 0.9 s a request: a review)."""
    return cache.get(("practice_spreads",), con,
                     lambda c: profiles.practice_spreads(c, meta))


def _peer_groups_of(cache, con, codes: list[str]) -> pd.DataFrame:
    parts = []
    for code in codes:
        g = similar_practices(cache, con, code)
        if not g.empty:
            parts.append(pd.DataFrame({"practice_code": code, "peer_code": g["peer_code"],
                                       "rank": g["rank"], "distance": g["distance"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def overdispersed_limits(rows: list[dict], method: str, multiplier: float = 100.0,
                         higher_is_better: bool | None = None,
                         every: list[dict] | None = None
                         ) -> tuple[list[dict], dict] | None:
    """Overdispersion-adjusted (Spiegelhalter) funnel lines around the areas' pooled value,
    and the estimate (phi, tau^2) to show beside the chart, with each area judged against
    those lines at 95% (``facts["judged"]``: area code -> better / worse / higher / lower /
    similar): coloured by the chance-only comparison, areas inside the adjusted lines read
    "Better" (a walkthrough). ``every``: all the level's areas, whoever looks, that the
    dispersion is estimated from (from the rows shown, an area's colour depended on who
    looked: a review); ``rows`` are the areas judged."""
    from carepath.stats import StatsInputError
    from carepath.stats.funnels import CONF_95, CONF_998
    from carepath.stats.overdispersion import od_funnel_limits, overdispersion

    def usable(found: list[dict]) -> list[dict]:
        return [r for r in found if r["value_state"] == "published"
                and r["numerator"] is not None and r["denominator"]]

    used = usable(rows)
    pairs = [(r["numerator"], r["denominator"]) for r in usable(every or rows)]
    if len(pairs) < 2 or not used or method not in OVERDISPERSION_METHODS:
        return None
    x, n = (np.array(v, dtype=float) for v in zip(*pairs, strict=True))
    try:
        od = overdispersion(x, n, statistic="proportion")
    except StatsInputError:  # every area at 0% or 100%: no spread to estimate
        return None
    shown = np.array([r["denominator"] for r in used], dtype=float)  # the lines span these
    axis = np.unique(np.geomspace(max(1.0, shown.min() * 0.8), shown.max() * 1.1, 60).round())
    lim = od_funnel_limits(axis, od, method=method, multiplier=multiplier)
    out = [{"denominator": float(a),
            "lower95": float(lim.lower[CONF_95][i]), "upper95": float(lim.upper[CONF_95][i]),
            "lower998": float(lim.lower[CONF_998][i]),
            "upper998": float(lim.upper[CONF_998][i])} for i, a in enumerate(axis)]
    own = od_funnel_limits(shown, od, method=method, multiplier=multiplier, confidence=CONF_95)
    judged = {r["area_code"]: _side(r["value"], own.lower[CONF_95][i], own.upper[CONF_95][i],
                                    higher_is_better)
              for i, r in enumerate(used) if r.get("value") is not None and "area_code" in r}
    facts = {"phi": od.phi, "tau2": od.tau2, "overdispersed": od.overdispersed,
             "target": od.target * multiplier, "areas": od.areas, "method": method,
             "judged": judged}
    return out, facts


def _side(value: float, lower: float, upper: float, higher_is_better: bool | None) -> str:
    if lower <= value <= upper:
        return "similar"
    high = value > upper
    if higher_is_better is None:
        return "higher" if high else "lower"
    return "better" if high == higher_is_better else "worse"
