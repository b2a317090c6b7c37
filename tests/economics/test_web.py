"""Economics web pages: role access, the built-in examples, decisions through a form."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from carepath.domain.economics.catalogue import load_catalogue, save_catalogue
from carepath.workspace import Workspace

from .conftest import EXAMPLES

PASSWORD = "correct-horse-battery"
# Two accounts keep the module fast (password hashing is slow on purpose); the role rule
# itself is a set, checked for every role below.
ACCOUNTS = {"commish": ("commissioner", []), "prov": ("provider", ["R1"])}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    from carepath.web import users
    from carepath.web.app import create_app

    ws = Workspace.init(tmp_path_factory.mktemp("econ-web") / "ws")
    with ws.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('L1', 'North', 'locality', DATE '2015-01-01'), "
                    "('R1', 'Wessex Hospitals', 'trust', DATE '2015-01-01')")
    save_catalogue(ws, load_catalogue(f"{EXAMPLES}/wessex_services.csv"), by="t", source="t")
    for name, (role, scope) in ACCOUNTS.items():
        users.add_user(ws, by="test", username=name, password=PASSWORD, role=role, scope=scope)
    app = create_app(ws)
    out = {}
    with TestClient(app) as anon:
        out["public"] = anon
        for name in ACCOUNTS:
            c = TestClient(app)
            c.__enter__()
            c.get("/login")
            csrf = _csrf(c, "/login")
            r = c.post("/login", data={"username": name, "password": PASSWORD,
                                       "csrf_token": csrf, "next": "/"},
                       follow_redirects=False)
            assert r.status_code == 303
            out[name] = c
        out["ws"] = ws
        yield out
        for name in ACCOUNTS:
            out[name].__exit__(None, None, None)


def _csrf(client: TestClient, path: str) -> str:
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.mark.parametrize(("who", "status"), [("commish", 200), ("prov", 403)])
def test_only_commissioning_roles_see_economics(clients, who, status):
    assert clients[who].get("/economics").status_code == status
    assert clients[who].get("/economics/cba/wessex-hospice-at-home").status_code == status
    assert clients[who].get("/economics/pbma/wessex-lwbc-2025").status_code == status


def test_economics_roles():
    from carepath.web.pages.economics import ECONOMICS_ROLES
    from carepath.web.scopes import Role

    assert ECONOMICS_ROLES == {Role.ADMIN, Role.ANALYST, Role.COMMISSIONER}


def test_public_is_sent_to_sign_in(clients):
    r = clients["public"].get("/economics", follow_redirects=False)
    assert r.status_code in (302, 303, 401)


def test_home_lists_catalogue_budget_and_examples(clients):
    page = clients["commish"].get("/economics").text
    assert "Hospice at home" in page and "Programme budget by paying organisation" in page
    assert "/economics/cba/wessex-hospice-at-home" in page
    assert "/economics/pbma/wessex-lwbc-2025" in page and "(example)" in page


def test_services_name_their_indicators_and_link_only_to_pages_there_are(clients):
    """The catalogue showed indicator ids, each a link to a 404 before a compute (an
    accessibility audit). Named by title; linked once they have values."""
    from carepath.indicators.library import builtin

    page = clients["commish"].get("/economics").text
    title = builtin()["hna_within_31_days"].title
    assert f"{title} <span class=\"hint\">(not computed)</span>" in page
    assert 'href="/indicators/' not in page  # nothing computed in this workspace


def test_catalogue_years_are_financial_years_and_an_unknown_one_is_refused(clients):
    """Links read '2024' under a heading of 2024/25, and ?year=1900 showed the latest
    without a word (a walkthrough)."""
    page = clients["commish"].get("/economics").text
    assert 'href="/economics?year=2024">2024/25</a>' in page
    r = clients["commish"].get("/economics?year=1900")
    assert r.status_code == 404 and "no year 1900" in r.text and "2025/26" in r.text


def test_cba_page_shows_cost_shift_tornado_and_monte_carlo(clients):
    page = clients["commish"].get("/economics/cba/wessex-hospice-at-home").text
    assert 'id="cost-shift-matrix"' in page and "Wessex University Hospitals" in page
    assert 'id="tornado-chart"' in page and "Probability that NPV is above zero" in page


def test_unknown_model_is_404(clients):
    assert clients["commish"].get("/economics/cba/nope").status_code == 404


def test_excel_download_is_audited(clients):
    r = clients["commish"].get("/economics/cba/wessex-hospice-at-home/download.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    with clients["ws"].connect() as con:  # the server holds a read-write connection
        n = con.execute("SELECT count(*) FROM audit_log WHERE action = 'economics.export' "
                        "AND actor = 'commish'").fetchone()[0]
    assert n >= 1


def test_decision_form_records_and_rejects(clients):
    c = clients["commish"]
    path = "/economics/pbma/wessex-lwbc-2025"
    r = c.post(f"{path}/decisions", data={"csrf_token": _csrf(c, path), "option_id": "prehab",
                                          "decision": "invest", "rationale": "no"})
    assert r.status_code == 400 and "rationale is required" in r.text
    # Said beside the field it is about, as a sentence (a disinvestment in a wish-list
    # option was said above the rationale, as "decision on ...": a walkthrough)
    r = c.post(f"{path}/decisions", data={"csrf_token": _csrf(c, path), "option_id": "prehab",
                                          "decision": "disinvest",
                                          "rationale": "Strong evidence, but no money."})
    form = r.text.split('action="/economics/pbma/wessex-lwbc-2025/decisions"')[1]
    decision = form.split("<legend>Decision</legend>")[1].split("</fieldset>")[0]
    assert r.status_code == 400 and "A wish-list option can be" in decision
    assert 'class="error-message"' not in form.split("<legend>")[0]  # not at the option
    assert 'class="error-message"' not in form.split('for="rationale"')[1]  # nor the rationale
    assert 'href="#decision-disinvest"' in r.text
    r = c.post(f"{path}/decisions", data={
        "csrf_token": _csrf(c, path), "option_id": "prehab", "decision": "invest",
        "rationale": "Strong evidence and patients' top priority."}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(path).text
    assert "Strong evidence and patients&#39; top priority." in page
    assert 'id="scores"' in page and "Scores for Prehabilitation before treatment" in page


def test_investing_beyond_the_money_available_is_warned_of_on_the_web(clients):
    """The CLI warned of an investment the selection left unfunded; the web form recorded
    it without a word (a walkthrough)."""
    c = clients["commish"]
    path = "/economics/pbma/wessex-lwbc-2025"
    r = c.post(f"{path}/decisions", data={
        "csrf_token": _csrf(c, path), "option_id": "hah", "decision": "invest",
        "rationale": "The panel chose to fund it from reserves."}, follow_redirects=False)
    assert r.status_code == 303 and "?recorded=" in r.headers["location"]
    shown = _section(c.get(r.headers["location"]).text, "Recorded:", "</div>")
    assert shown.startswith("Recorded: invest hah. Warning: the selection within the money "
                            "available (headroom £")
    assert "leaves hah unfunded: investing in it commits £" in shown
    with clients["ws"].connect() as con:  # the warning as it stood, kept with the decision
        detail = con.execute("SELECT detail FROM audit_log WHERE action = "
                             "'economics.pbma.decision' AND target = ?",
                             [r.headers["location"].split("recorded=")[1].split("#")[0]]
                             ).fetchone()[0]
    assert "leaves hah unfunded" in json.loads(detail)["warnings"][0]
    page = c.get(path).text
    assert 'id="decision-recorded"' not in page  # said once, where it was recorded
    listed = _section(page, 'id="decision-list"', "</table>")
    assert "hah invest beyond the money available The panel chose to fund it" in listed
    ok = c.post(f"{path}/decisions", data={
        "csrf_token": _csrf(c, path), "option_id": "prehab", "decision": "defer",
        "rationale": "Waiting for the audit's figures."}, follow_redirects=False)
    said = _section(c.get(ok.headers["location"]).text, "Recorded:", "</div>")
    assert said == "Recorded: defer prehab."
    # Superseded, the investment is no longer marked (only the standing decision is).
    c.post(f"{path}/decisions", data={
        "csrf_token": _csrf(c, path), "option_id": "hah", "decision": "defer",
        "rationale": "Reserves are needed elsewhere after all."}, follow_redirects=False)
    assert "beyond the money available" not in _section(c.get(path).text,
                                                         'id="decision-list"', "</table>")


def test_decision_without_csrf_is_refused(clients):
    r = clients["commish"].post("/economics/pbma/wessex-lwbc-2025/decisions",
                                data={"option_id": "prehab", "decision": "invest",
                                      "rationale": "A long enough reason."})
    assert r.status_code in (400, 403)


def test_json_api_gives_cba_and_pbma_tables(clients):
    c = clients["commish"]
    models = c.get("/api/v1/economics/models").json()
    assert {m["id"] for m in models} >= {"wessex-hospice-at-home", "wessex-lwbc-2025"}
    cba = c.get("/api/v1/economics/cba/wessex-hospice-at-home").json()["tables"]
    total = cba["organisations"][-1]
    assert total["org"] == "total"
    assert sum(o["npv"] for o in cba["organisations"][:-1]) == pytest.approx(total["npv"])
    assert cba["organisations"][2]["bcr"] is None  # the acute trust pays nothing
    pbma = c.get("/api/v1/economics/pbma/wessex-lwbc-2025").json()["tables"]
    assert {o["selection"] for o in pbma["options"]} >= {"invest", "disinvest"}
    assert clients["prov"].get("/api/v1/economics/models").status_code == 403
    assert "/api/v1/economics/cba/{ident}" in c.get("/api/v1/openapi.json").json()["paths"]


def _section(page: str, start: str, end: str) -> str:
    """The text of the page between two markers, tags removed and spaces collapsed."""
    import re

    part = page[page.index(start):page.index(end, page.index(start))]
    return " ".join(re.sub(r"<[^>]+>", " ", part).split())


def test_sensitivity_figures_keep_their_decimals_and_probabilities_are_percentages(clients):
    page = clients["commish"].get("/economics/cba/wessex-hospice-at-home").text
    tornado = _section(page, 'id="tornado-chart"', "</figure>")
    # attribution uniform(0.6, 0.95): low 0.60875, switching value 0.650 (not 0.6 and 0.6)
    # parameters in words, not their paths (benefits.admissions.attribution: a walkthrough)
    assert ("Attribution: Emergency admissions avoided in the last 90 days of life 0.61 0.94"
            in tornado)
    assert "benefits.admissions" not in tornado
    assert "0.65" in tornado
    mc = _section(page, 'id="monte-carlo"', "</figure>")
    assert "P(BCR above 1)" in mc
    assert "Benefit-cost ratio 1.02 0.72 1.37 53.6%" in mc  # mean, 2.5%, 97.5%, P(BCR > 1)
    assert "All organisations NPV £67,207 −£1,462,790 £1,645,131 53.6%" in mc


def test_cba_page_shows_pence_prices_and_the_npv_at_the_means(clients):
    page = " ".join(clients["commish"].get("/economics/cba/wessex-hospice-at-home").text.split())
    assert "£12.50 <span" in page  # per hour of informal care, not £12
    assert "£81,480 in 2025" in page  # whole pounds stay whole
    assert "present values in 2025 prices" in page
    assert 'id="npv-at-means"' in page and "means it is £68,569" in page


@pytest.fixture(scope="module")
def bad_model_client(tmp_path_factory):
    """A workspace whose one model has a NaN quantity, and one signed-in commissioner."""
    import shutil
    from pathlib import Path

    from carepath.web import users
    from carepath.web.app import create_app

    ws = Workspace.init(tmp_path_factory.mktemp("econ-bad") / "ws")
    folder = ws.path / "economics"
    folder.mkdir()
    for p in Path(EXAMPLES).glob("*"):
        if p.name in ("hospice_at_home.yaml", "unit_values.csv", "uncertainty.csv",
                      "benefits.csv"):
            shutil.copy(p, folder / p.name)
    benefits = folder / "benefits.csv"
    benefits.write_text(benefits.read_text().replace("life years gained,12,",
                                                     "life years gained,nan,"))
    users.add_user(ws, by="test", username="commish", password=PASSWORD, role="commissioner",
                   scope=[])
    with TestClient(create_app(ws), raise_server_exceptions=False) as c:
        r = c.post("/login", data={"username": "commish", "password": PASSWORD,
                                   "csrf_token": _csrf(c, "/login"), "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303
        yield c, ws


def test_a_bad_model_is_a_400_naming_the_file_in_the_workspace_not_the_server_path(
        bad_model_client):
    c, ws = bad_model_client
    r = c.get("/economics/cba/wessex-hospice-at-home")
    assert r.status_code == 400  # not a 500: NaN is refused when the file is read
    assert "economics/benefits.csv: benefits.row 8.quantity" in r.text
    assert "finite number" in r.text
    assert str(ws.path) not in r.text
