"""Building blocks: sampling helpers (property tests), England geography, anchors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from carepath.synth import anchors
from carepath.synth.context import Window, age_profile, categorical, lognormal_days
from carepath.synth.eol import prior_cancer_share
from carepath.synth.geography import _split, build_geography, organisation_rows


@given(st.integers(1, 500), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_split_gives_every_group_at_least_one(n, groups, seed):
    groups = min(groups, n)
    out = _split(np.random.default_rng(seed), n, groups)
    assert len(out) == n
    assert set(out.tolist()) == set(range(groups))


@example([[0.0, 0.0, 0.0], [0.0, 0.0, 5e-324]], 0)  # a total so small u was 0 (CI)
@given(st.lists(st.lists(st.floats(0.0, 10.0), min_size=3, max_size=3), min_size=1,
                max_size=30), st.integers(0, 2**32 - 1))
def test_categorical_picks_only_possible_categories(rows, seed):
    probs = np.array(rows)
    probs[probs.sum(axis=1) == 0, 0] = 1.0
    draw = categorical(np.random.default_rng(seed), probs)
    assert ((draw >= 0) & (draw < 3)).all()
    assert (probs[np.arange(len(draw)), draw] > 0).all()


@settings(max_examples=20, deadline=None)
@given(st.floats(0.3, 0.95), st.integers(7, 62))
def test_lognormal_days_meets_its_quantile(within, limit):
    d = lognormal_days(np.random.default_rng(0), 50_000, within, limit, 0.6)
    assert abs((d <= limit).mean() - within) < 0.02


@given(st.floats(-1.0, 1.0))
def test_age_profile_is_a_distribution(tilt):
    prof = age_profile(np.array([tilt]))
    assert prof.shape == (1, 2, anchors.N_BANDS)
    assert np.isclose(prof.sum(), 1.0) and (prof >= 0).all()


def test_prior_cancer_share_falls_as_the_window_fills():
    share = prior_cancer_share(np.arange(8))
    assert (np.diff(share) < 0).all() and 0 < share[-1] < share[0] < 1


def test_window_covers_whole_financial_years():
    w = Window(5)
    q = w.quarter_starts()
    assert str(w.start) == "2020-04-01" and str(w.end) == "2025-03-31"
    assert len(q) == 20 and str(q[0]) == "2020-04-01" and str(q[-1]) == "2025-01-01"


def test_england_geography_matches_the_brief():
    geo = build_geography("england", np.random.default_rng(1))
    p = geo.practices
    assert len(geo.icbs) == 42 and len(geo.sub_icbs) == 106 and len(geo.pcns) == 1250
    assert len(p) == 6300 and abs(p.list_size.sum() - 63_000_000) < 100_000
    assert len(set(p.icb.tolist())) == 42 and len(set(p.pcn.tolist())) == 1250
    orgs, hier = organisation_rows(geo)
    assert len({o[0] for o in orgs}) == len(orgs)
    assert len(hier) > 7 * len(p)


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="unknown scale"):
        build_geography("moon", np.random.default_rng(1))


@pytest.mark.parametrize("scale", ["county", "england"])
def test_planted_practices_are_distinct_and_sizeable(scale):
    from carepath.synth.planted import plant

    geo = build_geography(scale, np.random.default_rng(3))
    planted = plant(geo, np.random.default_rng(4), anchors.PREFERRED_PLACE_ACHIEVED)
    practices = [e["org_code"] for e in planted.entries
                 if e["org_type"] == "practice" and e["kind"] != "pcn_change"]
    assert len(practices) == len(set(practices))
    size = dict(zip(geo.practices.code, geo.practices.list_size, strict=True))
    assert min(size[c] for c in practices) >= np.median(geo.practices.list_size)
    assert (planted.hna_trust_shift < -1).sum() == 1
    assert len(geo.pcn_moves) == 1
