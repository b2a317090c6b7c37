"""`carepath contract ...` end to end on the tiny workspace; every change audited."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess

import yaml

from carepath.cli import main
from carepath.domain.contracts import EXAMPLES_DIR


def run(args, capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _audit(ws) -> list[tuple]:
    with ws.connect(read_only=True) as con:
        return con.execute("SELECT action, target, detail FROM audit_log WHERE action LIKE "
                           "'contract.%' ORDER BY \"at\"").fetchall()


def test_check_example_and_bad_file(tmp_path, capsys):
    code, out, _ = run(["contract", "check", str(EXAMPLES_DIR / "wessex_cancer_contract.yaml")],
                       capsys)
    assert code == 0 and "ok:" in out and "early_stage" in out and "1: fee" in out
    bad = yaml.safe_load((EXAMPLES_DIR / "wessex_eol_contract.yaml").read_text())
    bad["share_at_risk"][5] = "150%"
    bad["framework"] = str(EXAMPLES_DIR / "wessex_eol_framework.yaml")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    code, out, err = run(["contract", "check", str(path)], capsys)
    assert code == 2
    text = out + err
    assert "bad.yaml" in text and "share_at_risk.5" in text


def test_assess_statement_and_audit(contract_ws, contract_file, tmp_path, capsys):
    ws_args = ["-w", str(contract_ws.path)]
    code, out, _ = run(["contract", "assess", *ws_args, str(contract_file), "--year", "3",
                        "--html", str(tmp_path / "a.html")], capsys)
    assert code == 0 and "Not met" in out and "not_met" not in out and "£70,000" in out
    report_html = (tmp_path / "a.html").read_text()
    assert "Summary across outcomes" in report_html and "paying for chance" in report_html
    out_csv = tmp_path / "s.csv"
    code, out, _ = run(["contract", "statement", *ws_args, str(contract_file), "--year", "3",
                        "--out", str(out_csv)], capsys)
    assert code == 0 and "total £970,000.00" in out
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert rows[-1]["line"] == "total" and float(rows[-1]["amount"]) == 970_000
    actions = [a for a, _, _ in _audit(contract_ws)]
    assert actions == ["contract.registered", "contract.registered", "contract.assessed",
                       "contract.statement_issued"]
    issued = json.loads(_audit(contract_ws)[-1][2])
    assert issued["total"] == 970_000 and len(issued["csv_sha256"]) == 64


def test_changes_are_audited_with_the_fields_changed(contract_ws, contract_file, capsys):
    ws_args = ["-w", str(contract_ws.path)]
    assert run(["contract", "register", *ws_args, str(contract_file)], capsys)[0] == 0
    code, out, _ = run(["contract", "register", *ws_args, str(contract_file)], capsys)
    assert "unchanged" in out
    data = yaml.safe_load(contract_file.read_text())
    data["annual_value"] = 1_200_000
    contract_file.write_text(yaml.safe_dump(data))
    code, out, _ = run(["contract", "register", *ws_args, str(contract_file)], capsys)
    assert code == 0 and "contract.changed contract test_contract" in out
    changed = json.loads(_audit(contract_ws)[-1][2])
    assert changed["changed"] == ["annual_value"] and changed["previous_sha256"]
    code, out, _ = run(["contract", "list", *ws_args], capsys)
    said = " ".join(out.split())
    assert "test_contract" in said and "Test contract" in said and "RAA" in said
    assert "2021/22, 7 years" in said  # what each is, not only its file (a walkthrough)
    # the held copy loads on its own, pointing at the held framework
    held = contract_ws.definitions_dir("contracts") / "test_contract.yaml"
    assert run(["contract", "check", str(held)], capsys)[0] == 0


def test_simulate_with_workspace_and_pdf_statement(contract_ws, contract_file, tmp_path,
                                                   capsys):
    code, out, _ = run(["contract", "simulate", "-w", str(contract_ws.path), str(contract_file),
                        "--draws", "500", "--seed", "3"], capsys)
    assert code == 0 and "whole contract" in out and "500 draws" in out
    assert "out of date" not in out
    pdf = tmp_path / "s.pdf"
    code, _, _ = run(["contract", "statement", "-w", str(contract_ws.path), str(contract_file),
                      "--year", "4", "--out", str(pdf)], capsys)
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # nine columns: printed landscape, the reasons readable
    code, out, err = run(["contract", "statement", "-w", str(contract_ws.path),
                          str(contract_file), "--year", "4", "--out", str(tmp_path / "s.doc")],
                         capsys)
    assert code == 2 and ".csv" in out + err


def test_simulate_says_which_values_are_out_of_date(contract_ws, contract_file, capsys):
    """A simulation reads its baselines and volumes from the values: after a definition
    changed without a compute it said nothing (only assess judged freshness)."""
    from .test_assessment import _overridden_without_a_compute

    _overridden_without_a_compute(contract_ws)
    code, out, _ = run(["contract", "simulate", "-w", str(contract_ws.path), str(contract_file),
                        "--draws", "200"], capsys)
    flat = " ".join(out.split())
    assert code == 0 and "values of early_stage_known are out of date" in flat
    assert "the simulation's baselines and volumes are read from them" in flat


def test_check_coproduction_event_ids_against_the_workspace(contract_ws, tmp_path, capsys):
    from .conftest import CONTRACT, FRAMEWORK, write_pair

    fw = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw["coproduction"][0]["event_id"] = "EV1"
    path = write_pair(tmp_path / "cp", fw, CONTRACT)
    code, out, err = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    assert code == 2 and "coproduction[0].event_id" in out + err and "EV1" in out + err
    with contract_ws.transaction() as con:
        con.execute("INSERT INTO coproduction_events (event_id, title, event_date, stage) "
                    "VALUES ('EV1', 'Workshop', DATE '2020-10-01', ?)", [_a_stage()])
    code, out, _ = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    assert code == 0 and "ok:" in out


def _a_stage() -> str:
    from carepath.model.schema import COPRODUCTION_STAGES

    return COPRODUCTION_STAGES[0]


def test_simulate_in_design_mode_without_a_workspace(capsys):
    code, out, _ = run(["contract", "simulate", str(EXAMPLES_DIR / "wessex_eol_contract.yaml"),
                        "--draws", "500"], capsys)
    assert code == 0 and "year 3" in out and "bereaved_rating" in out and "NO" in out
    # Outcome ids whole: two read 'preferred_place_…' at 80 columns (a walkthrough).
    assert "preferred_place_achieved" in out and "preferred_place_asked" in out
    # A fee-based year's table of zeros says why (a check)
    code, out, _ = run(["contract", "simulate", str(EXAMPLES_DIR / "wessex_eol_contract.yaml"),
                        "--draws", "100", "--year", "1"], capsys)
    said = " ".join(out.split())
    assert code == 0 and "Year 1 is fee-based: nothing is at risk" in said
    assert "year 3 is the first with money at risk" in said
    code, out, err = run(["contract", "simulate",
                          str(EXAMPLES_DIR / "wessex_cancer_contract.yaml")], capsys)
    assert code == 2 and "expected_denominator" in out + err


def test_check_with_a_workspace_warns_of_targets_worse_than_the_baseline(contract_ws,
                                                                          tmp_path, capsys):
    from .conftest import CONTRACT, FRAMEWORK, write_pair

    fw = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw["domains"][1]["outcomes"][0]["trajectory"].update({3: 70.0})  # data baseline 71.43
    path = write_pair(tmp_path / "low", fw, CONTRACT)
    code, out, _ = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    text = " ".join(out.split())
    assert code == 0 and "warning: outcome fds: targets below its 2020/21 baseline 71.43 " \
        "(data)" in text and "year 3: 70.0" in text and "pay for a decline" in text
    code, out, _ = run(["contract", "assess", "-w", str(contract_ws.path), str(path),
                        "--year", "3"], capsys)
    assert code == 0 and "pays for a decline" in " ".join(out.split())


def test_check_with_a_workspace_refuses_unknown_network_codes_and_area(contract_ws,
                                                                       tmp_path, capsys):
    from .conftest import CONTRACT, FRAMEWORK, write_pair

    c = yaml.safe_load(yaml.safe_dump(CONTRACT))
    c["subcontractors"][1]["code"] = "HOX"
    path = write_pair(tmp_path / "typo", FRAMEWORK, c)
    code, out, err = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    text = " ".join((out + err).split())
    assert code == 2 and "contract.yaml" in text
    assert "subcontractors[1] (code HOX): no organisation 'HOX' in the workspace" in text
    c = yaml.safe_load(yaml.safe_dump(CONTRACT))
    c["population"]["area_code"] = "QWY"
    path = write_pair(tmp_path / "area", FRAMEWORK, c)
    code, out, err = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    assert code == 2 and "field population: no area 'QWY' of type 'icb'" in " ".join(
        (out + err).split())
    c["population"].update(area_code="QWX", area_type="ICB")  # the type mistyped
    path = write_pair(tmp_path / "type", FRAMEWORK, c)
    code, out, err = run(["contract", "check", "-w", str(contract_ws.path), str(path)], capsys)
    assert code == 2 and "'QWX' is an area of type 'icb'" in " ".join((out + err).split())


def test_simulate_year_0_is_refused_like_assess(capsys):
    path = str(EXAMPLES_DIR / "wessex_eol_contract.yaml")
    code, out, err = run(["contract", "simulate", path, "--year", "0", "--draws", "10"],
                         capsys)
    assert code == 2 and "from 1 to 10; got 0" in " ".join((out + err).split())


def test_assess_says_which_outcome_is_out_of_date(contract_ws, contract_file, capsys):
    from carepath.indicators.library import load_library

    defn = load_library()["fds_28_day_provider"].model_dump(mode="json", exclude_none=True)
    defn["title"] += " (local)"
    folder = contract_ws.definitions_dir("indicators")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fds_28_day_provider.yaml").write_text(yaml.safe_dump(defn))
    code, out, _ = run(["contract", "assess", "-w", str(contract_ws.path), str(contract_file),
                        "--year", "3"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "data quality fds: values of fds_28_day_provider are out of date" \
        in text and "£30,000.00" in text


def test_a_different_framework_with_a_held_id_is_refused(contract_ws, tmp_path, capsys):
    """Two frameworks with one id overwrote each other in the workspace: contract A was
    then assessed on contract B's framework."""
    from .conftest import CONTRACT, FRAMEWORK, other_contract, write_pair

    ws_args = ["-w", str(contract_ws.path)]
    a = write_pair(tmp_path / "a", FRAMEWORK, CONTRACT)
    assert run(["contract", "register", *ws_args, str(a)], capsys)[0] == 0
    fw_b = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw_b["domains"][0]["outcomes"][0]["trajectory"][3] = 51
    b = write_pair(tmp_path / "b", fw_b, other_contract())
    for command in ("register", "assess"):
        args = ["contract", command, *ws_args, str(b)] + (["--year", "3"] if
                                                          command == "assess" else [])
        code, out, err = run(args, capsys)
        text = " ".join((out + err).split())
        assert code == 2 and "already holds a different framework 'test_outcomes', used by " \
            "contract test_contract" in text
    held = contract_ws.definitions_dir("frameworks") / "test_outcomes.yaml"
    assert held.read_text() == (tmp_path / "a" / "framework.yaml").read_text()
    # the same framework again is fine, for this contract or another
    same = write_pair(tmp_path / "same", FRAMEWORK, other_contract())
    assert run(["contract", "register", *ws_args, str(same)], capsys)[0] == 0
    # the only contract using a framework may change it (audited as a change) ... but now
    # two contracts use it, so neither may change it alone
    a2 = write_pair(tmp_path / "a2", fw_b, CONTRACT)
    assert run(["contract", "register", *ws_args, str(a2)], capsys)[0] == 2


def test_the_only_contract_using_a_framework_may_change_it(contract_ws, tmp_path, capsys):
    from .conftest import CONTRACT, FRAMEWORK, write_pair

    ws_args = ["-w", str(contract_ws.path)]
    assert run(["contract", "register", *ws_args,
                str(write_pair(tmp_path / "a", FRAMEWORK, CONTRACT))], capsys)[0] == 0
    fw = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw["domains"][0]["outcomes"][0]["trajectory"][3] = 51
    code, out, _ = run(["contract", "register", *ws_args,
                        str(write_pair(tmp_path / "a2", fw, CONTRACT))], capsys)
    assert code == 0 and "contract.changed framework test_outcomes" in out


def test_a_period_the_data_do_not_cover_yet_withholds_and_forfeits_nothing(contract_ws,
                                                                          tmp_path, capsys):
    """Year 4's early-stage value not computed yet (the data stop short of 2024/25 and its
    follow-up): the pot waits, under a gate that forfeits, and no provider is blamed for
    a late return. Year 5, which no value reaches, gets no statement."""
    from .conftest import CONTRACT, write_pair

    c = yaml.safe_load(yaml.safe_dump(CONTRACT))
    c["payment"]["default"]["data_quality_gate"] = "forfeit"
    path = str(write_pair(tmp_path / "forfeit", contract=c))
    with contract_ws.transaction() as con:
        con.execute("DELETE FROM indicator_values WHERE indicator_id = 'early_stage_known' "
                    "AND period = '2024/25'")
    ws_args = ["-w", str(contract_ws.path)]
    out_csv = tmp_path / "s4.csv"
    code, out, err = run(["contract", "statement", *ws_args, path, "--year", "4",
                          "--out", str(out_csv)], capsys)
    assert code == 0, err
    lines = {r["outcome_id"]: r for r in csv.DictReader(io.StringIO(out_csv.read_text()))}
    assert lines["stage"]["status"] == "withheld" and lines["stage"]["data_quality"] == "not_yet"
    assert lines["stage"]["reason"].startswith(
        "not yet known: Cancers diagnosed at stage 1 or 2: 21 stageable sites, of those with "
        "a known stage has no value for 2024/25 yet")
    assert lines["fds"]["status"] == "forfeited"  # a suppressed provider row: the gate's rule
    assert "late return" not in " ".join(out.split())
    code, out, err = run(["contract", "statement", *ws_args, path, "--year", "5",
                          "--out", str(tmp_path / "s5.csv")], capsys)
    assert code == 2 and "no outcome of year 5 (2025/26) has a value yet" in " ".join(
        (out + err).split())
    assert not (tmp_path / "s5.csv").exists()
    code, out, _ = run(["contract", "assess", *ws_args, path, "--year", "5"], capsys)
    assert code == 0 and "forfeited" not in out and "not yet known stage" in out


def test_check_with_a_workspace_warns_of_a_baseline_the_data_do_not_have(contract_ws,
                                                                         tmp_path, capsys):
    from .conftest import FRAMEWORK, write_pair

    fw = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw["domains"][1]["outcomes"][0]["baseline_period"] = "2019/20"  # no values then
    path = str(write_pair(tmp_path / "nobase", fw))
    code, out, _ = run(["contract", "check", "-w", str(contract_ws.path), path], capsys)
    text = " ".join(out.split())
    assert code == 0 and "warning: outcome fds: no usable value of fds_28_day_provider for " \
        "its baseline period 2019/20 in the workspace, and no agreed baseline_value" in text
    code, out, _ = run(["contract", "check", path], capsys)  # design: nothing to read yet
    assert code == 0 and "no usable value" not in out


def test_the_assessment_report_shows_money_held_back_and_each_years_target(contract_ws,
                                                                          contract_file,
                                                                          tmp_path, capsys):
    """Its warnings left out the pots lost to the data-quality gate, its summary had no
    money, and each chart drew this year's target across every year (a walkthrough)."""
    out = tmp_path / "a4.html"
    code, _, err = run(["contract", "assess", "-w", str(contract_ws.path), str(contract_file),
                        "--year", "4", "--html", str(out)], capsys)
    assert code == 0, err
    page = out.read_text()
    warnings = page.split("<h2>Warnings</h2>")[1].split("</div>")[0]
    assert "Faster diagnosis: pot of £40,000.00 withheld (data-quality gate" in warnings
    summary = page.split('class="summary"')[1].split("</table>")[0]
    assert "<th>Earned</th>" in summary and "£60,000.00" in summary
    from carepath.domain.contracts.assessment import assess_data
    from carepath.domain.contracts.data import read_data
    from carepath.domain.contracts.definitions import load_contract
    from carepath.indicators.library import load_library

    library = load_library()
    contract, fw = load_contract(contract_file, library)
    with contract_ws.connect(read_only=True) as con:
        a = assess_data(read_data(con, contract, fw, library, contract_ws.config()), fw, 4)
    stage = next(o for o in a.outcomes if o.outcome_id == "stage")
    targets = {r["period"]: r["target"] for r in stage.spc_rows}
    assert targets == {"2021/22": 50, "2022/23": 50, "2023/24": 52, "2024/25": 54}


def test_check_says_what_loads_but_is_likely_not_meant(contract_ws, tmp_path, capsys):
    """An extreme threshold, an indicator paid twice, an unknown commissioner: each passed
    check without a word (a walkthrough)."""
    from .conftest import CONTRACT, FRAMEWORK, write_pair

    fw = yaml.safe_load(yaml.safe_dump(FRAMEWORK))
    fw["domains"][1]["outcomes"][0]["indicator"] = "early_stage_known"
    c = yaml.safe_load(yaml.safe_dump(CONTRACT))
    c["commissioners"][0]["code"] = "QWQ"
    c["payment"]["outcomes"] = {"fds": {"rule": "threshold", "threshold": 5}}
    path = str(write_pair(tmp_path / "odd", fw, c))
    code, out, err = run(["contract", "check", "-w", str(contract_ws.path), path], capsys)
    said = " ".join((out + err).split())
    assert code == 0
    assert "outcome fds: threshold 5 asks for 5 times the improvement its target asks" in said
    assert "outcomes stage, fds are all paid on early_stage_known" in said
    assert "commissioners[0] (code QWQ): no organisation 'QWQ' in the workspace" in said
    code, out, _ = run(["contract", "check", "-w", str(contract_ws.path),
                        str(write_pair(tmp_path / "fine"))], capsys)
    assert code == 0 and "warning" not in out


def test_statement_amounts_are_pounds_and_pence_and_reports_are_not_written_over(
        contract_ws, contract_file, tmp_path, capsys):
    ws_args = ["-w", str(contract_ws.path), str(contract_file), "--year", "3"]
    out_csv = tmp_path / "s.csv"
    assert run(["contract", "statement", *ws_args, "--out", str(out_csv)], capsys)[0] == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert rows[-1]["amount"] == "970000.00"  # was 970000.0 (a walkthrough)
    code, out, err = run(["contract", "assess", *ws_args, "--html",
                          str(tmp_path / "nowhere" / "a.html")], capsys)
    assert code == 2 and "does not exist" in out + err  # as statement --out: no folder made
    page = tmp_path / "a.html"
    page.write_text("mine")
    code, out, err = run(["contract", "assess", *ws_args, "--html", str(page)], capsys)
    assert code == 2 and "already exists; add --replace" in " ".join((out + err).split())
    assert page.read_text() == "mine"
    assert run(["contract", "assess", *ws_args, "--html", str(page), "--replace"],
               capsys)[0] == 0 and page.read_text() != "mine"
