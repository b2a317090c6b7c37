from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from carepath.domain.benchmarking import opportunity, peers
from carepath.domain.benchmarking.peer_review import ReviewInput, record_review, reviews
from carepath.errors import ValidationError


def _features(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "practice_code": [f"P{i:03d}" for i in range(n)],
            "log_list_size": rng.normal(9, 0.5, n),
            "pct_65_plus": rng.normal(18, 4, n),
            "pct_under_15": rng.normal(17, 3, n),
            "imd_score": rng.normal(20, 8, n),
            "rurality": rng.choice([0.0, 0.5, 1.0], n),
        }
    )


def test_peer_groups_are_nearest_by_weighted_distance_and_exclude_self():
    f = _features()
    g = peers.peer_groups(f)
    assert (g["practice_code"] != g["peer_code"]).all()
    assert g.groupby("practice_code").size().eq(peers.PEER_GROUP_SIZE).all()
    # ranks follow distance
    assert g.groupby("practice_code")["distance"].apply(lambda d: d.is_monotonic_increasing).all()
    # brute-force check of one practice's nearest peer
    z = peers._scaled(f, peers.PeerModel())
    d = np.sqrt(((z - z[0]) ** 2).sum(axis=1))
    d[0] = np.inf
    assert g[g.practice_code == "P000"].iloc[0]["peer_code"] == f.practice_code[int(np.argmin(d))]


def test_identical_twin_is_the_nearest_peer():
    f = _features()
    twin = f.iloc[[5]].assign(practice_code="TWIN")
    g = peers.peer_groups(pd.concat([f, twin], ignore_index=True))
    assert g[(g.practice_code == "TWIN") & (g["rank"] == 1)]["peer_code"].item() == "P005"


def test_a_feature_with_no_data_plays_no_part():
    f = _features()
    without_imd = peers.peer_groups(f.assign(imd_score=np.nan))
    assert without_imd["distance"].notna().all()
    model = peers.PeerModel(weights={k: v for k, v in peers.PeerModel().weights.items()
                                     if k != "imd_score"})
    expected = peers.peer_groups(f.drop(columns=["imd_score"]), model)
    pd.testing.assert_frame_equal(without_imd.reset_index(drop=True),
                                  expected.reset_index(drop=True))


def test_peer_model_is_described_openly():
    rows = peers.PeerModel().describe()
    assert {r["feature"] for r in rows} == set(peers.PeerModel().weights)
    assert all(r["meaning"] for r in rows)


def _simulate(true_rates, n, seed):
    rng = np.random.default_rng(seed)
    return rng.binomial(n, true_rates)


def _all_peers(codes):
    rows = [(a, b, r + 1) for a in codes for r, b in enumerate(c for c in codes if c != a)]
    return pd.DataFrame(rows, columns=["practice_code", "peer_code", "rank"])


def test_no_real_variation_gives_little_opportunity_unlike_naive_sum():
    codes = [f"P{i:02d}" for i in range(40)]
    n = np.full(40, 60)
    x = _simulate(np.full(40, 0.5), n, seed=1)
    values = pd.DataFrame({"practice_code": codes, "numerator": x, "denominator": n})
    est = opportunity.estimate(values, _all_peers(codes), higher_is_better=True, draws=500)
    # Everyone has the same true rate: the naive sum of gaps is pure noise.
    assert est.naive_total > 3 * est.total
    assert est.lower <= est.total <= est.upper


def test_real_variation_among_large_practices_is_not_hidden_by_many_small_ones():
    """The unweighted variance of rates, less chance at the mean denominator, put the real
    spread of two large practices (40% and 60% of 1,000) at nothing beside twenty of 10
    at 50%, and every practice was pulled onto the average (an opportunity of 1 where
    practices varied beyond chance: an independent check). The prior is now the one
    ``stats.shrink`` fits, each practice weighted by its denominator."""
    from carepath.stats import shrink

    x = np.array([400.0, 600.0] + [5.0] * 20)
    n = np.array([1000.0, 1000.0] + [10.0] * 20)
    strength = opportunity._prior_strength(x, n, "proportion")
    assert strength == pytest.approx(shrink(x, n).prior_strength)
    assert strength < 100 < n.sum()  # a real spread, not "everyone is the average"


def test_real_variation_interval_covers_true_gain():
    codes = [f"P{i:02d}" for i in range(60)]
    rng = np.random.default_rng(7)
    true = rng.uniform(0.3, 0.7, 60)
    n = np.full(60, 2000)
    x = _simulate(true, n, seed=2)
    values = pd.DataFrame({"practice_code": codes, "numerator": x, "denominator": n})
    all_peers = _all_peers(codes)
    est = opportunity.estimate(values, all_peers, higher_is_better=True, draws=800)
    idx = np.array([[j for j in range(60) if j != i] for i in range(60)])
    bench = np.quantile(true[idx], 0.75, axis=1)
    true_gain = (np.clip(bench - true, 0, None) * n).sum()
    assert est.lower <= true_gain <= est.upper
    assert "95% interval" in est.sentence("more cancers diagnosed early")


def test_a_practices_gain_is_the_same_whichever_practices_are_counted():
    """Peers, the prior and their number come from every practice; only the sum is of
    the practices counted: estimated on the practices a page showed, a locality read
    '0 (0–0)' and the localities' gains summed to half the whole (a walkthrough)."""
    codes = [f"P{i:02d}" for i in range(40)]
    rng = np.random.default_rng(3)
    n = np.full(40, 500)
    values = pd.DataFrame({"practice_code": codes, "denominator": n,
                           "numerator": _simulate(rng.uniform(0.3, 0.7, 40), n, seed=4)})
    peers_of = _all_peers(codes)
    whole = opportunity.estimate(values, peers_of, higher_is_better=True, draws=300)
    halves = [opportunity.estimate(values, peers_of, higher_is_better=True, draws=300,
                                   counted=part) for part in (codes[:13], codes[13:])]
    assert sum(h.naive_total for h in halves) == pytest.approx(whole.naive_total)
    by_code = whole.per_practice.set_index("practice_code")
    for half in halves:
        assert half.counted < half.practices == 40
        assert half.per_practice.set_index("practice_code")["benchmark"].to_dict() == \
            pytest.approx(by_code["benchmark"].loc[half.per_practice["practice_code"]].to_dict())
    assert "each of these 13 practices" in halves[0].sentence("more")
    assert "every practice" in whole.sentence("more")


def test_rates_and_low_is_good_are_supported():
    codes = [f"P{i:02d}" for i in range(20)]
    n = np.full(20, 10_000)
    x = np.r_[np.full(10, 20), np.full(10, 60)]
    values = pd.DataFrame({"practice_code": codes, "numerator": x, "denominator": n})
    est = opportunity.estimate(values, _all_peers(codes), higher_is_better=False,
                               statistic="rate", draws=400)
    assert est.total > 0
    assert est.per_practice.set_index("practice_code").loc["P15", "gain"] > 0
    assert est.per_practice.set_index("practice_code").loc["P05", "gain"] == pytest.approx(0, abs=1)


def test_peer_review_record_is_audited(empty_workspace):
    ws = empty_workspace
    rid = record_review(
        ws, by="dr.lead",
        review=ReviewInput("emergency_presentation_pct", "P001", "2024/25", date(2025, 5, 1),
                           explanation="care home cluster", accepted=True,
                           action="audit 10 cases", owner="Dr A", due_date=date(2025, 7, 1)),
    )
    with ws.connect(read_only=True) as con:
        got = reviews(con, ["P001"])
        audit = con.execute("SELECT actor, action, target FROM audit_log").fetchall()
    assert got["review_id"].tolist() == [rid]
    assert audit == [("dr.lead", "peer_review.add", rid)]


def test_peer_review_rejects_due_date_before_meeting(empty_workspace):
    with pytest.raises(ValidationError, match="before the meeting"):
        record_review(
            empty_workspace, by="x",
            review=ReviewInput("i", "P1", "2024", date(2025, 5, 1), due_date=date(2025, 1, 1)),
        )
    with empty_workspace.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM peer_reviews").fetchone()[0] == 0


def test_the_peers_top_quartile_is_numpys_linear_quantile():
    """Taken from sorted peers for speed (np.nanquantile took 25 s for 300 practices)."""
    from carepath.domain.benchmarking.opportunity import _benchmarks

    rng = np.random.default_rng(5)
    rates, peers = rng.random((30, 40)), rng.integers(0, 40, (40, 7))
    for higher, q in ((True, 0.75), (False, 0.25)):
        np.testing.assert_allclose(_benchmarks(rates, peers, higher),
                                   np.quantile(rates[..., peers], q, axis=-1))
    rates[0, 3] = np.nan  # a missing rate: numpy's own nan-aware quantile
    np.testing.assert_allclose(_benchmarks(rates, peers, True),
                               np.nanquantile(rates[..., peers], 0.75, axis=-1))
