"""The app skeleton: page discovery, errors, headers, static assets, sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from carepath.web import pages
from carepath.web.app import create_app, discover


def test_every_page_module_with_a_router_is_included(app):
    modules = [m for m in discover(pages) if hasattr(m, "router")]
    assert {"home", "account"} <= {m.__name__.rsplit(".", 1)[1] for m in modules}
    served = {r["path"] for r in _served_paths(app)}
    for module in modules:
        for route in module.router.routes:
            assert route.path in served, (module.__name__, route.path)


def _served_paths(app):
    """Paths the app answers, found by asking it (routers may be nested)."""
    from starlette.routing import Match

    out = []
    for module in discover(pages):
        for route in getattr(module, "router", None).routes if hasattr(module, "router") else []:
            path = route.path.replace("{", "").replace("}", "")
            scope = {"type": "http", "path": path, "method": next(iter(route.methods)),
                     "root_path": "", "query_string": b"", "headers": []}
            if any(r.matches(scope)[0] is Match.FULL for r in app.router.routes):
                out.append({"path": route.path})
    return out


def test_anonymous_home_points_to_public_view_and_sign_in(clients):
    page = clients["public"].get("/")
    assert page.status_code == 200
    assert 'href="/public"' in page.text and 'href="/login"' in page.text


def test_unknown_page_is_a_helpful_page_and_unknown_api_a_problem(clients):
    page = clients["admin"].get("/no/such/page")
    assert page.status_code == 404 and "There is no page at this address" in page.text
    api = clients["admin"].get("/api/v1/no-such")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["status"] == 404


def test_security_headers_and_session_cookie_flags(app):
    with TestClient(app) as c:
        r = c.get("/")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-eval" not in r.headers["content-security-policy"]
        # no inline styles either: the charts' tooltip is styled by carepath.css (the
        # browser tests fail on any violation)
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        assert "strict-transport-security" not in r.headers  # plain HTTP on a laptop


def test_behind_tls_the_browser_is_told_to_stay_on_tls(web_ws):
    """HSTS under --secure (a red team)."""
    from carepath.web.app import create_app

    with TestClient(create_app(web_ws, force_secure=True)) as c:
        r = c.get("/")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "secure" in r.headers["set-cookie"].lower()


def test_cookie_is_secure_behind_tls(web_ws):
    with TestClient(create_app(web_ws), base_url="https://testserver") as c:
        assert "secure" in c.get("/").headers["set-cookie"].lower()


def test_vendored_chart_libraries_are_served_from_the_package(clients):
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        r = clients["public"].get(f"/static/vendor/{name}")
        assert r.status_code == 200 and len(r.content) > 10_000


def test_openapi_document_lists_the_api(clients):
    doc = clients["public"].get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Carepath"


def test_an_unexpected_error_is_a_plain_500_page_or_problem_without_a_trace(web_ws):
    app = create_app(web_ws)

    def boom():
        raise RuntimeError("secret detail NHS 943 476 5919")

    app.add_api_route("/boom", boom, include_in_schema=False)
    app.add_api_route("/api/v1/boom", boom, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        page = c.get("/boom")
        assert page.status_code == 500 and "Something went wrong" in page.text
        assert "secret detail" not in page.text and "Traceback" not in page.text
        api = c.get("/api/v1/boom")
        assert api.status_code == 500 and api.json()["status"] == 500
        assert "secret" not in api.text


def test_every_answer_of_a_preview_says_it_is_one(web_ws):
    """Only the HTML pages said so; the public JSON and downloads did not (a red team)."""
    from carepath.web.app import PREVIEW_HEADER

    with TestClient(create_app(web_ws, preview=True)) as c:
        for url in ("/public", "/api/v1/public/indicators"):
            assert "not recorded" in c.get(url).headers[PREVIEW_HEADER]
    with TestClient(create_app(web_ws)) as c:
        assert PREVIEW_HEADER.lower() not in c.get("/api/v1/public/indicators").headers
