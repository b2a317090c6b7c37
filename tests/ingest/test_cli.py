"""The load commands as a person uses them: one-line errors, summaries, safe exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import NHS_A, write

from carepath.cli import main
from carepath.errors import CarepathError
from carepath.safe_export import neutralise, write_table


def run(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([*map(str, args)])
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_load_prints_a_summary_and_loads_lists_it(ws, tmp_path, capsys):
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\nA1,=HYPERLINK(1),"
                                     "practice,2020-01-01\nA2,B,=cmd|' /C calc'!A0,2020-01-01\n")
    code, out, _ = run(capsys, "load", "-w", ws.path, "organisations", path)
    assert code == 0
    assert "read 2, loaded 1, quarantined 1" in out and "org_type" in out
    code, out, _ = run(capsys, "loads", "-w", ws.path)
    assert code == 0 and "organisations" in out
    export = tmp_path / "q.csv"
    code, out, _ = run(capsys, "quarantine", "-w", ws.path, "--export", export)
    assert code == 0 and "1 quarantined rows" in out
    with export.open(encoding="utf-8-sig") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["masked_value"].startswith("'=cmd")
    code, out, _ = run(capsys, "quarantine", "-w", ws.path)
    assert code == 0 and "not in the code list" in out


UNWRITABLE = "/proc/carepath-test.csv"  # a folder no file can be made in, even by root


def test_a_file_that_cannot_be_written_is_one_line_naming_it(ws, tmp_path, capsys):
    """A file open in Excel, or a read-only share, gave a traceback naming a hidden draft
    (a walkthrough with the real files); ``external show`` printed its whole table first."""
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\nA1,B,nonsense,"
                                     "2020-01-01\n")
    run(capsys, "load", "-w", ws.path, "organisations", path)
    code, out, err = run(capsys, "quarantine", "-w", ws.path, "--export", UNWRITABLE)
    assert code == 2 and f"{UNWRITABLE}: cannot be written" in " ".join((out + err).split())
    assert "Traceback" not in out + err
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(CarepathError, match="carepath-test.csv: cannot be written") as info:
        write_table(frame, Path("/proc/.carepath-test.pending.csv"), named=Path(UNWRITABLE))
    assert "pending" not in str(info.value)  # the user's file, not the draft
    code, out, err = run(capsys, "external", "list", "-w", ws.path, "--out",
                         tmp_path / "x.txt")
    assert code == 2 and "must end .csv or .xlsx" in out + err
    assert "Published indicators" not in out  # refused before the table, not after


def test_errors_are_one_line_with_exit_code_2(ws, tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "org_code,name\nA1,B\n")
    code, _, err = run(capsys, "load", "-w", ws.path, "organisations", path)
    assert code == 2
    assert "bad.csv, row 1" in err and "missing required columns" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "load", "-w", ws.path, "no_such_table", path)
    assert code == 2 and "loadable tables" in err


def test_strict_failure_never_echoes_an_nhs_number(ws, tmp_path, capsys):
    bad = NHS_A[:-1] + "8"
    path = write(tmp_path / "p.csv", f"nhs_number,sex,year_of_birth,practice_code\n"
                                     f"{bad},F,1950,A81001\n")
    code, out, err = run(capsys, "load", "-w", ws.path, "patients", path, "--strict")
    assert code == 2 and "943*******" in err
    assert bad not in out + err


def test_a_file_without_a_header_is_refused_without_echoing_its_first_nhs_number(
        ws, tmp_path, capsys):
    path = write(tmp_path / "noheader.csv", f"{NHS_A}\n{NHS_A[:-1]}8\n")
    code, out, err = run(capsys, "load", "-w", ws.path, "patients", path)
    assert code == 2 and "one column '943*******'" in err
    assert NHS_A not in out + err


def test_load_source_and_sources_list(ws, capsys):
    code, out, _ = run(capsys, "sources")
    assert code == 0 and "cervical_screening" in out
    code, _, err = run(capsys, "load-source", "-w", ws.path, "nope", ".")
    assert code == 2 and "unknown source" in err and "did you mean" not in err
    code, _, err = run(capsys, "load-source", "-w", ws.path, "QOF", ".")
    assert "unknown source 'QOF' (did you mean 'qof'?)" in " ".join(err.split())
    code, _, err = run(capsys, "compute", "-w", ws.path, "-i", "screening_cervical_25_4")
    assert code == 2 and "(did you mean 'screening_cervical_25_49'?)" in " ".join(err.split())


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("-12.5", "-12.5"), ("plain", "plain"), (7, 7), (None, None)])
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize("args", [["load", "--bogus"], ["load", "organisations"],
                                  ["load", "organisations", "x.csv", "--max-errors", "abc"]])
def test_a_mistyped_option_is_a_usage_error_not_a_traceback(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2 and "Usage: carepath load" in err and "Traceback" not in err


def test_text_that_looks_like_markup_is_printed_as_it_is(ws, tmp_path, capsys):
    """A value or file name with [/bold] in it once crashed the summary after the load had
    committed, and every later `quarantine` listing."""
    path = write(tmp_path / "[red]o.csv", "org_code,name,org_type,valid_from,[/x]\n"
                                          "A1,B,[/bold],2020-01-01,1\n")
    code, out, _ = run(capsys, "load", "-w", ws.path, "organisations", path)
    assert code == 0 and "[red]o.csv" in out and "[/x]" in out
    code, out, _ = run(capsys, "quarantine", "-w", ws.path)
    assert code == 0 and "'[/bold]'" in out



def test_table_cells_from_data_are_never_read_as_markup(capsys):
    """Every command's tables (journeys, experience, contracts, the audit log ...) go
    through these helpers; a name '[/bold] ward' crashed them."""
    import pandas as pd

    from carepath.cli._common import rich_table
    from carepath.cli._frames import console, show

    show(pd.DataFrame({"name": ["[/bold] ward"], "n": [3]}), "t")
    console.print(rich_table("t", ["name", "n"], [["[red]x[/red] [/i]", "4"]]))
    out = capsys.readouterr().out
    assert "[/bold] ward" in out and "[red]x[/red] [/i]" in out
    # nor are escape sequences sent to the terminal (a red team, through `carepath audit`)
    console.print(rich_table("t", ["name"], [["a\x1b]8;;http://x\x07b"]]))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "a\ufffd]8;;http://x\ufffdb" in out


def test_a_table_too_wide_says_once_what_every_row_says(capsys):
    """At 80 columns, columns with one value in every row go under the title, so the rest
    are shown whole; the file written keeps every column."""
    import pandas as pd

    from carepath.cli._frames import console, show

    frame = pd.DataFrame({"area_code": ["E06000001", "E06000002"],
                          "area_name": ["Hartlepool", "Redcar and Cleveland"],
                          "period": ["2001", "2001"], "sex": ["all", "all"],
                          "age": ["all", "all"], "category": ["all", "all"],
                          "value": [48.0, 41.9], "lower95": [None, None],
                          "upper95": [None, None], "value_state": ["published", "missing"]})
    wide = console.width
    try:
        console.width = 80
        show(frame, "published values")
        narrow = capsys.readouterr().out
        console.width = 200
        show(frame, "published values")
        roomy = capsys.readouterr().out
    finally:
        console.width = wide
    assert ("(every row: period 2001 · sex all · age all · category all · lower95 – · "
            "upper95 –)") in narrow
    assert "Redcar and Cleveland" in narrow and "E06000002" in narrow and "missing" in narrow
    assert "every row" not in roomy and "category" in roomy  # room enough: as it was


@pytest.mark.parametrize("target, message", [("nodir/q.csv", "does not exist"),
                                             (".", "is a folder"), ("q.xlsx", "must end .csv")])
def test_quarantine_export_refuses_a_path_it_cannot_write(ws, tmp_path, capsys, target,
                                                          message):
    code, _, err = run(capsys, "quarantine", "-w", ws.path, "--export",
                       tmp_path / target if target != "." else tmp_path)
    assert code == 2 and message in err and "Traceback" not in err


def test_table_names_in_any_case_and_unknown_ones_refused_everywhere(ws, tmp_path, capsys):
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\nA1,B,practice,"
                                     "2020-01-01\n")
    code, out, _ = run(capsys, "load", "-w", ws.path, "Organisations", path)
    assert code == 0 and "into organisations" in out
    for command in ("quarantine", "loads"):
        code, _, err = run(capsys, command, "-w", ws.path, "--table", "nosuch")
        assert code == 2 and "unknown table 'nosuch'" in err


def test_the_load_log_names_the_file_by_its_full_path(ws, tmp_path, capsys, monkeypatch):
    """A relative path in the log says nothing once the command's folder is forgotten."""
    write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\nA1,B,practice,2020-01-01\n")
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, "load", "-w", ws.path, "organisations", "o.csv")
    assert code == 0
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT source FROM load_log").fetchall() == [
            (str(tmp_path / "o.csv"),)]


def test_ctrl_c_while_the_database_works_says_interrupted(ws, tmp_path, capsys, monkeypatch):
    """Ctrl+C during a statement reaches Python as DuckDB's interruption and leaves the
    transaction aborted: the clean-up after it then failed too, and the user saw two
    tracebacks instead of one line (a bad-input hunt)."""
    import threading

    from ingest_helpers import snapshot

    from carepath.ingest import loader

    def interrupted(con, *args):
        threading.Timer(0.3, con.interrupt).start()
        con.execute("SELECT count(*) FROM range(1000000000000)").fetchall()

    monkeypatch.setattr(loader, "_load_chunk", interrupted)
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\n"
                                     "A1,A,practice,2020-01-01\n")
    before = snapshot(ws)
    code, _, err = run(capsys, "load", "-w", ws.path, "organisations", path)
    assert code == 130 and "interrupted; nothing was changed" in err
    assert "Traceback" not in err
    assert snapshot(ws) == before


def test_an_error_naming_a_file_after_a_person_is_masked(ws, tmp_path, capsys):
    code, _, err = run(capsys, "load", "-w", ws.path, "organisations",
                       tmp_path / "patient_5774637069.csv")
    assert code == 2 and "patient_577*******.csv" in err and "5774637069" not in err


def test_the_quarantine_shows_current_loads_unless_asked_for_all(ws, tmp_path, capsys):
    """A file loaded again listed its bad rows once per load (a user test counted 15,750
    quarantined rows of a file that has 306)."""
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\n"
                                     "A1,A,practice,2020-01-01\nA2,B,planet,2020-01-01\n")
    other = write(tmp_path / "p.csv", "org_code,name,org_type,valid_from\n"
                                      "B1,B,moon,2020-01-01\n")
    for args in (["organisations", path], ["organisations", path, "--replace"],
                 ["organisations", other]):
        assert run(capsys, "load", "-w", ws.path, *args)[0] == 0
    code, out, _ = run(capsys, "quarantine", "-w", ws.path)
    assert code == 0 and out.count("'planet'") == 1 and out.count("'moon'") == 1
    assert "       2  organisations.org_type" in out
    assert "1 rows of loads since superseded are not counted" in out
    code, out, _ = run(capsys, "quarantine", "-w", ws.path, "--all")
    assert code == 0 and out.count("'planet'") == 2 and "superseded" not in out
    assert "       3  organisations.org_type" in out
    export = tmp_path / "q.csv"
    run(capsys, "quarantine", "-w", ws.path, "--export", export)
    assert len(export.read_text(encoding="utf-8-sig").splitlines()) == 1 + 2


def test_a_published_rows_problem_is_listed_once_for_its_table_rows(ws, tmp_path, capsys):
    """A practice's row of the screening file gives a table row per programme: each bad
    row was listed twice, the same line, with nothing to tell them apart (a user test)."""
    # The header and first two rows of NHS Digital's cervical screening coverage by GP
    # practice, December 2017 (../shared/data/public/cervical_screening_gp_2017_12).
    header = ("region,ccg_name,practice_code,practice_name,eligible_25_49,screened_42m_25_49,"
              "coverage_pct_25_49,suppression_25_49,eligible_50_64,screened_66m_50_64,"
              "coverage_pct_50_64,suppression_50_64")
    area = 'NHS  England North (Yorkshire And Humber),"NHS Airedale, Wharfedale And Craven CCG"'
    first = "B82007,TOWNHEAD SURGERIES,1088,820,75.3676470588235,..,1116,901,80.7347670250896,.."
    second = ("B82020,CROSSHILLS GROUP PRACTICE,1723,1370,79.5124782356355,..,1146,871,"
              "76.0034904013962,..")
    text = "\n".join([header, f"{area},{first}", f"{area},{second}"]) + "\n"
    path = write(tmp_path / "cervical_screening_coverage_gp_dec2017.csv", text)
    orgs = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\n"
                                     "Z1,Z,practice,2000-01-01\n")
    assert run(capsys, "load", "-w", ws.path, "organisations", orgs)[0] == 0
    assert run(capsys, "load-source", "-w", ws.path, "cervical_screening", path)[0] == 0
    code, out, _ = run(capsys, "quarantine", "-w", ws.path)  # not its practices: refused
    listed = [line for line in out.splitlines() if ", row " in line]
    assert code == 0 and len(listed) == 2
    assert all("(2 table rows)" in line for line in listed)


def test_info_counts_organisations_not_their_rows(ws, tmp_path, capsys):
    """Each map loaded adds a row per organisation it names: three maps of England read
    as 20,212 practices (a walkthrough with the real files)."""
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\n"
                                     "A1,Old name,practice,2016-01-01\n"
                                     "A1,New name,practice,2023-03-31\n"
                                     "A2,Other,practice,2023-03-31\n")
    code, out, _ = run(capsys, "load", "-w", ws.path, "organisations", path)
    assert code == 0 and "loaded 3" in out
    code, out, _ = run(capsys, "info", "-w", ws.path)
    flat = " ".join(out.split())
    assert code == 0 and "Organisations: 2 practice (3 rows" in flat
    assert "Calibration" not in flat  # a synthetic county's targets: not for real data
    # its first line labelled (it read "ws  /path/ws  (schema 4)": a walkthrough)
    assert flat.startswith(f"Workspace {ws.config()['name']} at ") and "data model version" in flat


def test_a_load_that_loads_nothing_says_so(ws, tmp_path, capsys):
    """Every row quarantined read as a load like any other (a walkthrough: a screening
    file against a map of another era loaded 0 of 15,138)."""
    path = write(tmp_path / "o.csv", "org_code,name,org_type,valid_from\nA1,B,nonsense,"
                                     "2020-01-01\nA2,C,nonsense,2020-01-01\n")
    code, out, _ = run(capsys, "load", "-w", ws.path, "organisations", path)
    flat = " ".join(out.split())
    assert code == 0 and "nothing was loaded: all 2 rows were quarantined" in flat
