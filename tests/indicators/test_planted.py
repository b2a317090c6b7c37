"""End to end on synthetic Wessex: the engine finds the variation the generator planted.

The planted manifest is the ground truth; each planted practice, trust or locality must lie on
the planted side of the workspace ("national") value in most years and be flagged as
significantly different in that direction in at least one (small practices have wide
intervals, which is the point of the intervals).
"""

from __future__ import annotations

import json

import pytest

from carepath.engine.run import compute
from carepath.indicators.library import builtin

# planted kind -> (indicator, judgement the engine must give)
EXPECTED = {
    "high_emergency_presentation": ("emergency_presentation_pct", "worse"),
    "low_early_stage": ("early_stage_known", "worse"),
    "low_screening": ("screening_cervical_25_49", "worse"),
    "high_usc_referral": ("usc_referral_isr", "higher"),
    "low_usc_referral": ("usc_referral_isr", "lower"),
    "low_eol_register": ("eol_register_before_death", "worse"),
    "low_hna_trust": ("hna_within_31_days_provider", "worse"),
    "low_preferred_place_locality": ("died_in_preferred_place", "worse"),
}
MOST_YEARS = 0.8


@pytest.fixture(scope="module")
def wessex(tmp_path_factory):
    from carepath.synth.generator import SynthOptions, synthesise

    result = synthesise(tmp_path_factory.mktemp("synth") / "wessex", SynthOptions(seed=7))
    wanted = sorted({ind for ind, _ in EXPECTED.values()})
    outcomes = compute(result.workspace, [builtin()[i] for i in wanted])
    assert all(o.status == "computed" for o in outcomes), outcomes
    return result


@pytest.mark.slow
def test_every_planted_outlier_is_flagged_in_its_direction(wessex):
    manifest = json.loads((wessex.workspace.path / "synth_manifest.json").read_text())
    checked = 0
    with wessex.workspace.connect(read_only=True) as con:
        for plant in manifest["planted"]:
            if plant["kind"] not in EXPECTED:
                continue
            indicator, judgement = EXPECTED[plant["kind"]]
            rows = con.execute(
                "SELECT v.compared_to_national, v.value > n.value FROM indicator_values v "
                "JOIN indicator_values n ON n.indicator_id = v.indicator_id AND n.period = "
                "v.period AND n.area_type = 'national' AND n.breakdown = 'all' WHERE "
                "v.indicator_id = ? AND v.area_code = ? AND v.breakdown = 'all'",
                [indicator, plant["org_code"]]).fetchall()
            assert rows, f"no values for {plant['org_code']} on {indicator}"
            above = plant["direction"] == "higher"
            on_side = sum(r[1] == above for r in rows) / len(rows)
            assert on_side >= MOST_YEARS, (plant, rows)
            assert judgement in [r[0] for r in rows], (plant, rows)
            checked += 1
    assert checked >= 10


@pytest.mark.slow
def test_few_unplanted_practices_are_flagged_on_early_stage(wessex):
    """Chance alone flags about 5% of practices at 95%; far more means the method is off."""
    manifest = json.loads((wessex.workspace.path / "synth_manifest.json").read_text())
    planted = {p["org_code"] for p in manifest["planted"]}
    with wessex.workspace.connect(read_only=True) as con:
        flags = con.execute(
            "SELECT area_code, compared_to_national FROM indicator_values WHERE indicator_id "
            "= 'early_stage_known' AND area_type = 'practice' AND breakdown = 'all'"
        ).fetchall()
    others = [f for code, f in flags if code not in planted]
    assert len(others) > 100
    assert sum(f != "similar" for f in others) / len(others) < 0.12


@pytest.mark.slow
def test_latest_period_carries_the_recent_trend_marker(wessex):
    with wessex.workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT period, trend FROM indicator_values WHERE indicator_id = "
            "'early_stage_known' AND area_code = 'national' AND breakdown = 'all' "
            "ORDER BY period_start").fetchall()
    assert rows[-1][1] in ("No significant change", "Increasing and getting better",
                           "Decreasing and getting worse")
    assert all(trend is None for _, trend in rows[:-1])


@pytest.mark.slow
def test_the_pcns_a_practice_moved_between_have_no_trend_across_the_move(wessex):
    """The planted move read as significant trends both ways (an independent check)."""
    manifest = json.loads((wessex.workspace.path / "synth_manifest.json").read_text())
    move = next(p for p in manifest["planted"] if p["kind"] == "pcn_change")
    new = move["effect"]["new_pcn"]
    old = move["what"].split()[2]
    with wessex.workspace.connect(read_only=True) as con:
        trends = dict(con.execute(
            "SELECT area_code, trend FROM indicator_values WHERE indicator_id = "
            "'early_stage_known' AND area_type = 'pcn' AND breakdown = 'all' AND period = "
            "(SELECT max(period) FROM indicator_values WHERE indicator_id = "
            "'early_stage_known')").fetchall())
    assert trends[old] is None and trends[new] is None
    assert sum(t is not None for t in trends.values()) > len(trends) / 2  # the others have
