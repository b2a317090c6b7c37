"""The inequalities page: an indicator's figures within one area by group (sex, deprivation
quintile, tumour group), each group against the area's own figure, the slope index of
inequality across deprivation quintiles, and only the areas the reader may see."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PERIODS, _row, build_workspace, login, make_current

from carepath import stats

IND = "early_stage_all"
LATEST = PERIODS[-1]
# The most deprived quintile lowest: a gradient the slope index must find.
QUINTILE_VALUES = {"1": 40.0, "2": 48.0, "3": 55.0, "4": 60.0, "5": 66.0}
QUINTILE_SIZES = {"1": 900, "2": 1000, "3": 1100, "4": 1000, "5": 800}


def _group(code, name, area_type, breakdown, category, value, *, den=1000, num=None,
           state="published", cmp_nat="similar"):
    row = list(_row(IND, code, name, area_type, LATEST, value, value - 7, value + 7,
                    state=state, num=num if num is not None else int(value * den / 100),
                    den=den, cmp_nat=cmp_nat))
    row[10], row[11] = breakdown, category
    return tuple(row)


def _groups() -> list[tuple]:
    rows = [_group("national", "England", "national", "sex", "F", 61.0),
            _group("national", "England", "national", "sex", "M", 49.0)]
    rows += [_group("national", "England", "national", "imd_quintile", q, v,
                    den=QUINTILE_SIZES[q]) for q, v in QUINTILE_VALUES.items()]
    # North: one quintile suppressed, so no slope index there
    rows += [_group("L1", "North Locality", "locality", "imd_quintile", q, v,
                    state="suppressed" if q == "3" else "published")
             for q, v in QUINTILE_VALUES.items()]
    rows += [_group("L1", "North Locality", "locality", "sex", "F", 52.0, cmp_nat="worse"),
             _group("L1", "North Locality", "locality", "sex", "M", 48.0)]
    rows += [_group(code, name, "provider", "tumour_group", "lower_gi", 45.0)
             for code, name in (("R1", "Wessex Hospitals"), ("R2", "Other Hospice"))]
    # a workspace's own group whose code is also a locality's
    rows += [_group("L1", "Coastal practices", "group", "sex", "F", 70.0)]
    return rows


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path_factory.mktemp("ineq") / "ws")
    with ws.transaction() as con:
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})",
                        _groups())
    make_current(ws)
    app = create_app(ws)
    out = {}
    for name in ("analyst", "provider1", "northlead"):
        c = TestClient(app)
        c.__enter__()
        assert login(c, name).status_code == 303
        out[name] = c
    yield out
    for c in out.values():
        c.__exit__(None, None, None)


def test_national_groups_in_their_order_against_the_national_figure(clients):
    page = clients["analyst"].get(f"/indicators/{IND}/inequalities").text
    assert "inequalities in England" in page
    assert page.index('id="sex"') < page.index('id="imd_quintile"')
    assert page.index("1 (most deprived)") < page.index("5 (least deprived)")
    assert "Female" in page and "Male" in page
    # national is 55 (95% intervals ±5, the comparison's level; ±7 at 99.8%): women at
    # 61 (56-66) higher, so better for a high-is-good indicator; quintile 1 at 40 worse
    assert "tag--better" in _table_row(page, "Female")
    assert "tag--worse" in _table_row(page, "Male")
    assert "tag--worse" in _table_row(page, "1 (most deprived)")
    assert "tag--similar" in _table_row(page, "3")
    assert "tag--better" in _table_row(page, "5 (least deprived)")
    assert "Lower 95%" in page and page.count("Data table for") == 2
    # national's own groups are not compared with themselves
    assert "Compared with the same group nationally" not in page


def test_the_slope_index_is_phes_on_the_quintiles(clients):
    page = clients["analyst"].get(f"/indicators/{IND}/inequalities").text
    order = list(QUINTILE_VALUES)
    value = np.array([[QUINTILE_VALUES[q] / 100 for q in order]])
    expected = stats.sii(value, np.array([[QUINTILE_SIZES[q] for q in order]]),
                         value_type=2, lower=value - 0.05, upper=value + 0.05,
                         multiplier=100)
    assert expected.sii_lower[0] > 0  # the planted gradient is clear
    assert f"Slope index of inequality: {expected.sii[0]:.1f} percentage points" in page
    assert "Higher in the least deprived" in page


def test_no_slope_index_where_a_quintile_is_suppressed(clients):
    page = clients["analyst"].get(f"/indicators/{IND}/inequalities?area=locality:L1").text
    assert "inequalities in North Locality" in page
    assert "needs a published figure for each of the five quintiles" in page
    assert "Slope index of inequality:" not in page
    assert "Suppressed" in page
    assert "Compared with the same group nationally" in page and "Worse" in page


def test_the_indicator_page_links_to_its_inequalities(clients):
    page = clients["analyst"].get(f"/indicators/{IND}").text
    assert f'href="/indicators/{IND}/inequalities?period={LATEST[0]}"' in page
    # not from a period without figures by group (it led to a page of nothing: a review)
    earlier = clients["analyst"].get(f"/indicators/{IND}?period={PERIODS[0][0]}").text
    assert "/inequalities" not in earlier
    assert "by sex, deprivation quintile and tumour group" in page
    other = clients["analyst"].get("/indicators/screening_bowel_60_74").text
    assert "/inequalities" not in other


def test_a_reader_sees_only_the_areas_they_may(clients):
    provider = clients["provider1"]
    own = provider.get(f"/indicators/{IND}/inequalities?area=R1")
    assert own.status_code == 200 and "Lower GI" in own.text
    assert 'value="R2"' not in own.text
    other = provider.get(f"/indicators/{IND}/inequalities?area=R2")
    assert other.status_code == 404 and "Without an area, the page lists" in other.text
    lead = clients["northlead"].get(f"/indicators/{IND}/inequalities")
    assert lead.status_code == 200 and 'value="R1"' not in lead.text


def test_bad_choices_say_what_there_is(clients):
    analyst = clients["analyst"]
    assert analyst.get(f"/indicators/{IND}/inequalities?period=1999").status_code == 404
    assert "2023/24, 2024/25" in analyst.get(
        f"/indicators/{IND}/inequalities?period=1999").text
    none = analyst.get(f"/indicators/{IND}/inequalities?period={PERIODS[0][0]}")
    assert none.status_code == 404 and "no figures by sex, age" in none.text
    assert analyst.get("/indicators/nope/inequalities").status_code == 404
    assert analyst.get(f"/indicators/{IND}/inequalities?area=" + "x" * 41).status_code in (
        404, 422)


def _table_row(page: str, label: str) -> str:
    """The groups table's row of ``label`` (the chart's data table has no judgements)."""
    rows = [r for r in page.split("<tr>") if f"<td>{label}</td>" in r and "tag--" in r]
    assert len(rows) == 1, rows
    return rows[0].split("</tr>")[0]


def test_the_api_gives_the_pages_figures(clients):
    got = clients["analyst"].get(f"/api/v1/indicators/{IND}/inequalities?area=national")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["area"] == {"code": "national", "name": "England", "type": "national"}
    assert body["period"] == LATEST[0] and body["overall"]["value"] == 55
    quintiles = [r for r in body["rows"] if r["breakdown"] == "imd_quintile"]
    assert [r["category"] for r in quintiles] == list(QUINTILE_VALUES)
    assert body["slope_index"]["higher_in"] == "least deprived"
    page = clients["analyst"].get(f"/indicators/{IND}/inequalities").text
    assert f"Slope index of inequality: {body['slope_index']['sii']:.1f}" in page
    north = clients["analyst"].get(f"/api/v1/indicators/{IND}/inequalities?area=L1"
                                   "&area_type=locality").json()
    assert north["slope_index"] is None
    suppressed = next(r for r in north["rows"] if r["category"] == "3"
                      and r["breakdown"] == "imd_quintile")
    assert suppressed["value_state"] == "suppressed" and suppressed["value"] is None
    refused = clients["provider1"].get(f"/api/v1/indicators/{IND}/inequalities?area=R2")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_figures_out_of_date_say_so_here_too(clients, tmp_path):
    """As their indicator page does: a changed definition leaves the values as they were."""
    from carepath.web.app import create_app

    assert 'id="out-of-date"' not in clients["analyst"].get(
        f"/indicators/{IND}/inequalities").text
    ws = build_workspace(tmp_path / "stale")
    with ws.transaction() as con:
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})",
                        _groups())
        con.execute("UPDATE indicator_values SET definition_hash = 'older' "
                    "WHERE indicator_id = ?", [IND])
    with TestClient(create_app(ws)) as client:
        assert login(client, "analyst").status_code == 303
        page = client.get(f"/indicators/{IND}/inequalities").text
    assert 'id="out-of-date"' in page and "definition changed" in page


def test_two_areas_of_one_code_are_told_apart_by_their_type(clients):
    """Keyed by code alone, a group sharing a locality's code made one of them
    unreachable, and the page showed one's figures under the other's name (a review)."""
    analyst = clients["analyst"]
    both = analyst.get(f"/indicators/{IND}/inequalities?area=L1")
    assert both.status_code == 404 and "group:L1, locality:L1" in both.text
    group = analyst.get(f"/indicators/{IND}/inequalities?area=group:L1").text
    assert "inequalities in Coastal practices" in group and "70.0" in group
    locality = analyst.get(f"/indicators/{IND}/inequalities?area=locality:L1").text
    assert "inequalities in North Locality" in locality
    assert 'value="locality:L1" selected' in locality
    api = analyst.get(f"/api/v1/indicators/{IND}/inequalities",
                      params={"area": "L1", "area_type": "group"}).json()
    assert api["area"] == {"code": "L1", "name": "Coastal practices", "type": "group"}
