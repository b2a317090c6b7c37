"""Numbers on the command line out of their range are refused by the parser, naming the
option, before any work: a negative --seed, --days 0 or --top -3 ended in a numpy or
ValueError traceback (a walkthrough)."""

from __future__ import annotations

import pytest

from carepath.cli import main
from carepath.domain.contracts import EXAMPLES_DIR as CONTRACTS
from carepath.domain.economics.library import EXAMPLES as ECONOMICS


@pytest.mark.parametrize("args, option", [
    (["contract", "simulate", str(CONTRACTS / "wessex_eol_contract.yaml"), "--seed", "-1"],
     "--seed"),
    (["economics", "cba", str(ECONOMICS / "hospice_at_home.yaml"), "--seed", "-1"], "--seed"),
    (["pathway", "gaps", "-w", "nowhere", "--days", "0"], "--days"),
    (["pathway", "gaps", "-w", "nowhere", "--days", "-5"], "--days"),
    (["pathway", "hna", "-w", "nowhere", "--top", "-3"], "--top"),
])
def test_out_of_range_numbers_are_refused_naming_the_option(args, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"Invalid value for '{option}'" in err and "not in the range" in err
    assert "Traceback" not in err


def test_every_command_summary_is_one_line():
    """Command lists showed docstrings' line breaks, summaries broken mid-sentence
    ("the first time it showed\n something": a walkthrough)."""
    import typer

    from carepath.cli import app

    def walk(command, path: str):
        yield path, command
        if hasattr(command, "commands"):  # a group (typer's own click)
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")

    summaries = {path: c.short_help if c.short_help is not None else
                 (c.help or "").split("\n\n")[0]
                 for path, c in walk(typer.main.get_command(app), "carepath")
                 if path != "carepath"}
    assert len(summaries) > 40
    broken = {p: s for p, s in summaries.items() if not s or "\n" in s}
    assert not broken, broken


def test_table_cells_read_as_people_read_them():
    """Respondents '1692' beside positives '1,566', flags 'False', statuses
    'significantly_below_target' (a walkthrough)."""
    import numpy as np

    from carepath.cli._frames import _cell

    assert str(_cell(np.int64(1692), "respondents")) == "1,692"
    assert str(_cell(1566.0, "positive")) == "1,566"
    assert str(_cell(np.int64(2024), "year")) == "2024"
    assert str(_cell(2021, "first_year")) == "2021"
    assert str(_cell(2024.0, "year")) == "2024"  # a year column with a gap is float
    assert (_cell(np.bool_(False), "below_overall"), _cell(True, "x")) == ("no", "yes")
    assert str(_cell("significantly_below_target", "status")) == "significantly below target"
    assert str(_cell("tumour_group", "dimension")) == "tumour_group"  # a code to type back


def test_a_table_wider_than_the_terminal_shows_every_figure_whole():
    """A cost-benefit table at 80 columns cut its figures to '£3…' (a walkthrough)."""
    from rich.console import Console

    from carepath.cli._common import rich_table

    columns = ["organisation", "PV costs", "PV benefits", "NPV", "BCR", "ROI", "payback"]
    rows = [["Wessex Integrated Care Board", "£3,914,630", "£0", "-£3,914,630", "0.00",
             "-100.0%", "–"]]
    for width in (80, 200):
        console = Console(width=width, record=True)
        console.print(rich_table("By organisation", columns, rows, width=width))
        text = console.export_text()
        assert "£3,914,630" in text and "-£3,914,630" in text and "…" not in text
