"""Statistics core: Carepath against PHStatsMethods (DHSC's Python port of the PHE methods).

Side by side in one run: proportions and rates for 100,000 groups at 95% and 99.8%, in
Carepath (vectorised numpy) and in PHStatsMethods (``pip install -e '.[bench]'``); plus
1,000,000 Wilson intervals and a DSR for 100,000 areas x 19 age bands. Both sides get the
same data frame (one row per group) and return a data frame with both levels' limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from carepath import stats
from carepath.stats import table

GROUPS_FULL, GROUPS_QUICK = 100_000, 10_000
WILSON_N = 1_000_000
DSR_AREAS_FULL, DSR_AREAS_QUICK = 100_000, 10_000
TARGET_RATIO = 200  # Carepath must be at least this many times faster than the peer
WILSON_TARGET_S = 0.2
LEVELS = (stats.CONF_95, stats.CONF_998)
SEED = 20240501


def _best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _frame(groups: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    n = rng.integers(500, 20_000, groups)
    # x >= 1: PHStatsMethods' Byars path rejects a zero count
    return pd.DataFrame({"area": np.arange(groups), "x": rng.integers(1, 400, groups), "n": n})


def _carepath_frame(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """What a caller with one row per group does: arrays in, one frame out."""
    fn = stats.proportion if method == "proportion" else stats.rate
    x, n = df["x"].to_numpy(float), df["n"].to_numpy(float)
    out = df.copy()
    for c in LEVELS:
        for key, col in fn(x, n, confidence=c).to_dict().items():
            out[key] = col
    return out


def _peer(method: str) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    try:
        import PHStatsMethods as phs
    except ImportError:
        return None
    fn = phs.ph_proportion if method == "proportion" else phs.ph_rate
    return lambda df: fn(df, "x", "n", group_cols="area", confidence=list(LEVELS))


def _carepath_grouped(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """The `carepath stats` path: group-by sums with PHE's NA rule, then both levels."""
    return table.compute_table(df, method, numerator="x", denominator="n", groups=["area"],
                               confidence=LEVELS)


def _side_by_side(method: str, groups: int) -> list[dict]:
    df = _frame(groups)
    peer_fn = _peer(method)
    theirs = _best_of(lambda: peer_fn(df), repeats=1) if peer_fn else None
    rows = []
    for how, fn in (("arrays", _carepath_frame), ("grouped table", _carepath_grouped)):
        ours = _best_of(lambda fn=fn: fn(df, method))
        ratio = theirs / ours if theirs else None
        label = f"{method} ({how}): {groups:,} groups x 2 levels"
        print(f"{label}: carepath {ours:.4f} s, PHStatsMethods "
              f"{'not installed' if theirs is None else f'{theirs:.2f} s'}"
              f"{'' if ratio is None else f', {ratio:,.0f}x faster'}", flush=True)
        rows.append({"benchmark": label, "value": ours, "unit": "s",
                     "target": f">= {TARGET_RATIO}x", "peer": theirs, "ratio": ratio})
    return rows


def _wilson() -> dict:
    rng = np.random.default_rng(SEED)
    n = rng.integers(1, 100_000, WILSON_N).astype(float)
    x = np.floor(rng.random(WILSON_N) * n)
    secs = _best_of(lambda: stats.proportion(x, n))
    print(f"Wilson x {WILSON_N:,}: {secs:.3f} s (target < {WILSON_TARGET_S} s)", flush=True)
    return {"benchmark": f"{WILSON_N:,} Wilson intervals", "value": secs, "unit": "s",
            "target": f"< {WILSON_TARGET_S}", "peer": None, "ratio": None}


def _dsr(areas: int) -> dict:
    rng = np.random.default_rng(SEED)
    n = rng.integers(50, 5_000, (areas, len(stats.ESP2013))).astype(float)
    x = rng.binomial(n.astype(int), 0.01).astype(float)
    secs = _best_of(lambda: stats.dsr(x, n))
    print(f"DSR {areas:,} areas x 19 bands: {secs:.3f} s", flush=True)
    return {"benchmark": f"DSR {areas:,} areas x 19 bands", "value": secs, "unit": "s",
            "target": None, "peer": None, "ratio": None}


def run(quick: bool) -> list[dict]:
    groups = GROUPS_QUICK if quick else GROUPS_FULL
    rows = _side_by_side("proportion", groups) + _side_by_side("rate", groups)
    rows.append(_wilson())
    rows.append(_dsr(DSR_AREAS_QUICK if quick else DSR_AREAS_FULL))
    return rows
