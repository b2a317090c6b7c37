"""Values that a compute would no longer give (a definition changed, data loaded since, a
compute that failed and kept them) say so on their pages, analysts' and the public's."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from carepath import __version__
from carepath.engine.freshness import load_ids, settings_fingerprint
from carepath.indicators.library import builtin

from .conftest import build_workspace, login

CURRENT, STALE = "screening_bowel_60_74", "early_stage_all"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path_factory.mktemp("stale") / "ws")
    defn = builtin()[CURRENT]
    with ws.transaction() as con:  # the bowel values as a compute would write them now
        loads = pd.DataFrame({"table_name": [], "load_id": []})
        con.execute("UPDATE indicator_values SET definition_hash = ?, load_ids = ?, "
                    "carepath_version = ? WHERE indicator_id = ?",
                    [defn.content_hash(), load_ids(loads, defn, settings_fingerprint(
                        ws.config())), __version__, CURRENT])
    with TestClient(create_app(ws)) as c:
        assert login(c, "analyst").status_code == 303
        yield c


def test_out_of_date_values_say_so_and_why(client):
    page = client.get(f"/indicators/{STALE}").text
    assert 'id="out-of-date"' in page and "its definition changed since" in page
    assert 'id="out-of-date"' not in client.get(f"/indicators/{CURRENT}").text


def test_public_pages_say_so_too(client):
    assert 'id="out-of-date"' in client.get(f"/public/indicators/{STALE}").text
    assert 'id="out-of-date"' not in client.get(f"/public/indicators/{CURRENT}").text
