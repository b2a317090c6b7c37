"""Synthetic Wessex end to end through the web app: the practices the generator planted as
outliers are on their locality's outlier list for peer review (issue 6)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from .conftest import PASSWORD, login

pytestmark = pytest.mark.slow
# planted kind -> the judged indicator whose 99.8% outlier list must show the practice
EXPECTED = {
    "high_emergency_presentation": ("emergency_presentation_pct", "worse"),
    "low_early_stage": ("early_stage_all", "worse"),
    "low_screening": ("screening_cervical_25_49", "worse"),
    "low_eol_register": ("eol_register_before_death", "worse"),
}

# Screening coverage varies between the synthetic practices as much as between real ones
# (phi about 25): a planted practice there is within the widened limits.
STILL_OUTSIDE = {"high_emergency_presentation", "low_early_stage", "low_eol_register"}


@pytest.fixture(scope="module")
def wessex_app(tmp_path_factory):
    from carepath.engine.run import compute
    from carepath.indicators.library import builtin
    from carepath.synth.generator import SynthOptions, synthesise
    from carepath.web import users
    from carepath.web.app import create_app

    result = synthesise(tmp_path_factory.mktemp("synth") / "wessex", SynthOptions(seed=42))
    wanted = sorted({ind for ind, _ in EXPECTED.values()})
    outcomes = compute(result.workspace, [builtin()[i] for i in wanted])
    assert all(o.status == "computed" for o in outcomes), outcomes
    users.add_user(result.workspace, by="test", username="analyst", password=PASSWORD,
                   role="analyst")
    manifest = json.loads((result.workspace.path / "synth_manifest.json").read_text())
    return create_app(result.workspace), manifest["planted"]


def test_planted_practices_are_on_their_locality_outlier_lists(wessex_app):
    app, planted = wessex_app
    cases = [p for p in planted if p["kind"] in EXPECTED and p["org_type"] == "practice"]
    assert len(cases) >= 6
    with TestClient(app) as client:
        login(client, "analyst")
        with app.state.db.cursor() as con:
            locality = dict(con.execute(
                "SELECT child_code, parent_code FROM org_hierarchy WHERE parent_type = "
                "'locality' AND valid_to IS NULL").fetchall())
        for case in cases:
            indicator, judgement = EXPECTED[case["kind"]]
            loc = locality[case["org_code"]]
            rows = client.get(f"/api/v1/localities/{loc}/outliers").json()["rows"]
            found = {(r["indicator_id"], r["judgement"]) for r in rows
                     if r["area_code"] == case["org_code"]}
            assert (indicator, judgement) in found, (case["kind"], case["org_code"], found)
            mine = next(r for r in rows if r["area_code"] == case["org_code"]
                        and r["indicator_id"] == indicator)
            # Planted far beyond chance on indicators whose practices vary little more
            # than chance: still outside limits widened for the spread between them.
            if case["kind"] in STILL_OUTSIDE:
                assert mine["still_outside"] is True, (case["org_code"], mine)
            page = client.get(f"/localities/{loc}/outliers").text
            assert str(escape(case["org_name"].split(",")[0])) in page
            assert "Allowing for spread" in page
