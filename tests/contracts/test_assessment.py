"""Assessment of contract years against hand-written values (answers in conftest.py)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath import stats
from carepath.domain.contracts import constants as K
from carepath.domain.contracts import report
from carepath.domain.contracts.assessment import assess, assess_all
from carepath.domain.contracts.definitions import load_contract
from carepath.errors import ValidationError
from carepath.indicators.library import load_library

from .conftest import CONTRACT, write_pair

LIB = load_library()


@pytest.fixture
def loaded(contract_file):
    return load_contract(contract_file, LIB)


def _year(ws, loaded, year):
    contract, fw = loaded
    with ws.connect(read_only=True) as con:
        return assess(con, contract, fw, LIB, year, config=ws.config())


def test_year_3_hand_checked(contract_ws, loaded):
    a = _year(contract_ws, loaded, 3)
    stage, fds = a.outcomes
    assert (a.period, a.value, a.at_risk, a.fee) == ("2023/24", 1_000_000, 100_000, 900_000)
    assert stage.judgement == K.NOT_MET and stage.achievement == pytest.approx(0.5)
    assert stage.baseline_source == "agreed" and stage.dq_status == K.DQ_PASS
    assert stage.pot == pytest.approx(60_000) and stage.payment == pytest.approx(30_000)
    # faster diagnosis pooled over the network: 1090 / 1400 with a Wilson interval
    iv = stats.proportion(1090, 1400, multiplier=100)
    assert fds.point.value == pytest.approx(float(iv.value))
    assert fds.point.lower == pytest.approx(float(iv.lower))
    assert fds.baseline == pytest.approx(100 * 1000 / 1400)  # from the data, pooled
    assert fds.baseline_source == "data"
    assert fds.judgement == K.INDISTINGUISHABLE and fds.credited == 1.0
    assert fds.payment == pytest.approx(40_000)
    assert a.outcome_total == pytest.approx(70_000) and a.total == pytest.approx(970_000)
    assert stage.status == fds.status == K.PAID


def test_an_assessed_outcome_that_earns_nothing_is_not_earned_not_paid(contract_ws, tmp_path):
    # Year 3's stage outcome is half way to target: a threshold of the full target pays 0.
    strict = {**CONTRACT, "payment": {"default": {"rule": "threshold", "threshold": 1}}}
    contract, fw = load_contract(write_pair(tmp_path / "strict", contract=strict), LIB)
    with contract_ws.connect(read_only=True) as con:
        stage, fds = assess(con, contract, fw, LIB, 3, config=contract_ws.config()).outcomes
    assert stage.payment == 0 and stage.status == K.NOT_EARNED
    assert fds.payment > 0 and fds.status == K.PAID


def test_year_4_met_capped_and_data_quality_gate(contract_ws, loaded):
    a = _year(contract_ws, loaded, 4)
    stage, fds = a.outcomes
    assert stage.judgement == K.MET and stage.achievement == pytest.approx(1.25)
    assert stage.payment == pytest.approx(60_000)  # cap 1
    assert fds.dq_status == K.DQ_FAIL and fds.status == K.WITHHELD and fds.payment == 0
    assert "suppressed or missing for RAA" in fds.reason
    assert fds.point.value == pytest.approx(82.5)  # RBB alone, flagged, not paid on


def test_year_without_data_is_withheld_not_zero_performance(contract_ws, loaded):
    a = _year(contract_ws, loaded, 5)
    assert all(o.judgement == K.NO_DATA and o.status == K.WITHHELD for o in a.outcomes)
    assert all(o.point.state == "missing" for o in a.outcomes)
    assert a.outcome_total == 0 and a.total == pytest.approx(a.fee)


def test_attribution_to_subcontractors(contract_ws, loaded):
    fds = _year(contract_ws, loaded, 3).outcomes[1]
    rows = {r["code"]: r for r in fds.attribution}
    assert set(rows) == {"RAA", "RBB", "HOS"}
    assert rows["RAA"]["role"] == "prime" and rows["RBB"]["service_lines"] == "diagnostics"
    assert rows["RAA"]["value"] == pytest.approx(76.0)
    assert rows["RBB"]["value"] == pytest.approx(82.5)
    assert rows["RAA"]["share"] == pytest.approx(1000 / 1400)
    assert rows["RBB"]["judgement"] == K.MET  # 82.5 (78.5-85.9) against 76
    assert rows["HOS"]["state"] == "missing"  # no activity: not a data-quality failure
    assert _year(contract_ws, loaded, 3).outcomes[0].attribution == []  # population outcome


def test_data_quality_indicator_below_minimum(contract_ws, contract_file):
    import yaml

    fw_path = contract_file.parent / "framework.yaml"
    fw = yaml.safe_load(fw_path.read_text())
    fw["domains"][0]["outcomes"][0]["data_quality"]["min_value"] = 90
    fw_path.write_text(yaml.safe_dump(fw))
    stage = _year(contract_ws, load_contract(contract_file, LIB), 3).outcomes[0]
    assert stage.status == K.WITHHELD
    assert "stage_recorded_pct 80.0 below the minimum 90" in stage.reason


def test_fee_based_years_pay_nothing_at_risk_and_all_years_in_one_read(contract_ws, loaded):
    contract, fw = loaded
    with contract_ws.connect(read_only=True) as con:
        years = assess_all(con, contract, fw, LIB, config=contract_ws.config())
    assert [a.year for a in years] == list(range(1, 8))
    for a in years[:2]:
        assert a.fee_based and a.at_risk == 0 and a.total == a.value
        assert all(o.status == K.FEE_BASED and o.payment == 0 for o in a.outcomes)
    assert years[2].outcome_total == pytest.approx(70_000)


def test_year_outside_term_rejected(contract_ws, loaded):
    with pytest.raises(ValidationError, match="from 1 to 7"):
        _year(contract_ws, loaded, 8)


def test_statement_csv_lines_add_up(contract_ws, loaded):
    a = _year(contract_ws, loaded, 3)
    rows = list(csv.DictReader(io.StringIO(report.statement_csv(a))))
    lines = [r["line"] for r in rows]
    assert lines == ["fee", "outcome", "outcome", "outcome_total", "total"]
    fee, *outcomes, sub, total = (float(r["amount"]) for r in rows)
    assert sum(outcomes) == pytest.approx(sub) and fee + sub == pytest.approx(total)
    assert "half" not in rows[1]["reason"] and "50%" in rows[1]["reason"]
    assert rows[-2]["reason"] == "of £100,000.00 at risk"
    assert rows[-1]["reason"] == "of an annual value of £1,000,000.00"
    # Each outcome's pot and what it did not pay, so the CSV alone reconciles the money at
    # risk (withheld pots were only in the HTML: an independent check)
    pots = [float(r["pot"]) for r in rows[1:3]]
    unpaid = [float(r["not_paid"]) for r in rows[1:3]]
    assert sum(pots) == pytest.approx(float(rows[-2]["pot"])) == 100_000
    assert [p - u for p, u in zip(pots, unpaid, strict=True)] == pytest.approx(outcomes)
    assert float(rows[-2]["not_paid"]) == pytest.approx(100_000 - sub)
    assert sum(float(r["weight_pct"]) for r in rows[1:3]) == pytest.approx(100)  # not 1
    html = report.statement_html(a)
    assert "970,000.00" in html and "<script" not in html


def test_assessment_html_has_icons_table_and_no_external_assets(contract_ws, loaded):
    a = _year(contract_ws, loaded, 3)
    html = report.assessment_html(a, svg_charts=False)
    assert "Summary across outcomes" in html and "mdc-icon" in html
    assert "http://" not in html.replace("http://www.w3.org", "")


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 1), st.floats(1e3, 1e8))
def test_fee_based_year_pays_whole_value_as_fee(share, value):
    from carepath.domain.contracts.definitions import Contract

    from .conftest import CONTRACT

    data = {**CONTRACT, "annual_value": value,
            "share_at_risk": {**CONTRACT["share_at_risk"], 3: share}}
    c = Contract.model_validate(data)
    assert c.at_risk(1) == 0 and c.fee_based(1)
    assert 0 <= c.at_risk(3) <= c.value(3)


def _with(tmp_path, fw_edit=None, c_edit=None):
    import copy

    from .conftest import FRAMEWORK

    fw, c = copy.deepcopy(FRAMEWORK), copy.deepcopy(CONTRACT)
    if fw_edit:
        fw_edit(fw)
    if c_edit:
        c_edit(c)
    return load_contract(write_pair(tmp_path / "edited", fw, c), LIB)


def test_a_target_on_the_worse_side_of_the_baseline_is_warned_of(contract_ws, tmp_path):
    """The shipped example's early-stage targets lay below the data's baseline: a decline
    earned the full pot without a word."""
    from carepath.domain.contracts.assessment import target_warnings
    from carepath.domain.contracts.data import read_data

    def lower(fw):
        fw["domains"][0]["outcomes"][0]["trajectory"].update({3: 48.5, 4: 49})
    loaded = _with(tmp_path, fw_edit=lower)
    stage = _year(contract_ws, loaded, 3).outcomes[0]
    assert any("2023/24 target 48.5 lies below the baseline 50.00 (agreed) although higher "
               "is better: the contract pays for a decline" in w for w in stage.warnings)
    assert "51.00 is above the baseline 50.00, no worse than it; the target 48.5 allows a " \
        "decline" in stage.reason
    contract, fw = loaded
    with contract_ws.connect(read_only=True) as con:
        data = read_data(con, contract, fw, LIB, contract_ws.config())
    said = target_warnings(data, fw)
    assert len(said) == 1 and "outcome stage" in said[0]
    assert "year 3: 48.5, year 4: 49.0" in said[0]
    rows = list(csv.DictReader(io.StringIO(report.statement_csv(_year(contract_ws, loaded,
                                                                      3)))))
    assert "pays for a decline" in rows[1]["warnings"]
    assert "Read before paying" in report.statement_html(_year(contract_ws, loaded, 3))


def _overridden_without_a_compute(ws) -> dict:
    """The library with a workspace override of early_stage_known, not computed since:
    its stored values are out of date."""
    import yaml

    from carepath.indicators.library import read_library

    defn = LIB["early_stage_known"].model_dump(mode="json", exclude_none=True)
    defn["title"] = defn["title"] + " (local)"
    folder = ws.definitions_dir("indicators")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "early_stage_known.yaml").write_text(yaml.safe_dump(defn))
    library, unreadable = read_library(folder)
    assert not unreadable
    return library


def test_out_of_date_values_are_not_paid_on(contract_ws, loaded):
    """After a workspace override of an indicator's definition without a compute, the
    year was paid on the old values without a word."""
    library = _overridden_without_a_compute(contract_ws)
    contract, fw = loaded
    with contract_ws.connect(read_only=True) as con:
        a = assess(con, contract, fw, library, 3, config=contract_ws.config())
    stage, fds = a.outcomes
    assert stage.dq_status == K.DQ_FAIL and stage.status == K.WITHHELD and stage.payment == 0
    assert "values of early_stage_known are out of date (its definition changed since)" \
        in stage.reason and "carepath compute" in stage.reason
    assert fds.dq_status == K.DQ_PASS and fds.payment == pytest.approx(40_000)
    html = report.statement_html(a)
    assert "Read before paying" in html and "out of date" in html


def test_out_of_date_values_withhold_even_under_a_forfeiting_gate(contract_ws, tmp_path):
    """Values out of date are Carepath's state, not the provider's data: a gate that
    forfeits the pot for bad data lost it for a compute not yet run."""
    def forfeit(c):
        c["payment"]["default"]["data_quality_gate"] = "forfeit"
    contract, fw = _with(tmp_path, c_edit=forfeit)
    library = _overridden_without_a_compute(contract_ws)
    with contract_ws.connect(read_only=True) as con:
        stage = assess(con, contract, fw, library, 3, config=contract_ws.config()).outcomes[0]
    assert stage.dq_status == K.DQ_FAIL and stage.status == K.WITHHELD
    assert "withheld until the values are computed again" in stage.reason


def test_a_network_provider_without_a_row_in_the_year_fails_the_data_quality_gate(tmp_path):
    """A late return: RBB has rows in other years but none in 2023/24. The network value
    silently left it out, then a warning paid on the rest of the network, so holding back
    a poor return paid more than sending it suppressed (an independent check)."""
    from carepath.workspace import Workspace

    from .conftest import ROWS, insert_values

    ws = Workspace.init(tmp_path / "late")
    insert_values(ws, [r for r in ROWS if not (r[3] == "RBB" and r[7] == "2023/24")])
    fds = _year(ws, load_contract(write_pair(tmp_path / "d"), LIB), 3).outcomes[1]
    assert any("no value in 2023/24 for RBB" in r and "late return" in r
               for r in fds.dq_reasons)
    assert fds.dq_status == K.DQ_FAIL and fds.status == K.WITHHELD and fds.payment == 0
    assert not any("HOS" in r for r in fds.dq_reasons)  # never any activity: not a gap


def test_a_provider_that_stopped_is_warned_of_once(tmp_path):
    """RBB's rows end in 2020/21: its first year without (2023/24, the next with any
    provider's rows) says so; the years after, when others have rows and it has none,
    say no more (a provider that stopped a service was warned of every year). A gap
    between its rows is warned of each time."""
    from carepath.workspace import Workspace

    from .conftest import ROWS, insert_values

    ws = Workspace.init(tmp_path / "stopped")
    insert_values(ws, [r for r in ROWS if not (r[3] == "RBB" and r[7] != "2020/21")])
    loaded = load_contract(write_pair(tmp_path / "d"), LIB)
    warned = {year: any("for RBB" in r for r in _year(ws, loaded, year).outcomes[1].dq_reasons)
              for year in (3, 4)}
    assert warned == {3: True, 4: False}


def test_network_codes_unknown_to_the_workspace_are_warned_of(contract_ws, tmp_path):
    def typo(c):
        c["subcontractors"][0]["code"] = "RBX"
    a = _year(contract_ws, _with(tmp_path, c_edit=typo), 3)
    assert any("subcontractors[0] (code RBX): no organisation 'RBX'" in w
               for w in a.warnings)
    rows = list(csv.DictReader(io.StringIO(report.statement_csv(a))))
    assert "RBX" in rows[0]["warnings"]


def test_an_unknown_population_area_is_warned_of_when_assessed(contract_ws, tmp_path):
    """Only `check -w` said so: an assessment read 'no data' year after year."""
    def typo(c):
        c["population"]["area_code"] = "QWZ"
    a = _year(contract_ws, _with(tmp_path, c_edit=typo), 3)
    assert any("no area 'QWZ' of type 'icb'" in w for w in a.warnings)
    assert not any("no area" in w for w in _year(contract_ws, _with(tmp_path), 3).warnings)


def test_a_change_in_the_areas_practices_is_warned_of(contract_ws, loaded):
    """The practices making up QWX at the baseline differ from those in 2023/24."""
    with contract_ws.transaction() as con:
        con.executemany("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, 'practice', DATE '2013-04-01')",
                        [(p, p) for p in ("P1", "P2", "P3", "P4")])
        con.executemany("INSERT INTO org_hierarchy VALUES (?, 'QWX', 'icb', ?, ?)", [
            ("P1", "2013-04-01", None), ("P2", "2013-04-01", None),
            ("P3", "2013-04-01", "2022-03-31"),  # left before 2023/24
            ("P4", "2023-04-01", None)])         # joined in 2023/24
    stage, fds = _year(contract_ws, loaded, 3).outcomes
    said = [w for w in stage.warnings if "practices making up QWX" in w]
    assert len(said) == 1
    assert "baseline 2020/21 (3 practices) and 2023/24 (3): 1 joined and 1 left" in said[0]
    assert not any("practices" in w for w in fds.warnings)  # provider outcome


def test_targets_and_values_are_shown_with_the_targets_decimals(contract_ws, tmp_path):
    """A target of 9.05 printed as 9.1 (and 9.25 as 9.2): met or not was not visible."""
    def fine(fw):
        fw["domains"][0]["outcomes"][0]["trajectory"].update({3: 51.05})
    a = _year(contract_ws, _with(tmp_path, fw_edit=fine), 3)
    rows = list(csv.DictReader(io.StringIO(report.statement_csv(a))))
    assert rows[1]["target"] == "51.05" and rows[1]["value"] == "51.000"
    assert rows[1]["lower"] == "50.500"
    assert "51.05" in report.statement_html(a) and "51.05" in report.assessment_html(
        a, svg_charts=False)


def test_statement_lines_add_up_to_the_penny(contract_ws, tmp_path):
    """Each line was rounded on its own: 30,000.0024 + 40,000.0032 printed as 30,000.00
    + 40,000.00 under a subtotal of 70,000.01."""
    from decimal import Decimal

    a = _year(contract_ws, _with(tmp_path, c_edit=lambda c: c.update(
        annual_value=1_000_000.08)), 3)
    rows = list(csv.DictReader(io.StringIO(report.statement_csv(a))))
    fee, *outcomes, sub, total = (Decimal(r["amount"]) for r in rows)
    assert sum(outcomes) == sub and fee + sub == total
    assert Decimal(str(a.total)) == total


def test_an_spc_chart_draws_no_line_that_has_no_values():
    """Too few points for limits: Vega warned 'Infinite extent for field mean' (a
    walkthrough of a contract's first year)."""
    from carepath.domain.contracts.charts import spc_chart

    rows = [{"period": p, "value": v, "mean": None, "lpl": None, "upl": None,
             "point_type": None, "target": None} for p, v in (("2021/22", 50.0),
                                                              ("2022/23", 51.0))]
    fields = {layer["encoding"]["y"]["field"] for layer in
              spc_chart(rows, title=None, y_title="%")["layer"]}
    assert fields == {"value"}
    rows[1]["target"] = 52.0
    assert "target" in {layer["encoding"]["y"]["field"] for layer in
                        spc_chart(rows, title=None, y_title="%")["layer"]}


def test_a_means_providers_share_of_volume_is_their_share_of_respondents():
    """A mean has respondents and no denominator: the shares were blank (a check)."""
    from types import SimpleNamespace

    import pandas as pd

    from carepath.domain.contracts.assessment import attribution

    rows = pd.DataFrame({"area_code": ["RAA", "RBB"], "period": "2023/24",
                         "numerator": [300.0, 100.0], "denominator": [None, None],
                         "value": [8.8, 8.9], "lower95": [8.7, 8.7], "upper95": [8.9, 9.1],
                         "lower998": [8.6, 8.6], "upper998": [9.0, 9.2],
                         "value_state": "published", "value_note": None})
    providers = [SimpleNamespace(code=c, name=c, service_lines=[]) for c in ("RAA", "RBB")]
    data = SimpleNamespace(
        library={"mean_score": SimpleNamespace(attribution="provider", statistic="mean",
                                               higher_is_better=True)},
        provider_rows=lambda ind, period: rows,
        contract=SimpleNamespace(providers=providers, prime_provider=providers[0],
                                 judgement_confidence=0.95))
    shares = {r["code"]: r["share"] for r in
              attribution(data, SimpleNamespace(indicator="mean_score"), "2023/24", 9.0)}
    assert shares == pytest.approx({"RAA": 0.75, "RBB": 0.25})


def test_a_value_with_no_target_for_the_year_is_reported_not_judged(contract_ws, tmp_path):
    """A zero-weight outcome (reported, paid nothing) with no trajectory read "No usable
    value" beside its value (a check)."""
    def no_year_3(fw):
        stage, fds = fw["domains"][0]["outcomes"][0], fw["domains"][1]["outcomes"][0]
        del stage["trajectory"][3]
        stage["weight"], fds["weight"] = 0, 1
    stage = _year(contract_ws, _with(tmp_path, fw_edit=no_year_3), 3).outcomes[0]
    assert stage.point.value == pytest.approx(51.0)
    assert stage.judgement == K.NO_TARGET and stage.payment == 0
    assert stage.reason == "no trajectory for this year"
