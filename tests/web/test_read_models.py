"""The web app's cached read models give what the shared read models give."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from carepath.domain.benchmarking import profiles
from carepath.web import queries
from carepath.web.cache import VersionedCache
from carepath.web.meta import indicator_meta
from carepath.web.profile_index import ProfileIndex


@pytest.mark.parametrize("code", ["P1", "P2", "P3", "P4", "NOPE"])
def test_profile_index_rows_equal_the_shared_practice_profile(app, web_ws, code):
    with app.state.db.cursor() as con:
        meta = indicator_meta(con)
        expected = profiles.practice_profile(con, code, meta)
        got = ProfileIndex(con).rows(con, code, meta)
    assert [r["indicator_id"] for r in got] == [r["indicator_id"] for r in expected]
    for a, b in zip(got, expected, strict=True):
        for key in b:
            if key in ("value_note", "trend", "value", "lower95", "upper95", "numerator",
                       "denominator") and (a[key] is None or b[key] is None):
                assert (a[key] is None) == (b[key] is None or b[key] != b[key]), key
            else:
                assert a[key] == b[key], key


def test_versioned_cache_rebuilds_when_the_data_change(web_ws, app):
    now = [0.0]
    cache = VersionedCache(clock=lambda: now[0])
    builds = []

    def build(con):
        builds.append(1)
        return len(builds)

    with app.state.db.cursor() as con:
        assert cache.get("k", con, build) == 1
        assert cache.get("k", con, build) == 1
        con.execute("INSERT INTO indicator_values (indicator_id, indicator_version, "
                    "definition_hash, area_code, area_type, period, period_start, period_end,"
                    " breakdown, category, value_state, computed_at) VALUES ('x', '1', 'h', "
                    "'Z', 'practice', '2030', DATE '2030-01-01', DATE '2030-12-31', 'all', "
                    "'all', 'missing', ?)", [datetime(2031, 1, 1)])
        try:
            assert cache.get("k", con, build) == 1  # version looked up at most every 5 s
            now[0] += 10
            assert cache.get("k", con, build) == 2
        finally:
            con.execute("DELETE FROM indicator_values WHERE indicator_id = 'x'")


def test_versioned_cache_follows_the_organisations_too(app):
    """Pages cache organisation names (a URL's code is checked against them), so a renamed
    or added organisation must make the cache rebuild."""
    now = [0.0]
    cache = VersionedCache(clock=lambda: now[0])
    with app.state.db.cursor() as con:
        before = queries.organisation_names(cache, con, "locality")
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('L8', 'New Locality', 'locality', DATE '2015-01-01')")
        try:
            now[0] += 10
            after = queries.organisation_names(cache, con, "locality")
        finally:
            con.execute("DELETE FROM organisations WHERE org_code = 'L8'")
    assert "L8" not in before and after["L8"] == "New Locality"


def test_a_cursor_is_reused_only_after_a_clean_request(app):
    db = app.state.db
    first = db.cursor()
    db.release(first, clean=True)
    assert db.cursor() is first
    db.release(first, clean=False)  # e.g. the request raised mid-transaction
    second = db.cursor()
    assert second is not first
    db.release(second, clean=True)


def test_versioned_cache_drops_least_recently_used(app):
    cache = VersionedCache(max_entries=2)
    with app.state.db.cursor() as con:
        for key in "abc":
            cache.get(key, con, lambda c, k=key: k)
        calls = []
        cache.get("a", con, lambda c: calls.append("a") or "a")
    assert calls == ["a"]


def test_similar_practices_match_the_shared_peer_groups(app):
    from carepath.domain.benchmarking import peers
    from carepath.web.benchmarking import similar_practices

    cache = VersionedCache()
    with app.state.db.cursor() as con:
        features = peers.practice_features(con)
        used = {k: w for k, w in peers.PeerModel().weights.items()
                if features[k].notna().any()}
        model = peers.PeerModel(weights=used)
        expected = peers.peer_groups(features, model)
        for code in ("P1", "P2", "P3", "P4"):
            got = similar_practices(cache, con, code, model)
            want = expected[expected["practice_code"] == code]
            assert list(got["peer_code"]) == list(want["peer_code"])
            assert list(got["distance"]) == pytest.approx(list(want["distance"]))


def test_overdispersion_limits_widen_the_funnel():
    from carepath.web.benchmarking import overdispersed_limits

    rows = [{"value_state": "published", "numerator": x, "denominator": 100}
            for x in (20, 35, 50, 65, 80)]
    limits, facts = overdispersed_limits(rows, "additive")
    assert facts["overdispersed"] and facts["tau2"] > 0
    at100 = min(limits, key=lambda r: abs(r["denominator"] - 100))
    assert at100["upper998"] - at100["lower998"] > 2 * 3.09 * 5  # wider than chance alone
    assert overdispersed_limits(rows, "bogus") is None


def test_benchmarking_views_cope_with_no_registered_population(empty_workspace):
    from carepath.web.benchmarking import list_size, model_description, similar_practices

    cache = VersionedCache()
    with empty_workspace.connect() as con:
        assert list_size(cache, con, "P1") is None
        assert similar_practices(cache, con, "P1").empty
        assert not any(r["used"] for r in model_description(cache, con))


def test_a_value_built_across_an_invalidation_is_not_kept(app):
    """A review recorded while the counts are being read must not leave stale counts."""
    cache = VersionedCache()
    builds = []

    def build(con):
        builds.append(1)
        if len(builds) == 1:
            cache.invalidate("counts")  # the write lands while this build is reading
        return len(builds)

    with app.state.db.cursor() as con:
        assert cache.get("counts", con, build) == 1  # the caller still gets its answer
        assert cache.get("counts", con, build) == 2  # but it was not kept
        assert cache.get("counts", con, build) == 2


def test_no_funnel_for_values_without_a_denominator():
    """A mean score or a count has nothing to place areas by: no empty funnel is drawn."""
    from carepath.web.pages.indicators import funnel

    points = [{"name": n, "value": v, "lower": v - 1, "upper": v + 1, "denominator": None,
               "significance": "similar"} for n, v in (("A", 8.7), ("B", 8.8))]
    assert funnel(points, [], average=8.75, y_title="score") is None
    for p, n in zip(points, (923, 712), strict=True):
        p["denominator"] = n
    assert funnel(points, [], average=8.75, y_title="score") is not None


def test_isr_funnel_has_exact_poisson_limits_around_the_national_ratio():
    rows = [{"value_state": "published", "numerator": o, "denominator": e}
            for o, e in [(90, 100), (420, 400), (30, 35), (1500, 1480)]]
    lines = queries.funnel_limits(rows, "isratio", 100.0)
    assert lines and min(r["denominator"] for r in lines) >= 35 * 0.8
    for key, side in (("lower95", -1), ("upper95", 1), ("lower998", -1), ("upper998", 1)):
        line = [(r["denominator"], r[key]) for r in lines if key in r]
        assert len(line) > 10 and all(side * (y - 100) > 0 for _, y in line)
        # narrower as the expected count grows
        assert all(side * (b[1] - a[1]) <= 1e-9 for a, b in itertools.pairwise(line))
    # at about 1,500 expected the 95% limits are close to 100 +/- 1.96 x 100 / sqrt(E)
    e, upper = max((r["denominator"], r["upper95"]) for r in lines if "upper95" in r)
    assert upper == pytest.approx(100 + 196 / e ** 0.5, abs=0.6)
    assert queries.funnel_limits(rows, "mean", 100.0) == []


def _upper95_near(lines, at):
    return min((abs(r["denominator"] - at), r["upper95"]) for r in lines if "upper95" in r)[1]


def test_crude_rate_funnel_has_exact_poisson_limits_in_person_years():
    # practices: events and mean registered population; national 500 per 100,000 a year
    rows = [{"value_state": "published", "numerator": o, "denominator": n}
            for o, n in [(40, 8000), (30, 6000), (90, 16000), (10, 2500)]]
    one = queries.funnel_limits(rows, "crude_rate", 500.0, multiplier=100_000, years=1.0)
    for key, side in (("lower95", -1), ("upper95", 1), ("lower998", -1), ("upper998", 1)):
        line = [(r["denominator"], r[key]) for r in one if key in r]
        assert len(line) > 10 and all(side * (y - 500) > 0 for _, y in line)
        assert all(side * (b[1] - a[1]) <= 1e-9 for a, b in itertools.pairwise(line))
    # 16,000 people for a year: 80 expected events, limits near 500 x (1 +/- 1.96 / sqrt(80))
    assert _upper95_near(one, 16_000) == pytest.approx(500 * (1 + 1.96 / 80 ** 0.5), rel=0.03)
    # the same people over two years are twice the person-years: narrower limits
    two = queries.funnel_limits(rows, "crude_rate", 500.0, multiplier=100_000, years=2.0)
    assert _upper95_near(two, 8_000) < _upper95_near(one, 8_000)


def test_proportion_funnel_centres_on_the_national_value():
    """The lines surround the national value (here 40%), not the shown areas' pooled 20%."""
    rows = [{"value_state": "published", "numerator": o, "denominator": n}
            for o, n in [(20, 100), (60, 300), (10, 50)]]
    lines = queries.funnel_limits(rows, "proportion", 40.0)
    assert len(lines) > 10 and lines[0]["denominator"] >= 50 * 0.8
    assert all(r["lower998"] < r["lower95"] < 40 < r["upper95"] < r["upper998"] for r in lines)
    at_300 = min(lines, key=lambda r: abs(r["denominator"] - 300))
    assert at_300["upper95"] == pytest.approx(40 + 196 * (0.4 * 0.6 / 300) ** 0.5, abs=0.6)


def test_chart_axis_titles_fit_keep_the_unit_and_cut_at_a_word():
    """The axis once read '... per 100,000 registered pat (per 100,000 per year)'."""
    from carepath.indicators.library import builtin
    from carepath.web.pages.indicators import AXIS_TITLE_CHARS, axis_title

    for d in builtin().values():
        shown = axis_title(d.title, d.unit or "")
        assert len(shown) <= AXIS_TITLE_CHARS and d.unit in shown
        if "…" in shown:
            kept = shown.split("…")[0]
            assert d.title.startswith(kept) and d.title[len(kept)] in " ,;:("
            assert kept.count("(") == kept.count(")")  # no aside left open
        else:
            assert shown.startswith(d.title)
    cut = axis_title("Cancers diagnosed at stage 1 or 2 (of those with a known stage, all "
                     "ages)", "%")
    assert cut == "Cancers diagnosed at stage 1 or 2… (%)"  # it read "(of those with a... (%)"


def test_no_poisson_funnel_for_a_sum_over_weighted_events():
    """Bed days per death: Poisson lines on the days made nearly every practice 'worse'."""
    from carepath.stats.intervals import METHOD_WEIGHTED

    rows = [{"numerator": n, "denominator": d, "value_state": "published", "method": m}
            for n, d in ((80, 10), (300, 40), (900, 100)) for m in ("Byars",)]
    assert queries.funnel_limits(rows, "crude_rate", 8.0, multiplier=1)
    weighted = [dict(r, method=METHOD_WEIGHTED) for r in rows]
    assert queries.funnel_limits(weighted, "crude_rate", 8.0, multiplier=1) == []


def test_a_value_built_across_a_clear_is_not_kept(app):
    """Settings changed while a figure was being worked out (the cache cleared then): the
    figure is its caller's, not kept for the next (a code review)."""
    cache = VersionedCache()
    builds = []

    def build(con):
        builds.append(1)
        if len(builds) == 1:
            cache.clear()
        return len(builds)

    with app.state.db.cursor() as con:
        assert cache.get("figures", con, build) == 1
        assert cache.get("figures", con, build) == 2
        assert cache.get("figures", con, build) == 2

