"""`carepath economics ...` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from carepath.cli import main

from .conftest import EXAMPLES


def run(args, capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cba_prints_results_and_writes_csv_html_xlsx(tmp_path, capsys):
    code, out, _ = run(["economics", "cba", f"{EXAMPLES}/hospice_at_home.yaml", "--draws",
                        "300", "--seed", "5", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert "P(NPV > 0)" in out and "One-way sensitivity" in out
    # the cost-shift matrix names organisations as the table above does (it gave codes)
    assert "acute_trust" not in out and "Wessex University Hospitals NHS Trust" in out
    orgs = pd.read_csv(tmp_path / "wessex-hospice-at-home-organisations.csv")
    assert orgs["npv"].iloc[:-1].sum() == pytest.approx(orgs["npv"].iloc[-1])
    mc = pd.read_csv(tmp_path / "wessex-hospice-at-home-monte_carlo.csv")
    assert set(mc["draws"]) == {300}
    html = (tmp_path / "wessex-hospice-at-home.html").read_text()
    assert "Who pays, who benefits" in html and "<svg" in html
    assert "src=\"http" not in html and "<script" not in html  # self-contained, offline
    sheets = load_workbook(tmp_path / "wessex-hospice-at-home.xlsx").sheetnames
    assert {"summary", "organisations", "cost_shift", "tornado", "monte_carlo",
            "inputs_services", "inputs_benefits", "inputs_uncertainty"} <= set(sheets)
    # The finance download sets the base case beside the NPV at the means, as the page does.
    summary = pd.read_csv(tmp_path / "wessex-hospice-at-home-summary.csv")
    figures = dict(zip(summary["measure"], summary["value"], strict=True))
    base = float(figures["NPV, base case (every parameter at its base value)"])
    means = float(figures["NPV, uncertain parameters at their distributions' means"])
    assert base == pytest.approx(orgs["npv"].iloc[-1]) and abs(base - means) > 100_000


def test_cba_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "m.yaml"
    bad.write_text("id: x\n")
    code, _, err = run(["economics", "cba", str(bad)], capsys)
    assert code == 2 and "m.yaml" in err and "Traceback" not in err


def test_services_pbma_and_decisions_with_a_workspace(empty_workspace, tmp_path, capsys):
    ws = str(empty_workspace.path)
    code, out, err = run(["economics", "services", "load", "-w", ws,
                          f"{EXAMPLES}/wessex_services.csv"], capsys)
    assert code == 0 and "Loaded 14 service-years" in out
    # an empty workspace has no organisations: loaded, the codes shown as they are, said
    assert "NWX01, QWX, RWX, RWZ, VWX01 are not in the workspace's organisations" in \
        " ".join(err.split())
    code, out, _ = run(["economics", "services", "list", "-w", ws, "--year", "2025"], capsys)
    assert code == 0 and "Programme budget 2025/26" in out
    code, _, err = run(["economics", "services", "list", "-w", ws, "--year", "2031"], capsys)
    assert code != 0 and "no services for 2031/32; it has 2024/25, 2025/26" in \
        " ".join(err.split())
    pbma = f"{EXAMPLES}/wessex_lwbc_pbma.yaml"
    code, out, _ = run(["economics", "decide", pbma, "-w", ws, "--option", "dup_phone",
                        "--decision", "disinvest", "--rationale",
                        "Duplicates the CNS clinic; patients agreed."], capsys)
    assert code == 0 and "Recorded decision" in out
    code, out, _ = run(["economics", "pbma", pbma, "-w", ws, "--out", str(tmp_path)], capsys)
    assert code == 0 and "cost/point" in out
    html = (tmp_path / "wessex-lwbc-2025.html").read_text()
    assert "Duplicates the CNS clinic" in html
    code, out, _ = run(["economics", "decisions", "-w", ws], capsys)
    assert "dup_phone" in out


def test_example_command_copies_a_runnable_model(tmp_path, capsys):
    code, _, _ = run(["economics", "example", str(tmp_path)], capsys)
    assert code == 0
    code, out, _ = run(["economics", "cba", str(tmp_path / "hospice_at_home.yaml"),
                        "--draws", "0"], capsys)
    assert code == 0 and "Monte Carlo" not in out


def test_install_examples_into_a_workspace(empty_workspace, capsys):
    from carepath.domain.economics.library import discover

    code, out, _ = run(["economics", "install-examples", "-w", str(empty_workspace.path)],
                       capsys)
    assert code == 0 and "Installed" in out
    entries = discover(empty_workspace.path)
    assert {e.kind for e in entries} == {"cba", "pbma"}
    assert not any(e.example for e in entries)  # now the workspace's own
    with empty_workspace.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM services").fetchone()[0] == 14


def test_cba_headings_name_the_price_year_not_the_base_year(tmp_path, capsys):
    text = Path(f"{EXAMPLES}/hospice_at_home.yaml").read_text()
    for name in ("benefits.csv", "unit_values.csv", "uncertainty.csv"):
        (tmp_path / name).write_text(Path(f"{EXAMPLES}/{name}").read_text())
    model = tmp_path / "m.yaml"
    model.write_text(text.replace("base_year: 2025", "base_year: 2026"))
    code, out, _ = run(["economics", "cba", str(model), "--draws", "0", "--out",
                        str(tmp_path / "out")], capsys)
    assert code == 0
    flat = " ".join(out.split())
    assert "(PV, 2025 prices)" in flat and "2026 prices" not in flat
    assert "Service costs are taken as 2025 prices" in flat
    html = (tmp_path / "out" / "wessex-hospice-at-home.html").read_text()
    assert "present values in 2025 prices" in " ".join(html.split())


def test_cba_report_shows_pence_and_the_npv_at_the_distributions_means(tmp_path, capsys):
    code, out, _ = run(["economics", "cba", f"{EXAMPLES}/hospice_at_home.yaml", "--draws",
                        "200", "--out", str(tmp_path)], capsys)
    assert code == 0
    flat = " ".join(out.split())
    assert "at the distributions' means £68,569" in flat and "P(BCR > 1) =" in flat
    html = " ".join((tmp_path / "wessex-hospice-at-home.html").read_text().split())
    assert "£12.50 per hour of informal care" in html  # not £12
    assert "with the uncertain parameters at their distributions' means it is £68,569" in html


def test_a_service_naming_an_unknown_indicator_is_refused(empty_workspace, tmp_path, capsys):
    """A misspelt id loaded without a word and left a broken link (a walkthrough)."""
    src = Path(EXAMPLES) / "wessex_services.csv"
    bad = tmp_path / "services.csv"
    text = src.read_text()
    assert "hna_within_31_days" in text
    bad.write_text(text.replace("hna_within_31_days", "hna_within_31_dayz", 1))
    code, out, err = run(["economics", "services", "load", "-w", str(empty_workspace.path),
                          str(bad)], capsys)
    said = " ".join((out + err).split())
    assert code == 2 and "unknown indicator 'hna_within_31_dayz' (did you mean " \
        "'hna_within_31_days'?)" in said and "services.csv, row" in said
    with empty_workspace.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM services").fetchone()[0] == 0


def test_a_decision_made_again_in_the_same_words_is_not_recorded_twice(empty_workspace,
                                                                       capsys):
    """Run twice, `decide` recorded the decision twice; `decisions` did not say which
    exercise; investing beyond the money available passed without a word (a walkthrough)."""
    ws = str(empty_workspace.path)
    decide = ["economics", "decide", f"{EXAMPLES}/wessex_lwbc_pbma.yaml", "-w", ws,
              "--option", "psfu", "--decision", "disinvest", "--rationale",
              "Panel agreed: supported self-management is safe"]
    assert run(decide, capsys)[0] == 0
    code, out, err = run(decide, capsys)
    assert code == 2 and "already the decision recorded" in " ".join((out + err).split())
    changed = [*decide[:-1], "Panel agreed again, for another reason"]
    assert run(changed, capsys)[0] == 0  # new reasons: a new record
    code, out, _ = run(["economics", "decisions", "-w", ws], capsys)
    assert code == 0 and "wessex-lwbc-2025" in out and out.count("psfu") == 2


def test_investing_in_what_the_selection_left_unfunded_is_warned_of(empty_workspace, capsys):
    code, out, _ = run(["economics", "decide", f"{EXAMPLES}/wessex_lwbc_pbma.yaml", "-w",
                        str(empty_workspace.path), "--option", "hah", "--decision", "invest",
                        "--rationale", "The panel wants hospice at home anyway"], capsys)
    said = " ".join(out.split())
    assert code == 0 and "Recorded decision" in said
    assert "warning: the selection within the money available" in said
    assert "leaves hah unfunded: investing in it commits £" in said


def test_a_report_folder_that_is_a_file_is_refused_before_the_work(tmp_path, capsys):
    """The whole analysis ran, then 'File exists' (a walkthrough)."""
    a_file = tmp_path / "report"
    a_file.write_text("mine")
    for command in (["economics", "cba", f"{EXAMPLES}/hospice_at_home.yaml"],
                    ["economics", "pbma", f"{EXAMPLES}/wessex_lwbc_pbma.yaml"]):
        code, out, err = run([*command, "--out", str(a_file)], capsys)
        assert code == 2 and "is a file: give a folder" in out + err
        assert "NPV" not in out and a_file.read_text() == "mine"


def test_a_unit_cost_is_shown_with_its_pence():
    """'£68 × 3,849 = £259,923' read wrong for £67.53 (a check)."""
    from carepath.cli.econ_cmds import _money

    assert _money(67.53, pence=True) == "£67.53"
    assert _money(148.0, pence=True) == "£148"
    assert _money(67.53) == "£68" and _money(float("nan"), pence=True) == "–"
