"""Service catalogue: load from CSV/Excel, store, read back, programme budget."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carepath.domain.economics.catalogue import (
    load_catalogue,
    programme_budget,
    read_catalogue,
    save_catalogue,
)
from carepath.errors import ValidationError

from .conftest import EXAMPLES

HEADER = "service_id,name,provider_code,year,unit_cost,activity,indicator_ids,payers\n"


def test_example_catalogue_round_trip_and_budget(empty_workspace):
    rows = load_catalogue(f"{EXAMPLES}/wessex_services.csv")
    save_catalogue(empty_workspace, rows, by="analyst", source="wessex_services.csv")
    with empty_workspace.connect(read_only=True) as con:
        cat = read_catalogue(con, 2025)
        budget = programme_budget(con, 2025)
        audit = con.execute("SELECT count(*) FROM audit_log "
                            "WHERE action = 'economics.services.load'").fetchone()[0]
    assert len(cat) == len([r for r in rows if r.year == 2025])
    expected = sum(r.annual_cost * r.payers.get("QWX", 0) for r in rows
                   if r.year == 2025 and r.annual_cost is not None)
    assert budget.set_index("payer_code").loc["QWX", "spend"] == pytest.approx(expected)
    assert audit == 1


def _add_organisations(ws, *orgs: tuple[str, str, str]) -> None:
    with ws.transaction() as con:
        con.executemany("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, ?, DATE '2020-01-01')", [list(o) for o in orgs])


def test_payers_and_providers_are_named_from_the_workspace(tmp_path, empty_workspace):
    """The catalogue pays by code; people read names, and a code the workspace does not
    know (a misspelling, or a council with no organisation row) stays a code."""
    from carepath.domain.economics.catalogue import unknown_organisations

    _add_organisations(empty_workspace, ("QWX", "NHS Wessex ICB", "icb"),
                       ("LA-QWX", "Wessex County Council", "local_authority"),
                       ("RWZ", "Wessex Community Trust", "community"))
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "a,A,RWZ,2025,100,10,,QWX:85%;LA-QWX:15%\n"
                             "b,B,RWZ,2025,10,10,,QWZ:100%\n")
    rows = load_catalogue(path)
    save_catalogue(empty_workspace, rows, by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        cat = read_catalogue(con, 2025).set_index("service_id")
        budget = programme_budget(con, 2025).set_index("payer_code")
        unknown = unknown_organisations(con, rows)
    assert cat.loc["a", "payer_names"] == "NHS Wessex ICB 85.0%; Wessex County Council 15.0%"
    assert cat.loc["a", "payers"] == "LA-QWX:15.0%;QWX:85.0%"  # codes stay for machines
    assert cat.loc["a", "provider_name"] == "Wessex Community Trust"
    assert budget.loc["QWX", "payer_name"] == "NHS Wessex ICB"
    assert budget.loc["QWZ", "payer_name"] == "QWZ"
    assert unknown == ["QWZ"]


def test_hand_checked_budget_and_missing_cost_kept_apart(tmp_path, empty_workspace):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "a,A,,2025,100,10,,ICB:50%;LA:50%\n"
                             "b,B,,2025,,5,,ICB:100%\n")
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        budget = programme_budget(con, 2025).set_index("payer_code")
    assert budget.loc["LA", "spend"] == 500
    assert budget.loc["ICB", "spend"] == 500  # b's cost is missing, not zero
    assert budget.loc["ICB", "services_missing_cost"] == 1


def test_reload_replaces_a_service(tmp_path, empty_workspace):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "a,A,,2025,100,10,,ICB:100%\n")
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    path.write_text(HEADER + "a,A,,2025,200,10,,LA:100%\n")
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        cat = read_catalogue(con)
    assert cat["unit_cost"].tolist() == [200] and cat["payers"].tolist() == ["LA:100.0%"]


@pytest.mark.parametrize(("row", "reason"), [
    ("a,A,,2025,100,10,,ICB:50%;LA:40%", "payers: Value error, payer shares sum to 90.0%"),
    ("a,A,,2025,-1,10,,ICB:100%", "unit_cost: Input should be greater than or equal to 0"),
    ("a,A,,2025,1,10,,ICB", "is not CODE:SHARE"),
    ("a,A,,2025,1,10,,ICB:120%", "outside 0-100%"),
])
def test_bad_rows_are_rejected_with_file_row_and_reason(tmp_path, row, reason):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "ok,OK,,2025,1,1,,ICB:100%\n" + row + "\n")
    with pytest.raises(ValidationError) as err:
        load_catalogue(path)
    assert err.value.where == str(path)
    assert "row 3" in err.value.message
    assert reason.replace("Value error, ", "") in err.value.message


def test_duplicate_service_year(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "a,A,,2025,1,1,,ICB:1\na,A,,2025,2,1,,ICB:1\n")
    with pytest.raises(ValidationError, match="appears twice for year 2025"):
        load_catalogue(path)


def test_excel_is_read_like_csv(tmp_path):
    path = tmp_path / "s.xlsx"
    pd.read_csv(f"{EXAMPLES}/wessex_services.csv", dtype=str).to_excel(path, index=False)
    assert load_catalogue(path) == load_catalogue(f"{EXAMPLES}/wessex_services.csv")


def test_example_services_point_at_indicators_of_the_library():
    from pathlib import Path

    import carepath.indicators

    library = Path(carepath.indicators.__file__).parent / "library"
    known = {p.stem for p in library.glob("*.yaml")}
    named = {i for r in load_catalogue(f"{EXAMPLES}/wessex_services.csv")
             for i in (r.indicator_ids or "").split(";") if i}
    assert named and named <= known


def _model_from_catalogue(tmp_path, **service) -> Path:
    import yaml

    data = {"id": "m", "title": "M", "base_year": 2025, "horizon_years": 2,
            "organisations": {"QWX": "ICB", "NWX01": "Hospice", "acute": "Acute"},
            "unit_values": [{"id": "v", "value": 100, "unit": "u", "source": "hand"}],
            "services": [{"id": "hah", "from_catalogue": True, **service}],
            "benefits": [{"id": "b", "outcome": "o", "quantity": 1, "unit_value": "v",
                          "beneficiary": "acute"}]}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cba_services_from_the_catalogue(tmp_path, empty_workspace):
    from carepath.domain.economics.definitions import load_cba

    save_catalogue(empty_workspace, load_catalogue(f"{EXAMPLES}/wessex_services.csv"), by="t",
                   source="t")
    with empty_workspace.connect(read_only=True) as con:
        model = load_cba(_model_from_catalogue(tmp_path), con)
        override = load_cba(_model_from_catalogue(tmp_path, activity=10), con)
    s = model.services[0]
    assert (s.unit_cost, s.activity, s.payers) == (1900, 420, {"QWX": 0.7, "NWX01": 0.3})
    assert s.name == "Hospice at home"
    assert override.services[0].activity == 10  # the model's own figure wins
    with pytest.raises(ValidationError, match="need a workspace"):
        load_cba(_model_from_catalogue(tmp_path))


def test_catalogue_costs_are_brought_to_the_models_price_year(tmp_path, empty_workspace):
    """2024 catalogue costs were used as 2025 prices beside deflated unit values."""
    import yaml

    from carepath.domain.economics.definitions import load_cba

    save_catalogue(empty_workspace, load_catalogue(f"{EXAMPLES}/wessex_services.csv"), by="t",
                   source="t")
    path = _model_from_catalogue(tmp_path)
    data = yaml.safe_load(path.read_text())
    data.update(base_year=2024, price_year=2025, deflators={2024: 100.0, 2025: 110.0})
    data["services"] = [{"id": "cns", "from_catalogue": True}]
    path.write_text(yaml.safe_dump(data))
    with empty_workspace.connect(read_only=True) as con:
        assert load_cba(path, con).services[0].unit_cost == pytest.approx(60 * 1.1)
        data["deflators"] = {2025: 110.0}
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ValidationError, match="give deflators for 2024"):
            load_cba(path, con)


def test_catalogue_payers_a_model_does_not_name_take_the_workspace_names(tmp_path,
                                                                         empty_workspace):
    import yaml

    from carepath.domain.economics.definitions import load_cba

    save_catalogue(empty_workspace, load_catalogue(f"{EXAMPLES}/wessex_services.csv"), by="t",
                   source="t")
    path = _model_from_catalogue(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["organisations"] = {"acute": "Acute", "NWX01": "Our hospice"}
    path.write_text(yaml.safe_dump(data))
    with empty_workspace.connect(read_only=True) as con, \
            pytest.raises(ValidationError, match="payer QWX is not one of"):
        load_cba(path, con)  # named nowhere: refused, naming the payer
    _add_organisations(empty_workspace, ("QWX", "NHS Wessex ICB", "icb"),
                       ("NWX01", "Egdon Heath Hospice", "hospice"))
    with empty_workspace.connect(read_only=True) as con:
        model = load_cba(path, con)
    assert model.organisations["QWX"] == "NHS Wessex ICB"
    assert model.organisations["NWX01"] == "Our hospice"  # the model's own name wins


def test_cba_service_not_in_catalogue_or_cost_missing(tmp_path, empty_workspace):
    from carepath.domain.economics.definitions import load_cba

    path = tmp_path / "s.csv"
    path.write_text(HEADER + "hah,H,,2025,,5,,icb:100%\n")
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        with pytest.raises(ValidationError, match=r"unit_cost missing in the catalogue"):
            load_cba(_model_from_catalogue(tmp_path), con)
        empty = _model_from_catalogue(tmp_path)
        empty.write_text(empty.read_text().replace("base_year: 2025", "base_year: 2030"))
        with pytest.raises(ValidationError, match="not in the workspace's service catalogue"):
            load_cba(empty, con)


def test_pbma_budget_from_the_catalogue(tmp_path, empty_workspace):
    from carepath.domain.economics.pbma import load_exercise, programme_budget

    save_catalogue(empty_workspace, load_catalogue(f"{EXAMPLES}/wessex_services.csv"), by="t",
                   source="t")
    text = Path(f"{EXAMPLES}/wessex_lwbc_pbma.yaml").read_text()
    start, end = text.index("budget:"), text.index("criteria:")
    path = tmp_path / "ex.yaml"
    path.write_text(text[:start] + "budget: catalogue\n" + text[end:])
    (tmp_path / "wessex_lwbc_scores.csv").write_text(
        Path(f"{EXAMPLES}/wessex_lwbc_scores.csv").read_text())
    with empty_workspace.connect(read_only=True) as con:
        ex = load_exercise(path, con)
    rows = [r for r in load_catalogue(f"{EXAMPLES}/wessex_services.csv") if r.year == 2025]
    assert programme_budget(ex) == pytest.approx(sum(r.annual_cost for r in rows))
    assert len(ex.budget) == len(rows)


# ----- payers by year ------------------------------------------------------------------------
CHANGING_PAYERS = ("hah,Hospice at home,hospice,2024,1000,100,,icb:70%;hospice:30%\n"
                   "hah,Hospice at home,hospice,2025,1000,100,,icb:100%\n")


def test_payers_that_change_between_years_count_in_their_own_year(tmp_path, empty_workspace):
    """One set of payers per service added 2024's shares to 2025's: £130k of spend for a
    £100k service in both years (an economics audit)."""
    path = tmp_path / "s.csv"
    path.write_text(HEADER + CHANGING_PAYERS)
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        y2024 = programme_budget(con, 2024).set_index("payer_code")["spend"].to_dict()
        y2025 = programme_budget(con, 2025).set_index("payer_code")["spend"].to_dict()
        shown = read_catalogue(con, 2024).iloc[0]["payers"]
    assert y2024 == pytest.approx({"icb": 70_000, "hospice": 30_000})
    assert y2025 == pytest.approx({"icb": 100_000})
    assert shown == "hospice:30.0%;icb:70.0%"


def test_a_workspace_made_before_payers_had_years_is_upgraded(tmp_path):
    """Schema 2 kept one set of payers per service: each is given to every year."""
    import duckdb

    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "old")
    with ws.transaction() as con:  # back to schema 2's table
        con.execute("DROP TABLE service_payers")
        con.execute("CREATE TABLE service_payers (service_id TEXT NOT NULL, payer_code TEXT "
                    "NOT NULL, share DOUBLE NOT NULL, PRIMARY KEY (service_id, payer_code))")
        con.execute("INSERT INTO services (service_id, name, year, unit_cost, activity) "
                    "VALUES ('hah', 'H', 2024, 1000, 100), ('hah', 'H', 2025, 1000, 50)")
        con.execute("INSERT INTO service_payers VALUES ('hah', 'icb', 0.7), "
                    "('hah', 'hospice', 0.3)")
        con.execute("UPDATE carepath_meta SET value = '2' WHERE key = 'schema_version'")
    upgraded = Workspace.open(ws.path)
    from carepath.model.schema import SCHEMA_VERSION

    assert upgraded.schema_version() == SCHEMA_VERSION
    with duckdb.connect(str(upgraded.db_path), read_only=True) as con:
        rows = con.execute("SELECT year, payer_code, share FROM service_payers "
                           "ORDER BY 1, 2").fetchall()
    assert rows == [(2024, "hospice", 0.3), (2024, "icb", 0.7), (2025, "hospice", 0.3),
                    (2025, "icb", 0.7)]


def test_the_same_payers_every_year_give_each_year_its_own_cost(tmp_path, empty_workspace):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "hah,H,,2024,1000,100,,icb:70%;hospice:30%\n"
                             "hah,H,,2025,1000,50,,icb:70%;hospice:30%\n")
    save_catalogue(empty_workspace, load_catalogue(path), by="t", source="s.csv")
    with empty_workspace.connect(read_only=True) as con:
        budget = programme_budget(con, 2024).set_index("payer_code")["spend"]
    assert budget.sum() == pytest.approx(100_000)  # never more than the service costs


def test_a_model_never_takes_stored_shares_summing_past_100_percent(tmp_path,
                                                                    empty_workspace):
    from carepath.domain.economics.definitions import load_cba

    with empty_workspace.transaction() as con:  # as an earlier version stored them
        con.execute("INSERT INTO services (service_id, name, year, unit_cost, activity) "
                    "VALUES ('hah', 'H', 2025, 1000, 100)")
        con.execute("INSERT INTO service_payers VALUES ('hah', 2025, 'icb', 1.0), "
                    "('hah', 2025, 'hospice', 0.3)")
    with (empty_workspace.connect(read_only=True) as con,
          pytest.raises(ValidationError, match=r"the catalogue.s payer shares sum to 130\.0%")):
        load_cba(_model_from_catalogue(tmp_path), con)
