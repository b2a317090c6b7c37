"""Every page and API read on a workspace with nothing loaded yet, and on one with only
organisations: a page saying there is no data, never a server error (the journeys page
was a 500 on a workspace with no cancer data: a check)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from .conftest import PASSWORD, login


def _plain_get_paths() -> list[str]:
    """GET routes with no path parameters (those need a real area or indicator), found as
    the app finds them (every module of the pages and API packages with a router)."""
    from carepath.web import api as api_pkg
    from carepath.web import pages as pages_pkg
    from carepath.web.app import API_PREFIX, discover

    paths = set()
    for package, prefix in ((pages_pkg, ""), (api_pkg, API_PREFIX)):
        for module in discover(package):
            for r in getattr(getattr(module, "router", None), "routes", ()):
                if isinstance(r, Route) and "GET" in r.methods and "{" not in r.path:
                    paths.add(prefix + r.path)
    return sorted(paths - {"/logout"})


@pytest.mark.parametrize("with_orgs", [False, True])
def test_no_page_fails_before_the_data_is_loaded(tmp_path, with_orgs):
    from carepath.web import users
    from carepath.web.app import create_app
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    if with_orgs:
        with ws.transaction() as con:
            con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES ('L1', 'North', 'locality', DATE '2020-01-01'), "
                        "('P1', 'Alpha', 'practice', DATE '2020-01-01')")
    users.add_user(ws, by="test", username="admin", password=PASSWORD, role="admin")
    app = create_app(ws)
    failed = {}
    with TestClient(app) as client:
        login(client, "admin")
        paths = _plain_get_paths()
        assert len(paths) > 20
        for path in paths:
            r = client.get(path)
            if r.status_code >= 500:
                failed[path] = r.status_code
    assert failed == {}
