"""Peer groups: each practice's most similar practices, with the model shown openly.

RightCare's "Similar 10" was criticised for a fixed, poorly specified peer model (Dropkin
2018). Here the model is explicit and printable: the features, how they are scaled, their
weights and the distance, so a lead GP can see why two practices are peers and argue with it.
Age structure is in the model because cancer incidence rises steeply with age; deprivation
because emergency presentation and screening follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

PEER_GROUP_SIZE = 10
RURALITY_SCORES = {"urban": 0.0, "town": 0.5, "rural": 1.0}
OLDER_AGE_BANDS = ("65-69", "70-74", "75-79", "80-84", "85-89", "90+")
CHILD_AGE_BANDS = ("0-4", "5-9", "10-14")


@dataclass(frozen=True)
class PeerModel:
    """Features, weights and group size of the similarity model."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "log_list_size": 1.0,
            "pct_65_plus": 1.0,
            "pct_under_15": 1.0,
            "imd_score": 1.0,
            "rurality": 0.5,
        }
    )
    group_size: int = PEER_GROUP_SIZE

    def describe(self) -> list[dict]:
        """Plain-language rows for the page and the pack appendix."""
        meaning = {
            "log_list_size": "registered list size (log scale)",
            "pct_65_plus": "% of patients aged 65 and over",
            "pct_under_15": "% of patients aged under 15",
            "imd_score": "deprivation (registration-weighted IMD score)",
            "rurality": "rurality (urban 0, town 0.5, rural 1)",
        }
        return [
            {"feature": k, "meaning": meaning[k], "weight": w} for k, w in self.weights.items()
        ]


def practice_features(con: duckdb.DuckDBPyConnection, on: date | None = None) -> pd.DataFrame:
    """One row per practice with the model's features, from the quarter nearest ``on``."""
    quarter = con.execute(
        "SELECT max(quarter_start) FROM registered_population"
        + ("" if on is None else " WHERE quarter_start <= ?"),
        [] if on is None else [on],
    ).fetchone()[0]
    if quarter is None:
        return pd.DataFrame(columns=["practice_code", *PeerModel().weights])
    older = ", ".join(f"'{b}'" for b in OLDER_AGE_BANDS)
    child = ", ".join(f"'{b}'" for b in CHILD_AGE_BANDS)
    df = con.execute(
        f"""
        WITH pop AS (
          SELECT practice_code,
                 sum(population) AS list_size,
                 sum(population) FILTER (WHERE age_band IN ({older})) AS older,
                 sum(population) FILTER (WHERE age_band IN ({child})) AS children
          FROM registered_population WHERE quarter_start = ? GROUP BY practice_code
        ), org AS (
          SELECT org_code, arg_max(name, valid_from) AS name, any_value(imd_score) AS imd_score,
                 any_value(rurality) AS rurality
          FROM organisations WHERE org_type = 'practice' GROUP BY org_code
        )
        SELECT pop.practice_code, org.name, pop.list_size,
               100.0 * coalesce(older, 0) / list_size AS pct_65_plus,
               100.0 * coalesce(children, 0) / list_size AS pct_under_15,
               org.imd_score, org.rurality
        FROM pop LEFT JOIN org ON org.org_code = pop.practice_code
        WHERE list_size > 0
        ORDER BY pop.practice_code
        """,
        [quarter],
    ).df()
    df["log_list_size"] = np.log(df["list_size"].astype(float))
    df["rurality"] = df["rurality"].map(RURALITY_SCORES).astype(float)
    return df


def _scaled(features: pd.DataFrame, model: PeerModel) -> np.ndarray:
    cols = list(model.weights)
    x = features[cols].astype(float).to_numpy(copy=True)
    # A feature with no data at all (e.g. no IMD loaded) plays no part in the distance.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    # A missing value sits at the mean, so it neither attracts nor repels peers.
    mean = np.nanmean(x, axis=0)
    x = np.where(np.isnan(x), mean, x)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - mean) / sd * np.sqrt(np.array([model.weights[c] for c in cols]))


def peer_groups(features: pd.DataFrame, model: PeerModel | None = None) -> pd.DataFrame:
    """For each practice, its ``group_size`` nearest practices by weighted distance.

    Returns columns practice_code, peer_code, rank (1 = most similar), distance.
    """
    model = model or PeerModel()
    codes = features["practice_code"].to_numpy()
    if len(codes) < 2:
        return pd.DataFrame(columns=["practice_code", "peer_code", "rank", "distance"])
    z = _scaled(features, model)
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    k = min(model.group_size, len(codes) - 1)
    # Ties broken by practice code so peer groups are reproducible.
    order = np.lexsort((np.broadcast_to(np.arange(len(codes)), d.shape), d), axis=1)[:, :k]
    rows = {
        "practice_code": np.repeat(codes, k),
        "peer_code": codes[order].ravel(),
        "rank": np.tile(np.arange(1, k + 1), len(codes)),
        "distance": np.take_along_axis(d, order, axis=1).ravel(),
    }
    return pd.DataFrame(rows)


def user_groups(config: dict) -> dict[str, list[str]]:
    """User-defined practice groups from carepath.toml ``[groups]`` (name = [codes])."""
    groups = config.get("groups", {})
    return {str(k): [str(c) for c in v] for k, v in groups.items() if isinstance(v, list)}
