"""The web app's cached read models give what the shared read models give."""

from __future__ import annotations

from datetime import datetime

import pytest

from carepath.domain.benchmarking import profiles
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


def test_versioned_cache_drops_least_recently_used(app):
    cache = VersionedCache(max_entries=2)
    with app.state.db.cursor() as con:
        for key in "abc":
            cache.get(key, con, lambda c, k=key: k)
        calls = []
        cache.get("a", con, lambda c: calls.append("a") or "a")
    assert calls == ["a"]
