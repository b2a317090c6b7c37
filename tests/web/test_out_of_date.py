"""Values that a compute would no longer give (a definition changed, data loaded since, a
compute that failed and kept them) say so on their pages, analysts' and the public's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import build_workspace, login

CURRENT, STALE = "screening_bowel_60_74", "early_stage_all"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path_factory.mktemp("stale") / "ws")  # values current
    with ws.transaction() as con:  # the early-stage values from an earlier definition
        con.execute("UPDATE indicator_values SET definition_hash = 'earlier' WHERE "
                    "indicator_id = ?", [STALE])
    with TestClient(create_app(ws)) as c:
        assert login(c, "analyst").status_code == 303
        yield c


def test_out_of_date_values_say_so_and_why(client):
    page = client.get(f"/indicators/{STALE}").text
    assert 'id="out-of-date"' in page and "its definition changed since" in page
    assert 'id="out-of-date"' not in client.get(f"/indicators/{CURRENT}").text


def test_out_of_date_values_say_why_and_what_brings_them_up_to_date(client):
    page = client.get(f"/indicators/{STALE}").text
    assert "its definition changed since" in page and "carepath compute" in page
    assert "`" not in page.split('id="out-of-date"')[1].split("</div>")[0]


def test_the_analysts_list_and_home_say_so_too(client):
    """Only the indicator's own page and the public list said so (a new user's
    walkthrough)."""
    listing = client.get("/indicators").text
    assert listing.count(">out of date</strong>") == 1
    row = listing.split(f'/indicators/{STALE}"')[1].split("</tr>")[0]
    assert "out of date" in row and "its definition changed since" in row
    home = client.get("/").text
    assert 'id="out-of-date"' in home and "1 indicator is out of date" in home


def test_public_pages_say_so_and_hold_back_downloads(client):
    listing = client.get("/public").text
    assert listing.count("out of date</strong>") == 1
    # its national figure withheld too, as on its page
    row = listing.split(f'/public/indicators/{STALE}"')[1].split("</tr>")[0]
    assert "being updated" in row and "%" not in row
    page = client.get(f"/public/indicators/{STALE}").text
    assert 'id="out-of-date"' in page and "download.csv" not in page
    # nor shown: a table on a public page is a download by another name
    assert "<table" not in page and "public-bar" not in page
    assert "not published" in page
    for url in (f"/public/indicators/{STALE}/download.csv",
                f"/public/indicators/{STALE}/download.xlsx",
                f"/api/v1/public/indicators/{STALE}/values"):
        refused = client.get(url)
        assert refused.status_code == 409 and "out of date" in refused.text, url
    page = client.get(f"/public/indicators/{CURRENT}").text
    assert 'id="out-of-date"' not in page and "download.csv" in page
    assert client.get(f"/public/indicators/{CURRENT}/download.csv").status_code == 200
    assert client.get(f"/api/v1/public/indicators/{CURRENT}/values").status_code == 200


def test_the_api_lists_why_values_are_out_of_date(client):
    listed = {i["id"]: i["out_of_date"] for i in client.get("/api/v1/indicators").json()}
    assert listed[STALE] == "its definition changed since" and listed[CURRENT] is None


def test_changed_groups_withhold_the_public_figures_of_a_running_server(tmp_path):
    """Changed [groups] make every value out of date without changing the data: the
    server learned it only when the data changed (a code review found the public page,
    its download and the API still served them)."""
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path / "ws")
    url = f"/public/indicators/{CURRENT}"
    with TestClient(create_app(ws)) as c:
        assert "<table" in c.get(url).text
        config = ws.path / "carepath.toml"
        config.write_text(config.read_text()
                          + '\n[groups.coast]\nname = "Coast"\npractices = ["P1"]\n')
        page = c.get(url).text
        assert 'id="out-of-date"' in page and "<table" not in page
        for download in (f"{url}/download.csv", f"/api/v1/public/indicators/{CURRENT}/values"):
            assert c.get(download).status_code == 409, download


def test_a_failed_compute_changes_the_data_version_pages_are_cached_by(tmp_path):
    """A failed compute leaves the values as they were; the pages must still learn that
    they are now out of date."""
    from carepath.engine.freshness import record_outcome
    from carepath.web.cache import data_version

    ws = build_workspace(tmp_path / "ws")
    with ws.connect(read_only=True) as con:
        before = data_version(con)
    with ws.transaction() as con:
        record_outcome(con, CURRENT, "column 'x' is not in the workspace's screening")
    with ws.connect(read_only=True) as con:
        assert data_version(con) != before


def test_a_broken_workspace_definition_leaves_the_contract_pages_working(tmp_path):
    """An unrelated broken file answered every contract page with a 400 naming it."""
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path / "ws")
    folder = ws.path / "indicators"
    folder.mkdir(exist_ok=True)
    (folder / "early_stage_all.yaml").write_text("id: early_stage_all\nversion: [\n")
    with TestClient(create_app(ws)) as c:
        assert login(c, "analyst").status_code == 303
        assert c.get("/contracts").status_code == 200
        page = c.get(f"/indicators/{STALE}").text
        assert "its workspace definition file has problems" in page


def test_practice_profiles_and_locality_rugs_mark_them(client):
    practice = client.get("/practices/P1").text
    assert practice.count("out of date</strong>") == 1  # early stage, not bowel screening
    rug = client.get("/localities/L1").text
    assert rug.count("(out of date)") == 1
    profile = client.get("/api/v1/practices/P1/profile").json()["rows"]
    assert {r["indicator_id"] for r in profile if r["out_of_date"]} == {STALE}
