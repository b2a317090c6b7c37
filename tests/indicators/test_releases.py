"""Once suppressed, always suppressed: a public export records the cells it hid, and every
later public output of the same figures hides them again.

Why: the cells hidden beside a small count depend on the groups the figures add up in. A
workspace that gains an own group of practices chooses other partners in its next
release, and the two releases read side by side give back what each hid. Kept hidden,
every later release's hidden cells hold all of the first's, so it publishes nothing the
first did not (of the same figures).
"""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from carepath.cli import app
from carepath.disclosure import SUPPRESSED, DisclosurePolicy, apply_disclosure, releases
from carepath.engine.containment import disclosed
from carepath.engine.run import compute
from carepath.indicators.library import builtin
from carepath.reports.export import AREA_TYPES, export, read_values
from carepath.stats.trend import TREND_POINTS
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
    _forget(county)
    yield county
    if config.read_text() != text:
        config.write_text(text)
        compute(county, [builtin()[i] for i in INDICATORS])  # as computed before
    _forget(county)


def _forget(ws) -> None:
    with ws.transaction() as con:
        con.execute(f"DELETE FROM {releases.CELLS}")
        con.execute(f"DELETE FROM {releases.RELEASES}")


def _hidden(frame: pd.DataFrame) -> set[tuple]:
    return {releases.release_key(r) for r in frame.to_dict("records")
            if r["value_state"] == SUPPRESSED}


def _disclosed(ws, earlier=None) -> pd.DataFrame:
    config = ws.config()
    with ws.connect(read_only=True) as con:
        return disclosed(con, read_values(ws), DisclosurePolicy.from_config(config), config,
                         builtin(), earlier=earlier)


def _recorded(ws) -> set[tuple]:
    with ws.connect(read_only=True) as con:
        return set(releases.earlier(con, INDICATORS).withheld)


NOTHING_EARLIER = releases.Earlier()


def test_a_withheld_cell_is_hidden_whatever_its_count_under_the_one_note():
    rows = [{"indicator_id": "x", "area_type": "pcn", "area_code": code, "parent_code": "L",
             "period": "2024", "breakdown": "all", "category": "all", "numerator": n,
             "denominator": 1000, "value": n / 1000, "statistic": "proportion"}
            for code, n in (("A", 300), ("B", 400), ("C", 500), ("D", 3))]
    withheld = {("x", "2024", "pcn", "B", "all", "all")}
    out = {r["area_code"]: r for r in apply_disclosure(
        rows, earlier=releases.Earlier(frozenset(withheld)))}
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
    out = apply_disclosure(rows, earlier=releases.Earlier(
        frozenset({("x", "2024", "pcn", "C", "all", "all")})))
    assert [r["value_state"] for r in out] == [SUPPRESSED, "published", SUPPRESSED]


def test_a_public_export_records_what_it_hid_once(fresh, tmp_path):
    done = export(fresh, tmp_path / "one.csv", fmt="csv", public=True)
    published = pd.read_csv(tmp_path / "one.csv")
    hidden = (published["value_state"] == SUPPRESSED).sum()
    assert done.release_id and done.newly_withheld == hidden > 0
    assert len(_recorded(fresh)) == hidden
    with fresh.connect(read_only=True) as con:
        cells = con.execute(f"SELECT count(*) FROM {releases.CELLS}").fetchall()[0][0]
    assert cells == len(published)  # and what it said of every published one
    again = export(fresh, tmp_path / "two.csv", fmt="csv", public=True)
    assert again.newly_withheld == 0  # the same figures: nothing new to record
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    with fresh.connect(read_only=True) as con:
        assert con.execute(f"SELECT count(*) FROM {releases.CELLS}").fetchall()[0][0] == cells
        listed = releases.releases(con)
    assert list(listed.first_suppressed) == [hidden, 0]  # both releases listed


def test_a_later_release_keeps_hidden_all_an_earlier_one_hid(fresh, tmp_path):
    """The scenario: release 1, then an own group is added and the figures computed again
    (the same data). Unrecorded, release 2 publishes cells release 1 hid and hides others,
    so the two together give cells back; recorded, release 2 hides all release 1 hid."""
    export(fresh, tmp_path / "first.csv", fmt="csv", public=True)
    first = _hidden(_disclosed(fresh, earlier=NOTHING_EARLIER))
    assert first == _recorded(fresh)
    (fresh.path / "carepath.toml").write_text((fresh.path / "carepath.toml").read_text()
                                              + GROUP)
    compute(fresh, [builtin()[i] for i in INDICATORS])
    unrecorded = _hidden(_disclosed(fresh, earlier=NOTHING_EARLIER))
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
                          earlier=NOTHING_EARLIER)
    assert at_public_levels - _hidden(alone)


def _suppressed(download: str) -> pd.DataFrame:
    """The rows a public download hid: area type (as coded) and area code."""
    frame = pd.read_csv(io.StringIO(download), dtype=str)
    hidden = frame[frame.value_state == SUPPRESSED]
    codes = {name: code for code, name in AREA_TYPES.items()}
    return pd.DataFrame({"area_type": hidden["Area Type"].map(codes),
                         "area_code": hidden["Area Code"]})


def _page(ws, indicator: str, period: str) -> tuple[set[tuple], int]:
    """Show a public page on a server just started (its caches empty); the cells it hid,
    and the releases recorded after."""
    from fastapi.testclient import TestClient

    from carepath.web.app import create_app

    with TestClient(create_app(ws)) as client:
        page = client.get(f"/public/indicators/{indicator}", params={"period": period})
        assert page.status_code == 200, page.text
        download = client.get(f"/public/indicators/{indicator}/download.csv",
                              params={"period": period})
    hidden = {(indicator, period, r.area_type, r.area_code, "all", "all")
              for r in _suppressed(download.text).itertuples()}
    with ws.connect(read_only=True) as con:
        return hidden, len(releases.releases(con))


def _latest_period(ws, indicator: str) -> str:
    with ws.connect(read_only=True) as con:
        return con.execute("SELECT max(period) FROM indicator_values WHERE indicator_id = ?",
                           [indicator]).fetchall()[0][0]


def test_a_public_page_records_what_it_shows_once(fresh):
    from carepath.web.cache import data_version

    indicator = INDICATORS[0]
    period = _latest_period(fresh, indicator)
    with fresh.connect(read_only=True) as con:
        version = data_version(con)
    hidden, listed = _page(fresh, indicator, period)
    # the page, and the four periods before whose pages its download's trends are judged
    # on (test_a_downloads_trends_record_the_periods_they_are_judged_on)
    assert hidden and listed == TREND_POINTS
    with fresh.connect(read_only=True) as con:  # what the pages show is unchanged by it:
        assert data_version(con) == version     # their caches are kept
    with fresh.connect(read_only=True) as con:
        (release,) = [r for r in releases.releases(con).itertuples()
                      if r.output == f"/public/indicators/{indicator}?period={period}"]
        cells = con.execute(f"SELECT * FROM {releases.CELLS} WHERE release_id = ?",
                            [release.release_id]).df()
    assert release.released_by == releases.PUBLIC_PAGES
    assert release.suppressed == release.first_suppressed == len(hidden)
    # what the page showed, and nothing it did not: its period, its levels, no breakdowns
    assert {c for c in _recorded(fresh) if c[1] == period} == hidden
    assert set(cells.period) == {period} and set(cells.breakdown) == {"all"}
    assert not set(cells.area_type) & {"practice", "pcn"}
    assert cells.loc[cells.value_state == "published", "numerator_low"].notna().all()
    assert release.rows == len(cells)  # every row shown: hidden, or published with a range
    again, listed = _page(fresh, indicator, period)  # a restart shows it again
    assert again == hidden and listed == TREND_POINTS  # the same figures say nothing new


def test_a_downloads_trends_record_the_periods_they_are_judged_on(fresh):
    """A period's download carries its trends, judged on the four periods before as their
    pages publish them: those are recorded too, or a period's own page shown later could
    hide a cell the trend had counted as published (a code review)."""
    indicator = INDICATORS[0]
    period = _latest_period(fresh, indicator)
    _page(fresh, indicator, period)
    with fresh.connect(read_only=True) as con:
        outputs = set(releases.releases(con).output)
        periods = [p for (p,) in con.execute(
            "SELECT period FROM indicator_values WHERE indicator_id = ? GROUP BY period "
            "ORDER BY max(period_end)", [indicator]).fetchall()]
    window = periods[-TREND_POINTS:]
    assert len(window) == TREND_POINTS and window[-1] == period
    assert outputs == {f"/public/indicators/{indicator}?period={p}" for p in window}


def test_a_page_shown_before_a_change_binds_the_figures_after_it(fresh):
    """The pages, not only exports: a page shown at one threshold, then the threshold
    lowered. Unrecorded, the page would now show cells it hid (and so, beside an export
    made before, give back what either hid); recorded, it hides them all again."""
    indicator = INDICATORS[0]
    period = _latest_period(fresh, indicator)
    before, _ = _page(fresh, indicator, period)
    (fresh.path / "carepath.toml").write_text(
        (fresh.path / "carepath.toml").read_text().replace("suppress_below = 8",
                                                           "suppress_below = 5"))
    after, _ = _page(fresh, indicator, period)
    assert before <= after
    _forget(fresh)  # as if the first page had not been recorded
    unrecorded, _ = _page(fresh, indicator, period)
    assert before - unrecorded, "the lower threshold changed nothing: the test needs it to"


def test_a_page_made_while_another_is_recorded_honours_it(fresh, monkeypatch):
    """Two first views of one page: the first worked out under the old settings and about
    to be recorded, the second under new ones. Each must not show what the other hid,
    so the second waits for the first's record (a code review found they did not)."""
    import threading

    from fastapi.testclient import TestClient

    from carepath.web.app import create_app
    from carepath.web.pages import public

    indicator = INDICATORS[0]
    period = _latest_period(fresh, indicator)
    worked_out, go, calls = threading.Event(), threading.Event(), []
    record = public._record

    def paused(*args):
        calls.append(args[1])
        if len(calls) == 1:  # the first view: worked out, not yet recorded
            worked_out.set()
            go.wait(30)
        return record(*args)

    monkeypatch.setattr(public, "_record", paused)
    shown: dict[str, str] = {}
    url = f"/public/indicators/{indicator}/download.csv"
    with TestClient(create_app(fresh)) as client:
        def view(name: str) -> None:
            shown[name] = client.get(url, params={"period": period}).text

        first = threading.Thread(target=view, args=("old",))
        first.start()
        assert worked_out.wait(30)
        config = fresh.path / "carepath.toml"
        config.write_text(config.read_text().replace("suppress_below = 8",
                                                     "suppress_below = 5"))
        second = threading.Thread(target=view, args=("new",))
        second.start()
        second.join(timeout=2)  # unlocked, it would be done by now; locked, it waits
        go.set()
        first.join(30)
        second.join(30)

    def hidden(text: str) -> set[str]:
        return set(_suppressed(text)["area_code"])

    assert hidden(shown["old"]), "the first view hid nothing: the test needs it to"
    assert hidden(shown["old"]) <= hidden(shown["new"])


def test_first_views_of_other_indicators_do_not_wait_for_each_other(fresh, monkeypatch):
    """The record of one indicator says nothing of another's figures, so only views of
    the same indicator wait: one lock held across every first view made the rest wait,
    unrelated pages too (a code review)."""
    import threading

    from fastapi.testclient import TestClient

    from carepath.web.app import create_app
    from carepath.web.pages import public

    first, other = INDICATORS
    held, go = threading.Event(), threading.Event()
    record = public._record

    def paused(con, where, *rest):
        if first in where:  # the first indicator's view holds its lock until told
            held.set()
            go.wait(30)
        return record(con, where, *rest)

    monkeypatch.setattr(public, "_record", paused)
    with TestClient(create_app(fresh)) as client:
        slow = threading.Thread(target=client.get, args=(f"/public/indicators/{first}",))
        slow.start()
        try:
            assert held.wait(30)
            started = time.monotonic()
            assert client.get(f"/public/indicators/{other}").status_code == 200
            assert time.monotonic() - started < 20  # not held up by the first
        finally:
            go.set()
            slow.join(30)


def test_settings_switched_back_do_not_bring_back_cached_figures(fresh):
    """On one running server: a page under one threshold, under a higher one (hiding more,
    recorded), then under the first again. The figures cached under the first must not
    come back: they show cells the second release hid."""
    from fastapi.testclient import TestClient

    from carepath.web.app import create_app

    indicator = INDICATORS[0]
    config = fresh.path / "carepath.toml"
    first = config.read_text()
    url = f"/public/indicators/{indicator}/download.csv"

    def hidden(client) -> set[str]:
        return set(_suppressed(client.get(url).text)["area_code"])

    with TestClient(create_app(fresh)) as client:
        before = hidden(client)
        config.write_text(first.replace("suppress_below = 8", "suppress_below = 40"))
        higher = hidden(client)
        assert higher - before, "the higher threshold hid nothing more: the test needs it"
        config.write_text(first)
        assert higher <= hidden(client)


def test_a_preview_shows_the_pages_without_recording_them(fresh):
    """`carepath serve --preview`: to check the public pages before they go public, shown
    but not recorded, and every public page says so."""
    from fastapi.testclient import TestClient

    from carepath.web.app import create_app

    indicator = INDICATORS[0]
    with TestClient(create_app(fresh, preview=True)) as client:
        pages = [client.get("/public"), client.get(f"/public/indicators/{indicator}")]
        assert all(p.status_code == 200 and 'id="preview"' in p.text for p in pages)
        assert client.get(f"/public/indicators/{indicator}/download.csv").status_code == 200
    with fresh.connect(read_only=True) as con:
        assert releases.releases(con).empty
        assert con.execute(f"SELECT count(*) FROM {releases.CELLS}").fetchall()[0][0] == 0
    with TestClient(create_app(fresh)) as client:  # served for real: recorded, no banner
        page = client.get(f"/public/indicators/{indicator}")
        assert page.status_code == 200 and 'id="preview"' not in page.text
    with fresh.connect(read_only=True) as con:
        assert not releases.releases(con).empty


def test_the_public_list_records_only_what_it_shows(fresh):
    """Out of date (a group added, not yet computed), the list says "being updated" in
    place of the national figures, so it records none of them."""
    from fastapi.testclient import TestClient

    from carepath.web.app import create_app

    config = fresh.path / "carepath.toml"
    config.write_text(config.read_text() + GROUP)
    with TestClient(create_app(fresh)) as client:
        listing = client.get("/public").text
    assert listing.count("being updated") == len(INDICATORS)
    with fresh.connect(read_only=True) as con:
        assert con.execute(f"SELECT count(*) FROM {releases.CELLS}").fetchall()[0][0] == 0
        assert releases.releases(con).empty


def test_a_failed_write_records_nothing(fresh, tmp_path, monkeypatch):
    import carepath.reports.export as export_module

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_table", broken)
    with pytest.raises(OSError):
        export(fresh, tmp_path / "p.csv", fmt="csv", public=True)
    assert not _recorded(fresh) and not (tmp_path / "p.csv").exists()


def test_a_release_is_written_out_only_once_recorded(fresh, tmp_path, monkeypatch):
    """The file is moved into place after the record commits: a failure between the two
    leaves neither (a file out without its record would let a later release choose other
    cells; a code review)."""
    real = releases.record

    def recorded_then_failed(con, *args):
        real(con, *args)  # inserted, then the transaction fails before it commits
        raise RuntimeError("killed")

    monkeypatch.setattr(releases, "record", recorded_then_failed)
    with pytest.raises(RuntimeError):
        export(fresh, tmp_path / "p.csv", fmt="csv", public=True)
    assert not _recorded(fresh) and list(tmp_path.iterdir()) == []


def test_a_release_made_while_another_was_recorded_is_refused(fresh, tmp_path, monkeypatch):
    from carepath.errors import ValidationError

    counts = iter([0, 1])  # none when it began, one when it came to record
    monkeypatch.setattr(releases, "size", lambda con: next(counts))
    with pytest.raises(ValidationError, match="another public export"):
        export(fresh, tmp_path / "p.csv", fmt="csv", public=True)
    assert not _recorded(fresh) and list(tmp_path.iterdir()) == []


def test_an_export_for_analysts_is_no_release(fresh, tmp_path):
    done = export(fresh, tmp_path / "all.csv", fmt="csv")
    assert done.release_id is None and not _recorded(fresh)


def test_the_cli_says_what_it_recorded_and_lists_releases(fresh, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["releases", "-w", str(fresh.path)])
    assert listed.exit_code == 0 and "nothing published yet" in listed.output
    out = runner.invoke(app, ["export", "-w", str(fresh.path), "--public", "--format", "csv",
                              "-o", str(tmp_path / "p.csv")])
    assert out.exit_code == 0, out.output
    n = len(_recorded(fresh))
    assert f"({n:,} cells suppressed for the first time)" in " ".join(out.output.split())
    listed = runner.invoke(app, ["releases", "-w", str(fresh.path)])
    assert listed.exit_code == 0
    assert f"of 2 indicator(s), {n:,} suppressed ({n:,} for the first time)" in \
        " ".join(listed.output.split())
    with fresh.connect(read_only=True) as con:
        detail = con.execute("SELECT detail FROM audit_log WHERE action = 'export' "
                             "ORDER BY \"at\" DESC LIMIT 1").fetchone()[0]
        (release_id,) = releases.releases(con)["release_id"]
    assert f"release={release_id}" in detail and release_id in listed.output


# Two PCNs of one locality, and another sub-ICB; an own group {A, B, C} added after the
# first release. B and C lie at the foot of what their rounded counts allow, so the
# group's total (35, published 35: 33 to 37) less them, published by the first release and
# hidden by the second, says A is 0 to 6 (as a code review found in a synthetic county).
CROSS = [("A", "L0", 4, [("pcn", "U1"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("X", "L0", 9, [("pcn", "U1"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("Y", "L0", 20, [("pcn", "U1"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("B", "L0", 18, [("pcn", "U2"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("C", "L0", 13, [("pcn", "U2"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("Z", "L0", 60, [("pcn", "U2"), ("locality", "L0"), ("sub_icb", "S0")]),
         ("W", "L1", 100, [("pcn", "U3"), ("locality", "L1"), ("sub_icb", "S1")])]
IN_GROUP = ["A", "B", "C"]


def _two_releases(use_known: bool):
    from disclosure_helpers import amap, county_rows, value_row

    from carepath.engine.containment import containment

    links = {p: areas for p, _, _, areas in CROSS}
    said: dict = {}
    first = apply_disclosure(county_rows(CROSS), within=containment(amap(links)), said=said)
    withheld = frozenset(releases.release_key(r) for r in first
                         if r["value_state"] == SUPPRESSED)
    known = {key: (bounds,) for key, bounds in said.items()} if use_known else {}
    rows = county_rows(CROSS) + [value_row("group", "G", 35, 500, None)]
    grouped = {p: areas + ([("group", "G")] if p in IN_GROUP else []) for p, areas in
               links.items()}
    second = apply_disclosure(rows, groups={"G": IN_GROUP},
                              within=containment(amap(grouped)),
                              earlier=releases.Earlier(withheld, known))
    return first, second, grouped


def test_what_an_earlier_release_published_is_counted_as_known():
    """Read beside the first release, the second must not narrow a small count below its
    note. Keeping the first's hidden cells hidden is not enough: its partner for A in the
    group was C, which the first had published."""
    from disclosure_helpers import attack

    width = DisclosurePolicy().suppress_below - 1
    first, second, links = _two_releases(use_known=False)
    low, high = attack(second, links, earlier=first)[("practice", "A")]
    assert high - low < width  # the scenario: withheld alone leaves A 0 to 6
    first, second, links = _two_releases(use_known=True)
    ranges = attack(second, links, earlier=first)
    exact = {p: n for p, _, n, _ in CROSS}
    small = [("practice", p) for p, n in exact.items() if 0 < n < width + 1]
    assert small and all(ranges[c][1] - ranges[c][0] >= width for c in small)
    hidden = {(r["area_type"], r["area_code"]) for r in second
              if r["value_state"] == SUPPRESSED}
    assert ("group", "G") in hidden  # the new total, not a cell known from before


def test_the_public_list_honours_the_record_too(fresh):
    from carepath.web.pages.public import national_figures

    def headlines(con) -> dict[str, dict]:
        frame = national_figures(con, DisclosurePolicy())
        return {r["indicator_id"]: r for r in frame.to_dict("records")}

    with fresh.connect(read_only=True) as con:
        before = headlines(con)
    indicator = INDICATORS[0]
    assert before[indicator]["value_state"] == "published"
    with fresh.transaction() as con:  # as if an earlier release had hidden that figure
        con.execute(f"INSERT INTO {releases.CELLS} (indicator_id, period, area_type, "
                    "area_code, breakdown, category, value_state, release_id) VALUES "
                    "(?, ?, 'national', 'national', 'all', 'all', 'suppressed', 'r1')",
                    [indicator, before[indicator]["period"]])
    with fresh.connect(read_only=True) as con:
        after = headlines(con)
    assert after[indicator]["value_state"] == SUPPRESSED and pd.isna(after[indicator]["value"])
