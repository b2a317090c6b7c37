"""A small workspace with two localities, practices, a provider, two periods of indicator
values and one account per role; a TestClient per role."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from carepath.workspace import Workspace

PASSWORD = "correct-horse-battery"
PERIODS = [("2023/24", date(2023, 4, 1), date(2024, 3, 31)),
           ("2024/25", date(2024, 4, 1), date(2025, 3, 31))]
LOCALITIES = [("L1", "North Locality"), ("L2", "South Locality")]
PRACTICES = [("P1", "Alpha Surgery", "L1"), ("P2", "Beta Practice", "L1"),
             ("P3", "Gamma Health", "L2"), ("P4", "Delta Medical", "L2")]
PROVIDERS = [("R1", "Wessex Hospitals"), ("R2", "Other Hospice")]
ACCOUNTS = {
    "admin": ("admin", []), "analyst": ("analyst", []), "commish": ("commissioner", []),
    "northlead": ("locality_lead", ["L1"]), "southlead": ("locality_lead", ["L2"]),
    "provider1": ("provider", ["R1"]),
}
# value per practice (latest period): P1 is a low outlier on early stage, P3 suppressed
EARLY = {"P1": (40, 33, 47), "P2": (57, 45, 69), "P3": (60, 40, 80), "P4": (58, 50, 66)}


def _row(ind, code, name, area_type, period, value, lo998, hi998, *, state="published",
         num=50, den=100, cmp_nat="similar", parent=None):
    return (ind, "1", "h", code, name, area_type, parent, *period, "all", "all",
            None if state != "published" else num, None if state != "published" else den,
            None if state != "published" else value, value - 5, value + 5, lo998, hi998,
            "proportion", "Wilson", "similar", cmp_nat, None, None, state,
            {"published": None, "suppressed": "suppressed: count 1-7"}.get(state, "no data"),
            "load1", "0.1.0",
            datetime(2025, 6, 1))


def _values() -> list[tuple]:
    rows = []
    for i, period in enumerate(PERIODS):
        shift = -3 if i == 0 else 0
        rows += [
            _row("early_stage_all", "national", "England", "national", period, 55 + shift, 54, 56,
                 num=5500, den=10000),
            _row("early_stage_all", "I1", "Wessex ICB", "icb", period, 54 + shift, 52, 56),
            _row("screening_bowel_60_74", "national", "England", "national", period, 70, 69, 71),
            _row("early_stage_all", "R1", "Wessex Hospitals", "provider", period, 52, 48, 56),
            _row("early_stage_all", "R2", "Other Hospice", "provider", period, 49, 40, 58),
        ]
        for code, name in LOCALITIES:
            rows.append(_row("early_stage_all", code, name, "locality", period, 50 + shift, 45,
                             55, parent="I1"))
        # Screening at locality level: 2023/24 South has 5 screened (primary suppression,
        # North then secondary); 2024/25 North has a true zero and the ICB is missing.
        small = {("L1", 0): 20, ("L2", 0): 5, ("L1", 1): 0, ("L2", 1): 30}
        for code, name in LOCALITIES:
            num = small[(code, i)]
            rows.append(_row("screening_bowel_60_74", code, name, "locality", period,
                             num / 40 * 100, 0, 100, num=num, den=40, parent="I1"))
        rows.append(_row("screening_bowel_60_74", "I1", "Wessex ICB", "icb", period, 60, 50,
                         70, state="missing" if i == 1 else "published", num=24, den=40))
        for code, name, loc in PRACTICES:
            v, lo, hi = EARLY[code]
            state = "suppressed" if code == "P3" else "published"
            rows.append(_row("early_stage_all", code, name, "practice", period, v + shift, lo, hi,
                             state=state, num=int(v), den=100, parent=loc,
                             cmp_nat="worse" if code == "P1" else "similar"))
            rows.append(_row("screening_bowel_60_74", code, name, "practice", period, 72, 60, 80,
                             num=72 if code != "P4" else 5, den=100, parent=loc))
    return rows


def build_workspace(path) -> Workspace:
    ws = Workspace.init(path)
    with ws.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('I1', 'Wessex ICB', 'icb', DATE '2015-01-01')")
        for code, name in LOCALITIES:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, 'locality', DATE '2015-01-01')", [code, name])
        for code, name in PROVIDERS:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, 'trust', DATE '2015-01-01')", [code, name])
        for code, name, loc in PRACTICES:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, 'practice', DATE '2015-01-01')", [code, name])
            con.execute("INSERT INTO org_hierarchy VALUES (?, ?, 'locality', "
                        "DATE '2015-01-01', NULL)", [code, loc])
            con.execute("INSERT INTO org_hierarchy VALUES (?, 'I1', 'icb', DATE '2015-01-01',"
                        " NULL)", [code])
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})",
                        _values())
        # registered lists (P4 is small) for peer groups, reliability and opportunity
        for code, size in (("P1", 6000), ("P2", 9000), ("P3", 4000), ("P4", 600)):
            for band, share in (("0-4", 0.1), ("40-44", 0.6), ("70-74", 0.3)):
                con.execute("INSERT INTO registered_population VALUES (?, DATE '2025-01-01', "
                            "'F', ?, ?)", [code, band, int(size * share)])
    make_current(ws)
    from carepath.web import users

    for name, (role, scope) in ACCOUNTS.items():
        users.add_user(ws, by="test", username=name, password=PASSWORD, role=role, scope=scope)
    return ws


def make_current(ws: Workspace) -> None:
    """Give the values the provenance a compute would write now (the built-in definition's
    hash, the workspace's loads and settings, this Carepath), so they are not out of date."""
    from carepath import __version__
    from carepath.engine.freshness import load_ids, settings_fingerprint
    from carepath.indicators.library import builtin

    with ws.transaction() as con:
        loads = con.execute("SELECT table_name, load_id FROM load_log").df()
        ids = [r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicator_values"
                                         ).fetchall()]
        for indicator_id in ids:
            defn = builtin()[indicator_id]
            con.execute("UPDATE indicator_values SET definition_hash = ?, load_ids = ?, "
                        "carepath_version = ? WHERE indicator_id = ?",
                        [defn.content_hash(), load_ids(loads, defn, settings_fingerprint(
                            ws.config())), __version__, indicator_id])


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory):
    return build_workspace(tmp_path_factory.mktemp("web") / "ws")


@pytest.fixture(scope="module")
def app(web_ws):
    from carepath.web.app import create_app

    return create_app(web_ws)


def login(client: TestClient, username: str, password: str = PASSWORD):
    client.get("/login")
    token = client.cookies.get("carepath_session")
    assert token
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf, "next": "/"},
                       follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def post_form(client: TestClient, url: str, data: dict, *, page: str = "/login"):
    """POST a form with the CSRF token of the client's session (read from ``page``)."""
    return client.post(url, data={**data, "csrf_token": csrf_of(client, page)},
                       follow_redirects=False)


@pytest.fixture(scope="module")
def clients(app):
    """One signed-in TestClient per account (plus 'public'), shared across a module."""
    out = {}
    with TestClient(app) as anon:
        out["public"] = anon
        for name in ACCOUNTS:
            c = TestClient(app)
            c.__enter__()
            assert login(c, name).status_code == 303
            out[name] = c
        yield out
        for name in ACCOUNTS:
            out[name].__exit__(None, None, None)
