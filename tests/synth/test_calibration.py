"""Generated rates fall within the calibration table's tolerances, and planted
variation is present and visible in the data."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from carepath.synth.calibration import TARGETS, check_calibration, render_calibration
from carepath.synth.planted import MANIFEST_NAME


@pytest.fixture(scope="module")
def results(wessex):
    return {r.target.key: r for r in check_calibration(wessex.workspace)}


@pytest.mark.parametrize("key", [t.key for t in TARGETS])
def test_within_tolerance(results, key):
    r = results[key]
    assert r.value is not None, f"{key}: no value"
    assert r.ok, (f"{r.target.label}: generated {r.value:.3f}, target {r.target.target} "
                  f"± {r.target.tolerance} ({r.target.source})")


def test_every_target_names_its_source():
    assert all(t.source and t.tolerance > 0 for t in TARGETS)
    assert len({t.key for t in TARGETS}) == len(TARGETS)


def test_render_prints_targets_and_values(wessex):
    console = Console(record=True, width=200)
    render_calibration(wessex.workspace, console)
    text = console.export_text()
    assert "USC referrals per 100,000 a year" in text and "ok" in text


def test_render_prints_nothing_for_an_empty_workspace(empty_workspace):
    console = Console(record=True, width=200)
    render_calibration(empty_workspace, console)
    assert console.export_text().strip() == ""


@pytest.fixture(scope="module")
def planted(wessex):
    manifest = json.loads((wessex.workspace.path / MANIFEST_NAME).read_text())
    return manifest


def _one(ws, sql, params=()):
    with ws.connect(read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def test_manifest_names_real_organisations(wessex, planted):
    kinds = {e["kind"] for e in planted["planted"]}
    assert {"high_emergency_presentation", "low_early_stage", "low_screening", "low_hna_trust",
            "low_preferred_place_locality", "pcn_change"} <= kinds
    for e in planted["planted"]:
        org_type = _one(wessex.workspace, "SELECT org_type FROM organisations WHERE org_code = ?",
                        [e["org_code"]])
        assert org_type == e["org_type"], e


def _codes(planted, kind):
    return [e["org_code"] for e in planted["planted"] if e["kind"] == kind]


def test_planted_high_emergency_presentation_is_visible(wessex, planted):
    sql = ("SELECT avg((route = 'emergency')::INT) FROM tumours WHERE practice_code {} "
           "(SELECT unnest(?::VARCHAR[]))")
    codes = _codes(planted, "high_emergency_presentation")
    assert _one(wessex.workspace, sql.format("IN"), [codes]) > 1.5 * _one(
        wessex.workspace, sql.format("NOT IN"), [codes])


def test_planted_low_screening_is_visible(wessex, planted):
    sql = ("SELECT sum(screened) / sum(eligible) FROM screening WHERE practice_code {} "
           "(SELECT unnest(?::VARCHAR[]))")
    codes = _codes(planted, "low_screening")
    assert _one(wessex.workspace, sql.format("IN"), [codes]) < _one(
        wessex.workspace, sql.format("NOT IN"), [codes]) - 0.10


def test_planted_low_hna_trust_is_visible(wessex, planted):
    sql = ("SELECT avg((EXISTS (SELECT 1 FROM care_events c WHERE c.tumour_id = t.tumour_id "
           "AND c.event_type = 'hna' AND starts_with(c.cosd_status, 'offered')))::INT) FROM "
           "tumours t WHERE diagnosing_trust {} ?")
    code = _codes(planted, "low_hna_trust")[0]
    assert _one(wessex.workspace, sql.format("="), [code]) < _one(
        wessex.workspace, sql.format("<>"), [code]) - 0.2


def test_planted_pcn_change_is_in_the_hierarchy(wessex, planted):
    code = _codes(planted, "pcn_change")[0]
    rows = _one(wessex.workspace, "SELECT count(*) FROM org_hierarchy WHERE child_code = ? AND "
                                  "parent_type = 'pcn'", [code])
    assert rows == 2
