"""The JSON API against its own OpenAPI document: every GET endpoint, fed generated path and
query values (schemathesis-style, with Hypothesis), answers JSON with a documented status and
never a server error; and the public endpoint passes through disclosure control."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

IND = "early_stage_all"
ALLOWED = {200, 401, 403, 404, 422}
TEXT = st.one_of(
    st.sampled_from(["L1", "P1", "P3", "early_stage_all", "2024/25", "locality", "practice",
                     "' OR 1=1 --", "../../etc/passwd", "%00", "<script>", "é", ""]),
    st.text(max_size=60))


def _get_operations(client):
    doc = client.get("/api/v1/openapi.json").json()
    ops = []
    for path, item in doc["paths"].items():
        if "get" in item:
            params = item["get"].get("parameters", [])
            ops.append((path, params))
    return ops


def test_openapi_documents_every_endpoint_with_problem_responses(clients):
    ops = dict(_get_operations(clients["admin"]))
    for path in ("/api/v1/indicators/{indicator_id}/values", "/api/v1/localities/{code}/rug",
                 "/api/v1/practices/{code}/profile", "/api/v1/me",
                 "/api/v1/public/indicators/{indicator_id}/values"):
        assert path in ops
    doc = clients["admin"].get("/api/v1/openapi.json").json()
    get = doc["paths"]["/api/v1/localities/{code}/rug"]["get"]
    assert {"401", "403", "404"} <= set(get["responses"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_requests_never_break_the_api(clients, data):
    client = clients[data.draw(st.sampled_from(["admin", "northlead", "provider1", "public"]))]
    path, params = data.draw(st.sampled_from(_get_operations(client)))
    query = {}
    for p in params:
        value = data.draw(TEXT)
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", quote(value, safe="") or "x")
        elif data.draw(st.booleans()):
            query[p["name"]] = value
    r = client.get(path, params=query)
    assert r.status_code in ALLOWED, (path, query, r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith(("application/json",
                                                 "application/problem+json")), path
    body = r.json()
    if r.status_code >= 400:
        assert body["status"] == r.status_code and body["detail"]


def test_public_api_is_disclosure_controlled_and_keeps_states_apart(clients):
    rows = clients["public"].get(
        "/api/v1/public/indicators/screening_bowel_60_74/values").json()["rows"]
    assert {r["area_type"] for r in rows} <= {"national", "icb", "locality"}
    by = {(r["area_code"], r["period"]): r for r in rows}
    # 2023/24: South's 5 is suppressed, North's 20 then goes too (secondary)
    assert by[("L2", "2023/24")]["value_state"] == "suppressed"
    assert by[("L2", "2023/24")]["value"] is None
    assert "a count from 1 to 7" in by[("L2", "2023/24")]["disclosure"]
    assert by[("L1", "2023/24")]["value_state"] == "suppressed"
    assert by[("L1", "2023/24")]["disclosure"] == by[("L2", "2023/24")]["disclosure"]
    # 2024/25: a true zero stays a published zero; the ICB stays missing
    assert by[("L1", "2024/25")]["value_state"] == "published"
    assert by[("L1", "2024/25")]["value"] == 0 and by[("L1", "2024/25")]["numerator"] == 0
    assert by[("I1", "2024/25")]["value_state"] == "missing"
    assert all(r["numerator"] is None or r["area_type"] == "national" or r["numerator"] % 5 == 0
               for r in rows)


def test_the_public_api_lists_the_published_indicators_and_their_periods(clients):
    listed = clients["public"].get("/api/v1/public/indicators")
    assert listed.status_code == 200
    by_id = {i["id"]: i for i in listed.json()}
    bowel = by_id["screening_bowel_60_74"]
    assert bowel["periods"] == ["2023/24", "2024/25"] and bowel["being_updated"] is False
    assert bowel["title"] and bowel["domain"]
    for indicator in by_id.values():  # every period listed is one the values answer for
        for period in indicator["periods"]:
            assert clients["public"].get(
                f"/api/v1/public/indicators/{indicator['id']}/values",
                params={"period": period}).status_code == 200


def test_a_period_without_figures_is_refused_by_the_api_as_by_the_page(clients):
    base = "/public/indicators/screening_bowel_60_74"
    for url in (f"/api/v1{base}/values", f"{base}/download.csv", base):
        refused = clients["public"].get(url, params={"period": "1999/00"})
        assert refused.status_code == 404, url
        assert "2023/24" in refused.text and "2024/25" in refused.text, url  # the choices
    ok = clients["public"].get(f"/api/v1{base}/values", params={"period": "2024/25"})
    assert ok.status_code == 200 and {r["period"] for r in ok.json()["rows"]} == {"2024/25"}


def test_public_download_keeps_the_three_states_and_the_reason(clients):
    text = clients["public"].get("/public/indicators/screening_bowel_60_74/download.csv").text
    rows = {(r["Area Code"], r["Time period"]): r for r in csv.DictReader(io.StringIO(text))}
    hidden = rows[("L2", "2023/24")]
    assert hidden["value_state"] == "suppressed" and hidden["Count"] == ""
    assert hidden["Value note"] and hidden["disclosure"]  # the reason, on the row
    zero = rows[("L1", "2024/25")]
    assert zero["value_state"] == "published" and zero["Count"] == "0"  # not 0.0
    assert rows[("I1", "2024/25")]["value_state"] == "missing"


def test_cached_api_rows_never_cross_scopes(clients):
    url = f"/api/v1/indicators/{IND}/values?area_type=practice"
    for _ in range(2):  # second round from the cache
        north = {r["area_code"] for r in clients["northlead"].get(url).json()["rows"]}
        south = {r["area_code"] for r in clients["southlead"].get(url).json()["rows"]}
        assert north == {"P1", "P2"} and south == {"P3", "P4"}
        assert clients["public"].get(url).status_code == 401


def test_a_refused_address_value_is_said_in_plain_words(clients):
    """'query.year: Input should be a valid integer, unable to parse string as an integer'
    (a walkthrough)."""
    page = clients["analyst"].get("/coproduction?as_of=someday")
    assert page.status_code == 422
    text = " ".join(page.text.split())
    assert "as_of (in the address)</strong>: should be a date like 2025-03-31 (it was " \
           "&#39;someday&#39;)" in text
    api = clients["analyst"].get("/api/v1/contracts/any/years/abc")
    assert api.status_code == 422
    field = api.json()["errors"][0]
    assert field == {"field": "year (in the address)",
                     "message": "should be a whole number (it was 'abc')"}
