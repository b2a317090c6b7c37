"""Every public output hides the same cells.

Two publications of the same figures that hide different cells give back together what
each hid: the public pages ran the policy on their own rows (public levels, no
containment), while ``export --public`` ran it on all rows. Both now go through
``carepath.engine.containment.disclosed``; this holds them equal on a synthetic county.
"""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from carepath.disclosure import DisclosurePolicy
from carepath.engine.containment import disclosed, workspace_containment
from carepath.engine.freshness import practice_groups
from carepath.engine.run import compute
from carepath.indicators.library import builtin
from carepath.indicators.links import shared_counts
from carepath.reports.export import export, read_values
from carepath.web.pages.public import PUBLIC_AREA_TYPES, public_values
from carepath.workspace import Workspace

INDICATORS = ("emergency_presentation_pct", "deaths_usual_residence", "cancer_incidence_crude",
              "deaths_in_hospital")  # linked: each pair shares a count
COMPARED = ["value_state", "numerator", "denominator", "value"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from carepath.synth.generator import SynthOptions, synthesise

    ws = synthesise(tmp_path_factory.mktemp("synth") / "county", SynthOptions(seed=5)).workspace
    config = ws.path / "carepath.toml"
    config.write_text(config.read_text() + '\n[groups.coast]\nname = "Coast"\n'
                      'practices = ["W90001", "W90002", "W90005"]\n')
    outcomes = compute(ws, [builtin()[i] for i in INDICATORS])
    assert all(o.status == "computed" for o in outcomes), outcomes
    return ws


def _exported(ws) -> pd.DataFrame:
    """What ``export --public`` publishes (it runs ``disclosed`` on read_values; a test in
    tests/indicators/test_export.py holds it to that), at the public levels."""
    config = ws.config()
    with ws.connect(read_only=True) as con:
        out = disclosed(con, read_values(ws), DisclosurePolicy.from_config(config), config,
                        builtin())
    return out[(out.breakdown == "all") & out.area_type.isin(PUBLIC_AREA_TYPES)]


def test_a_periods_containment_is_the_wholes_for_that_period(county):
    groups = practice_groups(county.config())
    with county.connect(read_only=True) as con:
        whole = workspace_containment(con, groups)
        periods = {key[0] for key in whole}
        assert len(periods) > 1 and any(k[1] == "group" for k in whole)  # groups in it too
        for period in periods:
            own = workspace_containment(con, groups, period)
            assert own == {k: v for k, v in whole.items() if k[0] == period}


@pytest.mark.slow
def test_the_public_pages_hide_exactly_what_the_public_export_hides(county):
    exported = _exported(county)
    with county.connect(read_only=True) as con:
        # as a page asks: one period at a time, with that period's containment (the
        # public API's and a download's "all periods" at once below)
        groups = practice_groups(county.config())
        shown = pd.concat([public_values(con, DisclosurePolicy.from_config(county.config()), i, period,
                                         config=county.config(), definitions=builtin(),
                                         within=workspace_containment(con, groups, period))
                           for i in INDICATORS for period in sorted(exported.period.unique())])
        at_once = pd.concat([public_values(con, DisclosurePolicy.from_config(county.config()), i, config=county.config(),
                                           definitions=builtin()) for i in INDICATORS])
    assert set(shown.area_type) <= set(PUBLIC_AREA_TYPES)
    keys = ["indicator_id", "area_code", "period"]
    by_period = shown.set_index(keys).sort_index()[COMPARED + ["compared_to_national"]]
    pd.testing.assert_frame_equal(by_period,
                                  at_once.set_index(keys).sort_index()[by_period.columns])
    both = shown.merge(exported, on=keys, suffixes=("", "_export"), validate="1:1")
    assert len(both) == len(shown) == len(exported)
    assert (both.value_state == both.value_state_export).all()
    judged = both.compared_to_national.fillna("-")
    assert (judged == both.compared_to_national_export.fillna("-")).all()
    for column in ("numerator", "denominator", "value", "lower95", "upper95"):
        pd.testing.assert_series_equal(both[column].astype(float),
                                       both[f"{column}_export"].astype(float),
                                       check_names=False)
    exact = read_values(county).set_index(keys)
    hidden = shown[shown.value_state == "suppressed"].set_index(keys)
    covers = exact.loc[hidden.index, "numerator"] >= DisclosurePolicy().suppress_below
    assert covers.any(), "no further cell was hidden: the comparison shows nothing"
    assert hidden.value_note.nunique() == 1  # and nothing tells them from the small ones


@pytest.mark.slow
def test_published_judgements_agree_with_the_published_figures(county):
    """Judged on the exact figures, an area could be marked worse than national while its
    published (rounded) interval held the national value, and the labels told the order of
    the counts the rounding hides. Each is judged again on what is published."""
    public = _exported(county)
    changed = 0
    judged = [i for i in INDICATORS if builtin()[i].polarity != "no_judgement"]
    for indicator_id in judged:
        defn = builtin()[indicator_id]
        level = "95" if defn.comparator.confidence == 0.95 else "998"
        rows = public[public.indicator_id == indicator_id]
        national = rows[rows.area_type == "national"].set_index("period")["value"]
        areas = rows[(rows.area_type != "national") & (rows.value_state == "published")]
        nat = areas.period.map(national)
        lower, upper = areas[f"lower{level}"], areas[f"upper{level}"]
        good, bad = (("better", "worse") if defn.polarity == "high_is_good"
                     else ("worse", "better"))
        expected = pd.Series("similar", index=areas.index)
        expected[lower > nat], expected[upper < nat] = good, bad
        assert (areas.compared_to_national == expected).all()
        with county.connect(read_only=True) as con:
            exact = con.execute(
                "SELECT area_code, period, compared_to_national FROM indicator_values WHERE "
                "indicator_id = ? AND breakdown = 'all'", [indicator_id]).df()
        both = areas.merge(exact, on=["area_code", "period"], suffixes=("", "_exact"))
        changed += (both.compared_to_national != both.compared_to_national_exact).sum()
    assert changed, "no judgement moved: the test does not show the change"


def test_an_indicator_without_its_definition_publishes_no_judgement():
    from carepath.engine.rejudge import judged_on_published

    rows = pd.DataFrame([{"indicator_id": "gone", "compared_to_national": "worse",
                          "compared_to_parent": "better", "quantile": 2, "trend": "increasing",
                          "value_state": "published"}])
    out = judged_on_published(rows, {})
    assert out.loc[0, ["compared_to_national", "compared_to_parent", "quantile",
                       "trend"]].isna().all()


def test_no_trend_is_published_where_the_engine_put_none(county):
    """The engine alone knows the order of the periods, gaps too; judged again on the
    published rows, a series with a gap period (no rows) took a trend bridging it."""
    from carepath.engine.rejudge import judged_on_published

    values = read_values(county)
    rows = values[values.indicator_id == "cancer_incidence_crude"].copy()
    marked = rows.trend.notna() & (rows.value_state == "published")
    assert marked.sum() > 1
    gap = marked[marked].index[:1]  # as though this series skipped a period
    rows.loc[gap, "trend"] = None
    out = judged_on_published(rows, builtin())
    assert out.loc[gap, "trend"].isna().all()
    assert out.loc[marked[marked].index[1:], "trend"].notna().all()


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


@pytest.mark.slow
def test_a_pages_download_is_the_public_exports_rows_in_its_layout(county, tmp_path):
    """One tool reads both: a public page's download has the columns of `export --public`
    (Fingertips' layout; it had 12 of its own) and, row for row, the export's figures."""
    from carepath.web.app import create_app

    ws = Workspace.open(shutil.copytree(county.path, tmp_path / "ws"))
    indicator = INDICATORS[0]
    export(ws, tmp_path / "out.csv", fmt="csv", public=True, indicators=[indicator])
    exported = _csv((tmp_path / "out.csv").read_text())
    keys = ["Area Type", "Area Code", "Time period", "Sex", "Age", "Category Type", "Category"]
    latest = max(exported["Time period"])
    with TestClient(create_app(ws)) as client:
        for query in ("", f"?period={latest}"):
            got = client.get(f"/public/indicators/{indicator}/download.csv{query}")
            assert got.status_code == 200, got.text
            page = _csv(got.text).sort_values(keys).reset_index(drop=True)
            assert list(page.columns) == list(exported.columns)
            same = exported.merge(page[keys], on=keys).sort_values(keys).reset_index(drop=True)
            assert len(same) == len(page) > 0
            assert (page["Area Type"] != "Practice").all()
            # one period's rows carry the trends of the periods before it too, as
            # the export's (the API and this download had none)
            assert same["Recent Trend"].str.len().gt(0).any()
            pd.testing.assert_frame_equal(page, same)
            if query:
                api = client.get(f"/api/v1/public/indicators/{indicator}/values{query}")
                trends = {r["area_code"]: r["trend"] for r in api.json()["rows"]}
                assert any(trends.values()) and set(trends) == set(page["Area Code"])


def test_a_page_works_out_the_linked_indicators_before_it_once(county, monkeypatch):
    """Emergency presentation's page knows what incidence (the count it shares, before it
    in order) says of the period: worked out once, through the app's cache, for every
    page after it, and not recorded (no one was shown it)."""
    from carepath.web import pages
    from carepath.web.app import create_app

    seen: list[str] = []
    real = pages.public.public_values

    def watched(con, policy, indicator_id, *args, **kwargs):
        seen.append(indicator_id)
        return real(con, policy, indicator_id, *args, **kwargs)

    monkeypatch.setattr(pages.public, "public_values", watched)
    with county.connect(read_only=True) as con:
        period = con.execute("SELECT max(period) FROM indicator_values WHERE indicator_id = "
                             "'emergency_presentation_pct'").fetchall()[0][0]
    with TestClient(create_app(county, preview=True)) as client:
        for _ in range(2):
            page = client.get("/public/indicators/emergency_presentation_pct",
                              params={"period": period})
            assert page.status_code == 200, page.text
    before = {link.other for link in shared_counts(builtin())["emergency_presentation_pct"]
              if link.other < "emergency_presentation_pct"}
    assert "cancer_incidence_crude" in before  # (the others have no values here)
    assert seen[0] == "emergency_presentation_pct" and sorted(seen[1:]) == sorted(before)


@pytest.mark.slow
def test_the_pages_as_served_hide_what_the_export_hides(county):
    """Through the app, as a visitor sees them: each linked indicator's pages take what
    the ones before it say from the app's cache, and hide what the export hides (here
    with nothing recorded before: a preview records nothing)."""
    from carepath.web.app import create_app

    exported = _exported(county)
    hidden = exported[exported.value_state == "suppressed"]
    want = set(zip(hidden.indicator_id, hidden.period, hidden.area_code, strict=True))
    got = set()
    with TestClient(create_app(county, preview=True)) as client:
        for indicator in sorted(INDICATORS, reverse=True):  # the later ones first
            for period in sorted(exported[exported.indicator_id == indicator].period.unique()):
                download = client.get(f"/public/indicators/{indicator}/download.csv",
                                      params={"period": period})
                assert download.status_code == 200, download.text
                rows = _csv(download.text)
                shown = rows[rows.value_state == "suppressed"]
                got |= {(indicator, period, code) for code in shown["Area Code"]}
    assert want and got == want
