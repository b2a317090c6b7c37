"""Contract pages: commissioners see every contract, a provider only its own (as prime),
other roles none; the page shows the icon summary, statement and chance table."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import ACCOUNTS, PASSWORD, build_web_workspace, cheap_password_hashes


@pytest.fixture(scope="module", autouse=True)
def cheap_hashes():
    with cheap_password_hashes():
        yield


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory, cheap_hashes):
    return build_web_workspace(tmp_path_factory.mktemp("contracts_web"))


def client_for(app, username: str | None) -> TestClient:
    client = TestClient(app)
    client.__enter__()
    if username:
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf, "next": "/"},
                           follow_redirects=False)
        assert resp.status_code == 303
    return client


@pytest.fixture(scope="module")
def clients(web_ws):
    from carepath.web.app import create_app

    app = create_app(web_ws)
    out = {name: client_for(app, name) for name in ACCOUNTS}
    out["public"] = client_for(app, None)
    yield out
    for c in out.values():
        c.__exit__(None, None, None)


def test_scope_a_provider_cannot_see_another_providers_contract(clients):
    expect = {  # path -> status per account
        "/contracts/test_contract": {"commish": 200, "prime_a": 200, "prime_b": 403,
                                     "lead": 403, "public": 303},
        "/contracts/other_contract": {"commish": 200, "prime_a": 403, "prime_b": 200,
                                      "lead": 403, "public": 303},
        "/contracts/other_contract/statement.csv?year=3": {
            "commish": 200, "prime_a": 403, "prime_b": 200, "lead": 403, "public": 303},
    }
    for path, by_account in expect.items():
        for name, status in by_account.items():
            got = clients[name].get(path, follow_redirects=False).status_code
            assert got == status, (path, name, got)
    listing = clients["prime_a"].get("/contracts").text
    assert "Test contract" in listing and "Other contract" not in listing
    both = clients["commish"].get("/contracts").text
    assert "Test contract" in both and "Other contract" in both


def test_contract_page_shows_summary_statement_attribution_and_chance(clients):
    page = clients["commish"].get("/contracts/test_contract?year=3")
    assert page.status_code == 200
    text = page.text
    assert 'id="icon-summary"' in text and "mdc-icon" in text
    assert "£970,000.00" in text  # statement total, hand-checked in test_assessment
    assert "Attribution to the network" in text and "No activity" in text
    assert 'id="chance-table"' in text
    assert clients["commish"].get("/contracts/test_contract?year=99").status_code == 404
    assert clients["commish"].get("/contracts/nope").status_code == 404


def test_statement_download_is_audited(clients):
    client = clients["prime_a"]
    resp = client.get("/contracts/test_contract/statement.csv?year=3")
    assert resp.status_code == 200 and "attachment" in resp.headers["content-disposition"]
    assert resp.text.splitlines()[-1].startswith("test_contract,3,2023/24,total")
    with client.app.state.db.cursor() as con:
        rows = con.execute("SELECT target FROM audit_log WHERE actor = 'prime_a' AND "
                           "action = 'contract.statement_downloaded'").fetchall()
    assert rows == [("contract:test_contract",)]


def test_a_year_the_data_do_not_reach_offers_no_statement(clients):
    """Year 5 (2025/26) has no values: the page says so instead of offering a statement
    of £0 earned (a walkthrough), and the download is refused."""
    page = clients["commish"].get("/contracts/test_contract?year=5").text
    assert 'id="too-early"' in page and "statement.csv?year=5" not in page
    assert "late return" not in page
    refused = clients["commish"].get("/contracts/test_contract/statement.csv?year=5")
    assert refused.status_code == 409 and "has a value yet" in refused.text
    assert 'id="too-early"' not in clients["commish"].get("/contracts/test_contract?year=3").text
    year5 = clients["commish"].get("/api/v1/contracts/test_contract/years/5").json()
    assert year5["statement"] == [] and "has a value yet" in year5["no_statement"]


def test_json_api_same_scopes(clients):
    listing = clients["prime_a"].get("/api/v1/contracts")
    assert listing.status_code == 200
    assert [c["id"] for c in listing.json()] == ["test_contract"]
    year = clients["prime_a"].get("/api/v1/contracts/test_contract/years/3").json()
    assert year["total"] == 970_000 and year["outcome_element"] == 70_000
    assert [o["judgement"] for o in year["outcomes"]] == ["not_met", "not_distinguishable"]
    assert clients["prime_a"].get("/api/v1/contracts/other_contract/years/3").status_code \
        == 403
    assert clients["lead"].get("/api/v1/contracts").status_code == 403
    assert clients["public"].get("/api/v1/contracts").status_code == 401


def test_a_warning_is_shown_prominently_on_the_page_csv_and_api(tmp_path):
    """An out-of-date indicator: the page, the CSV download and the API say so."""
    import yaml

    from carepath.indicators.library import load_library
    from carepath.web.app import create_app

    ws = build_web_workspace(tmp_path)
    defn = load_library()["early_stage_known"].model_dump(mode="json", exclude_none=True)
    defn["title"] += " (local)"
    (ws.definitions_dir("indicators") / "early_stage_known.yaml").write_text(
        yaml.safe_dump(defn))
    client = client_for(create_app(ws), "commish")
    try:
        page = client.get("/contracts/test_contract?year=3").text
        assert 'id="contract-warnings"' in page and "out of date" in page
        csv_text = client.get("/contracts/test_contract/statement.csv?year=3").text
        assert "values of early_stage_known are out of date" in csv_text
        year = client.get("/api/v1/contracts/test_contract/years/3").json()
        stage = year["outcomes"][0]
        assert stage["dq_status"] == "fail" and "out of date" in stage["dq_reasons"][0]
        assert year["outcome_element"] == 40_000
    finally:
        client.__exit__(None, None, None)


def test_the_public_page_of_a_provider_indicator_says_why_it_has_no_areas(clients):
    """Only its national row is public, which read as missing data (a walkthrough)."""
    page = clients["public"].get("/public/indicators/fds_28_day_provider?period=2023/24")
    assert page.status_code == 200 and 'id="by-provider"' in page.text
    other = clients["public"].get("/public/indicators/early_stage_known?period=2023/24")
    assert other.status_code == 200 and 'id="by-provider"' not in other.text


def test_a_held_pot_is_said_once_before_paying(clients):
    """Listed by the page's own loop and again among the warnings, 'not yet known' called
    a data-quality gate (a review)."""
    page = clients["commish"].get("/contracts/test_contract?year=4").text
    box = page.split('id="contract-warnings"')[1].split("</div>")[0]
    assert box.count("Faster diagnosis") == 1 and "pot of £" in box
