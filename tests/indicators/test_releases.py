"""Once suppressed, always suppressed: a public export records the cells it hid, and every
later public output of the same figures hides them again.

Why: the cells hidden beside a small count depend on the groups the figures add up in. A
workspace that gains an own group of practices chooses other partners in its next
release, and the two releases read side by side give back what each hid. Kept hidden,
every later release's hidden cells hold all of the first's, so it publishes nothing the
first did not (of the same figures).
"""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from carepath.cli import app
from carepath.disclosure import SUPPRESSED, DisclosurePolicy, apply_disclosure, releases
from carepath.engine.containment import disclosed
from carepath.engine.run import compute
from carepath.indicators.export import export, read_values
from carepath.indicators.library import builtin
from carepath.web.pages.public import public_values

INDICATORS = ("emergency_presentation_pct", "deaths_usual_residence")
GROUP = '\n[groups.coast]\nname = "Coast"\npractices = ["W90001", "W90002", "W90005"]\n'


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from carepath.synth.generator import SynthOptions, synthesise

    ws = synthesise(tmp_path_factory.mktemp("synth") / "county", SynthOptions(seed=5)).workspace
    outcomes = compute(ws, [builtin()[i] for i in INDICATORS])
    assert all(o.status == "computed" for o in outcomes), outcomes
    return ws


@pytest.fixture
def fresh(county, tmp_path):
    """The county with no release recorded and its own config (each test changes them)."""
    config = county.path / "carepath.toml"
    text = config.read_text()
    with county.transaction() as con:
        con.execute(f"DELETE FROM {releases.TABLE}")
    yield county
    if config.read_text() != text:
        config.write_text(text)
        compute(county, [builtin()[i] for i in INDICATORS])  # as computed before
    with county.transaction() as con:
        con.execute(f"DELETE FROM {releases.TABLE}")


def _hidden(frame: pd.DataFrame) -> set[tuple]:
    return {releases.release_key(r) for r in frame.to_dict("records")
            if r["value_state"] == SUPPRESSED}


def _disclosed(ws, withheld=None) -> pd.DataFrame:
    config = ws.config()
    with ws.connect(read_only=True) as con:
        return disclosed(con, read_values(ws), DisclosurePolicy.from_config(config), config,
                         builtin(), withheld=withheld)


def _recorded(ws) -> set[tuple]:
    with ws.connect(read_only=True) as con:
        return releases.withheld(con, INDICATORS)


def test_a_withheld_cell_is_hidden_whatever_its_count_under_the_one_note():
    rows = [{"indicator_id": "x", "area_type": "pcn", "area_code": code, "parent_code": "L",
             "period": "2024", "breakdown": "all", "category": "all", "numerator": n,
             "denominator": 1000, "value": n / 1000, "statistic": "proportion"}
            for code, n in (("A", 300), ("B", 400), ("C", 500), ("D", 3))]
    withheld = {("x", "2024", "pcn", "B", "all", "all")}
    out = {r["area_code"]: r for r in apply_disclosure(rows, withheld=withheld)}
    assert out["B"]["value_state"] == SUPPRESSED and out["B"]["numerator"] is None
    assert out["B"]["value_note"] == out["D"]["value_note"]  # nothing tells them apart
    # B and D hidden together: the pair is two hidden cells, nothing more is needed
    assert [c for c, r in out.items() if r["value_state"] == SUPPRESSED] == ["B", "D"]
    alone = {r["area_code"]: r["value_state"] for r in apply_disclosure(rows)}
    assert alone["B"] == "published"  # without the record, B would be published


def test_a_withheld_cell_alone_in_its_group_gets_a_partner():
    rows = [{"indicator_id": "x", "area_type": "pcn", "area_code": code, "parent_code": "L",
             "period": "2024", "breakdown": "all", "category": "all", "numerator": n,
             "denominator": 1000, "value": n / 1000, "statistic": "proportion"}
            for code, n in (("A", 300), ("B", 400), ("C", 500))]
    out = apply_disclosure(rows, withheld={("x", "2024", "pcn", "C", "all", "all")})
    assert [r["value_state"] for r in out] == [SUPPRESSED, "published", SUPPRESSED]


def test_a_public_export_records_what_it_hid_once(fresh, tmp_path):
    done = export(fresh, tmp_path / "one.csv", fmt="csv", public=True)
    published = pd.read_csv(tmp_path / "one.csv")
    hidden = (published["value_state"] == SUPPRESSED).sum()
    assert done.release_id and done.newly_withheld == hidden > 0
    assert len(_recorded(fresh)) == hidden
    again = export(fresh, tmp_path / "two.csv", fmt="csv", public=True)
    assert again.newly_withheld == 0  # the same figures: nothing new to record
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def test_a_later_release_keeps_hidden_all_an_earlier_one_hid(fresh, tmp_path):
    """The scenario: release 1, then an own group is added and the figures computed again
    (the same data). Unrecorded, release 2 publishes cells release 1 hid and hides others,
    so the two together give cells back; recorded, release 2 hides all release 1 hid."""
    export(fresh, tmp_path / "first.csv", fmt="csv", public=True)
    first = _hidden(_disclosed(fresh, withheld=set()))
    assert first == _recorded(fresh)
    (fresh.path / "carepath.toml").write_text((fresh.path / "carepath.toml").read_text()
                                              + GROUP)
    compute(fresh, [builtin()[i] for i in INDICATORS])
    unrecorded = _hidden(_disclosed(fresh, withheld=set()))
    assert first - unrecorded, "the group changed no choice: the scenario needs one"
    second = _hidden(_disclosed(fresh))  # read from the workspace's record
    assert first <= second
    export(fresh, tmp_path / "second.csv", fmt="csv", public=True)
    assert first <= _recorded(fresh) and _recorded(fresh) == second


def test_the_public_pages_hide_what_an_export_hid(fresh, tmp_path):
    export(fresh, tmp_path / "first.csv", fmt="csv", public=True)
    (fresh.path / "carepath.toml").write_text(
        (fresh.path / "carepath.toml").read_text().replace("suppress_below = 8",
                                                           "suppress_below = 5"))
    policy = DisclosurePolicy.from_config(fresh.config())
    with fresh.connect(read_only=True) as con:
        shown = pd.concat([public_values(con, policy, i, config=fresh.config(),
                                         definitions=builtin()) for i in INDICATORS])
    recorded = _recorded(fresh)
    public_hidden = _hidden(shown)
    at_public_levels = {k for k in recorded if k[2] in set(shown.area_type) and k[4] == "all"}
    assert at_public_levels and at_public_levels <= public_hidden
    # and with the lower threshold alone, some of them would have been shown
    with fresh.connect(read_only=True) as con:
        alone = disclosed(con, read_values(fresh), policy, fresh.config(), builtin(),
                          withheld=set())
    assert at_public_levels - _hidden(alone)


def test_a_failed_write_records_nothing(fresh, tmp_path, monkeypatch):
    import carepath.indicators.export as export_module

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_table", broken)
    with pytest.raises(OSError):
        export(fresh, tmp_path / "p.csv", fmt="csv", public=True)
    assert not _recorded(fresh) and not (tmp_path / "p.csv").exists()


def test_an_export_for_analysts_is_no_release(fresh, tmp_path):
    done = export(fresh, tmp_path / "all.csv", fmt="csv")
    assert done.release_id is None and not _recorded(fresh)


def test_the_cli_says_what_it_recorded_and_lists_releases(fresh, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["releases", "-w", str(fresh.path)])
    assert listed.exit_code == 0 and "no public exports yet" in listed.output
    out = runner.invoke(app, ["export", "-w", str(fresh.path), "--public", "--format", "csv",
                              "-o", str(tmp_path / "p.csv")])
    assert out.exit_code == 0, out.output
    n = len(_recorded(fresh))
    assert f"{n:,} suppressed cells recorded" in " ".join(out.output.split())
    listed = runner.invoke(app, ["releases", "-w", str(fresh.path)])
    assert listed.exit_code == 0
    assert f"{n:,} cells first suppressed, 2 indicator(s)" in listed.output
    with fresh.connect(read_only=True) as con:
        detail = con.execute("SELECT detail FROM audit_log WHERE action = 'export' "
                             "ORDER BY \"at\" DESC LIMIT 1").fetchone()[0]
        (release_id,) = releases.releases(con)["release_id"]
    assert f"release={release_id}" in detail and release_id in listed.output
