"""The public home page lists each indicator's latest national figure, through the
disclosure policy like every public figure (it read the raw value; found by a review)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import build_workspace

INDICATOR = "screening_bowel_60_74"


def test_a_small_national_count_is_not_on_the_public_home_page(tmp_path):
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path / "ws")
    with ws.transaction() as con:  # a county workspace's "national": 2 of 3
        con.execute("UPDATE indicator_values SET numerator = 2, denominator = 3, "
                    "value = 200.0 / 3 WHERE indicator_id = ? AND area_type = 'national' "
                    "AND breakdown = 'all' AND period_end = (SELECT max(period_end) FROM "
                    "indicator_values WHERE indicator_id = ?)", [INDICATOR, INDICATOR])
    with TestClient(create_app(ws)) as client:
        home = client.get("/public").text
    row = home.split(f'/public/indicators/{INDICATOR}"')[1].split("</tr>")[0]
    assert "66.7" not in row and "Suppressed" in row
