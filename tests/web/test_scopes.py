"""The authorisation matrix: every role against every page and endpoint, and the scope rules
(a locality lead never reads another locality's practice-level data; a provider never sees
another provider's data)."""

from __future__ import annotations

import pytest

from carepath.web import scopes

from .conftest import post_form

IND = "early_stage_all"
ROLES = ["admin", "analyst", "commish", "northlead", "southlead", "provider1", "public"]
# expected status per role, in ROLES order. 303 = sent to sign in.
MATRIX = {
    "/": [200] * 7,
    "/public": [200] * 7,
    f"/public/indicators/{IND}": [200] * 7,
    "/indicators": [200] * 6 + [303],
    f"/indicators/{IND}": [200] * 6 + [303],
    "/practices": [200] * 5 + [403, 303],
    "/practices/P1": [200, 200, 200, 200, 403, 403, 303],
    "/practices/P3": [200, 200, 200, 403, 200, 403, 303],
    "/localities": [200] * 5 + [403, 303],
    "/localities/L1": [200, 200, 200, 200, 403, 403, 303],
    "/localities/L2": [200, 200, 200, 403, 200, 403, 303],
    "/localities/L1/outliers": [200, 200, 200, 200, 403, 403, 303],
    "/localities/L2/outliers": [200, 200, 200, 403, 200, 403, 303],
    "/admin/audit": [200, 403, 403, 403, 403, 403, 303],
    "/api/v1/indicators": [200] * 6 + [401],
    f"/api/v1/indicators/{IND}/values": [200] * 6 + [401],
    "/api/v1/localities/L1/rug": [200, 200, 200, 200, 403, 403, 401],
    "/api/v1/localities/L2/outliers": [200, 200, 200, 403, 200, 403, 401],
    "/api/v1/localities/L2/reviews": [200, 200, 200, 403, 200, 403, 401],
    "/api/v1/practices/P3/profile": [200, 200, 200, 403, 200, 403, 401],
    "/api/v1/practices/P1/profile": [200, 200, 200, 200, 403, 403, 401],
    f"/api/v1/public/indicators/{IND}/values": [200] * 7,
}


@pytest.mark.parametrize("path", sorted(MATRIX))
def test_authorisation_matrix(clients, path):
    got = [clients[role].get(path, follow_redirects=False).status_code for role in ROLES]
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, MATRIX[path], strict=True))


def _codes(client, url):
    return {(r["area_type"], r["area_code"]) for r in client.get(url).json()["rows"]}


def test_lead_sees_only_own_practices_in_every_listing(clients):
    lead = clients["northlead"]
    codes = _codes(lead, f"/api/v1/indicators/{IND}/values?area_type=practice")
    assert {c for _, c in codes} == {"P1", "P2"}
    csv = lead.get(f"/indicators/{IND}/download.csv?level=practice").text
    assert "Alpha Surgery" in csv and "Gamma Health" not in csv and "Delta" not in csv
    page = lead.get(f"/indicators/{IND}?level=practice").text
    assert "Beta Practice" in page and "Gamma Health" not in page
    assert "Gamma Health" not in lead.get("/practices").text
    # aggregates of every locality stay visible for comparison
    assert {c for _, c in _codes(lead, f"/api/v1/indicators/{IND}/values?area_type=locality")
            } == {"L1", "L2"}


def test_lead_cannot_ask_for_provider_level_and_provider_sees_only_itself(clients):
    # There, but not for their role: 403 saying so (a 404 read as no such level: a
    # walkthrough); a level the indicator has not at all stays 404.
    refused = clients["northlead"].get(f"/api/v1/indicators/{IND}/values?area_type=provider")
    assert refused.status_code == 403 and "Your role does not see" in refused.text
    assert clients["northlead"].get(
        f"/api/v1/indicators/{IND}/values?area_type=galaxy").status_code == 404
    prov = clients["provider1"]
    rows = _codes(prov, f"/api/v1/indicators/{IND}/values?area_type=provider")
    assert rows == {("provider", "R1")}
    assert "Other Hospice" not in prov.get(f"/indicators/{IND}?level=provider").text
    assert prov.get(f"/api/v1/indicators/{IND}/values?area_type=practice").status_code == 403


def test_lead_cannot_record_a_review_in_another_locality(clients):
    r = post_form(clients["northlead"], "/localities/L2/reviews", {
        "indicator_id": IND, "area_code": "P3", "period": "2024/25",
        "date_discussed": "2025-05-01"}, page="/")
    assert r.status_code == 403


def test_filter_rows_and_can_see_area_agree(web_ws):
    import pandas as pd

    lead = scopes.Principal("x", scopes.Role.LOCALITY_LEAD, frozenset({"L2"}))
    frame = pd.DataFrame({"area_type": ["practice"] * 4 + ["provider", "locality"],
                          "area_code": ["P1", "P2", "P3", "P4", "R1", "L1"]})
    # read-write: the module's app holds the database open read-write in this process
    with web_ws.connect() as con:
        kept = scopes.filter_rows(con, lead, frame)
        assert list(kept["area_code"]) == ["P3", "P4", "L1"]
        for t, c in frame.itertuples(index=False):
            assert scopes.can_see_area(con, lead, t, c) == (c in set(kept["area_code"]))
        assert not scopes.can_see_area(con, scopes.ANONYMOUS, "locality", "L1")


def _hierarchy(rows):
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE org_hierarchy (child_code VARCHAR, parent_code VARCHAR, "
                "parent_type VARCHAR, valid_from DATE, valid_to DATE)")
    con.executemany("INSERT INTO org_hierarchy VALUES (?, ?, ?, DATE '2020-04-01', ?)", rows)
    return con


def test_a_lead_sees_no_pcn_that_held_another_localitys_practice():
    """A PCN crossing localities, less the lead's own practices, gave the other locality's
    practice's exact figures (a red team): such a PCN is not shown to the lead."""
    import pandas as pd

    con = _hierarchy([
        ("A1", "L1", "locality", None), ("A2", "L1", "locality", None),
        ("B1", "L2", "locality", None),
        ("N1", "L1", "locality", None), ("N2", "L1", "locality", None),
        ("A1", "N1", "pcn", None), ("B1", "N1", "pcn", "2023-03-31"),  # N1 once held B1
        ("A2", "N2", "pcn", None)])
    lead = scopes.Principal("x", scopes.Role.LOCALITY_LEAD, frozenset({"L1"}))
    assert scopes.allowed_restricted_codes(con, lead) == {"A1", "A2", "N2"}
    frame = pd.DataFrame({"area_type": ["practice", "practice", "pcn", "pcn", "locality"],
                          "area_code": ["A1", "B1", "N1", "N2", "L2"]})
    assert list(scopes.filter_rows(con, lead, frame)["area_code"]) == ["A1", "N2", "L2"]


def test_a_practice_that_closed_in_the_leads_locality_keeps_its_pcn_in_view():
    """A closed practice was counted as another locality's, so its PCN was hidden from the
    lead whose practices it held all along (a review); one that closed elsewhere, or moved
    away before closing, still hides its PCN."""
    con = _hierarchy([
        ("A1", "L1", "locality", None), ("C1", "L1", "locality", "2023-03-31"),  # closed
        ("A1", "N1", "pcn", None), ("C1", "N1", "pcn", "2023-03-31"),
        ("A2", "L1", "locality", None), ("M1", "L1", "locality", "2022-03-31"),
        ("M1", "L2", "locality", "2023-03-31"),  # moved to L2, closed there
        ("A2", "N2", "pcn", None), ("M1", "N2", "pcn", "2023-03-31"),
        ("N1", "L1", "locality", None), ("N2", "L1", "locality", None)])
    con.execute("UPDATE org_hierarchy SET valid_from = DATE '2022-04-01' WHERE child_code = "
                "'M1' AND parent_code = 'L2'")
    lead = scopes.Principal("x", scopes.Role.LOCALITY_LEAD, frozenset({"L1"}))
    assert scopes.allowed_restricted_codes(con, lead) == {"A1", "C1", "N1", "A2"}
    other = scopes.Principal("y", scopes.Role.LOCALITY_LEAD, frozenset({"L2"}))
    assert scopes.allowed_restricted_codes(con, other) == {"M1"}


@pytest.mark.parametrize("role, scope, sees", [
    (scopes.Role.LOCALITY_LEAD, {"L1"}, False), (scopes.Role.PROVIDER, {"R1"}, False),
    (scopes.Role.ANALYST, set(), True), (scopes.Role.COMMISSIONER, set(), True)])
def test_groups_of_practices_are_for_the_wide_roles_only(role, scope, sees):
    """A group of one practice is that practice's figure; one across localities, less a
    lead's own practices, the others' (a red team: leads and providers saw them)."""
    import pandas as pd

    con = _hierarchy([("A1", "L1", "locality", None)])
    who = scopes.Principal("x", role, frozenset(scope))
    frame = pd.DataFrame({"area_type": ["group", "locality"], "area_code": ["GRP1", "L1"]})
    assert ("GRP1" in set(scopes.filter_rows(con, who, frame)["area_code"])) is sees
    assert scopes.can_see_area(con, who, "group", "GRP1") is sees


@pytest.mark.parametrize("who, links", [("provider1", set()), ("northlead", {"L1"}),
                                        ("analyst", {"L1", "L2"})])
def test_area_links_only_to_pages_the_caller_may_open(clients, who, links):
    """A provider's (and a lead's, to other localities) links from an indicator's table
    were 403s (an accessibility audit)."""
    import re

    page = clients[who].get("/indicators/early_stage_all?level=locality").text
    assert set(re.findall(r'href="/localities/(\w+)"', page.split("<main")[1])) == links
