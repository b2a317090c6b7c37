"""Outliers allowing for the spread between practices (domain/benchmarking/spread.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carepath.domain.benchmarking import spread

NATIONAL_NUM, NATIONAL_DEN = 6_000, 10_000  # 60%


def _practices(counts: list[tuple[int, int]], indicator="screening", state="published"):
    return pd.DataFrame({
        "indicator_id": indicator, "area_code": [f"P{i}" for i in range(len(counts))],
        "numerator": [float(x) for x, _ in counts], "denominator": [float(n) for _, n in counts],
        "value_state": state})


def _national(indicator="screening", num=NATIONAL_NUM, den=NATIONAL_DEN):
    return pd.DataFrame({"indicator_id": [indicator], "numerator": [float(num)],
                         "denominator": [float(den)]})


def _independent_phi(x, n, target, winsor=0.1):
    """Spiegelhalter (2005): the mean square of the winsorised z-scores."""
    z = (x / n - target) / np.sqrt(target * (1 - target) / n)
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


# Twenty practices of 1,000 spread far more than chance (45% to 74%), one far below.
SPREAD_OUT = [(450 + 15 * i, 1_000) for i in range(20)] + [(200, 1_000)]


def test_wide_spread_widens_the_limits_so_only_the_extreme_stays_outside():
    found = spread.spreads(_practices(SPREAD_OUT), _national(), {"screening": "proportion"})
    s = found["screening"]
    x = np.array([c for c, _ in SPREAD_OUT], dtype=float)
    assert s.overdispersed and s.phi == pytest.approx(_independent_phi(x, 1_000.0, 0.6))
    assert s.phi > 10
    # 45% is beyond a chance-only 99.8% interval about 60% (n = 1,000) but not beyond the
    # spread; 20% is beyond both.
    assert spread.still_outside(s, "P0", "low") is False
    assert spread.still_outside(s, "P20", "low") is True
    assert spread.still_outside(s, "P20", "high") is False  # the other side


def test_no_more_spread_than_chance_keeps_the_judgement():
    close = [(600 + (i % 3) - 1, 1_000) for i in range(20)]
    s = spread.spreads(_practices(close), _national(), {"screening": "proportion"})["screening"]
    assert not s.overdispersed and s.phi == 1.0
    assert spread.still_outside(s, "P3", "low") is True


@pytest.mark.parametrize("statistic", ["dsr", "mean", None])
def test_statistics_without_a_single_count_are_not_assessed(statistic):
    found = spread.spreads(_practices(SPREAD_OUT), _national(), {"screening": statistic})
    assert found == {}
    assert spread.still_outside(found.get("screening"), "P20", "low") is None


def test_too_few_practices_unpublished_rows_and_unknown_areas_are_not_assessed():
    few = SPREAD_OUT[: spread.MIN_PRACTICES_FOR_SPREAD - 1]
    assert spread.spreads(_practices(few), _national(), {"screening": "proportion"}) == {}
    suppressed = _practices(SPREAD_OUT, state="suppressed")
    assert spread.spreads(suppressed, _national(), {"screening": "proportion"}) == {}
    s = spread.spreads(_practices(SPREAD_OUT), _national(), {"screening": "proportion"})
    assert spread.still_outside(s["screening"], "NOT-A-PRACTICE", "low") is None


def test_a_rate_is_judged_about_the_national_rate_on_its_own_scale():
    # 20 practices of 10,000 people with 20-60 events (2-6 per 1,000) and one of 150.
    events = [(20 + 2 * i, 10_000) for i in range(20)] + [(150, 10_000)]
    s = spread.spreads(_practices(events, "rate"), _national("rate", 800, 200_000),
                       {"rate": "crude_rate"})["rate"]
    assert s.overdispersed
    assert spread.still_outside(s, "P20", "high") is True
    assert spread.still_outside(s, "P0", "low") is False


def test_one_localitys_slice_judges_as_the_whole_and_is_said_in_one_way():
    whole = spread.spreads(_practices(SPREAD_OUT), _national(), {"screening": "proportion"})
    mine = spread.for_practices(whole, {"P0", "P20"})
    assert set(mine["screening"].sides) == {"P0", "P20"}
    for code in ("P0", "P20"):
        assert spread.still_outside(mine["screening"], code, "low") == \
            spread.still_outside(whole["screening"], code, "low")
    phi = whole["screening"].phi
    assert spread.said(True, phi) == f"Still outside (φ {phi:.1f})"
    assert spread.said(False, phi) == f"Within (φ {phi:.1f})"
    assert spread.said(True, 1.0) == "Still outside (no more spread than chance)"
    assert spread.said(None, None) == "not assessed"
