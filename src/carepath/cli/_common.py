"""Options and helpers shared by CLI commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from carepath.errors import REPLACE_FLAG
from carepath.workspace import Workspace, resolve_path

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "-w",
        "--workspace",
        help="Workspace directory (default: $CAREPATH_WORKSPACE, else the current folder "
             "if it is one, else ./workspace).",
        show_default=False,
    ),
]

ReplaceOption = Annotated[bool, typer.Option(
    REPLACE_FLAG, help="Write over the output file if it exists (else it is refused).")]


def cli_actor() -> str:
    """Who a command acts as in the audit log and the release record: ``cli:<login>``,
    one spelling for every command (four spellings of one person, 'root', 'cli:root',
    'cli' and 'carepath synth', had to be searched apart: a walkthrough)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def open_workspace(option: Path | None) -> Workspace:
    return Workspace.open(resolve_path(option))


# Control characters (escape sequences among them) in text from a file or a user: shown as
# a replacement mark, not sent to the terminal (a sign-in name of escapes reached an
# admin's terminal through `carepath audit`: a red team).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object):
    """A table cell shown as it is: rich reads '[...]' in a plain str as markup, and text
    from a file or a user ('[/bold]' in a name) would be mangled or crash the command;
    control characters are shown as marks."""
    from rich.text import Text

    return Text(CONTROL_CHARACTERS.sub("\ufffd", str(value)))


# The first column of a table holds names people read and copy: kept whole when none is
# longer than this (two outcomes of a simulation both read 'preferred_place_…': a
# walkthrough); longer ones wrap.
NAME_COLUMN_MAX = 40


# A table's borders and padding per column, and its outer border.
CELL_CHROME, TABLE_CHROME = 3, 1


def rich_table(title: str, columns: list[str], rows: list[list[str]], *,
               width: int | None = None):
    """A titled table: first column left-aligned (names, not cut short), the rest
    right-aligned (figures). Wider than the terminal (``width``, else its own), each row
    is shown as lines instead: the figures were cut to '£3…' (a walkthrough)."""
    from rich.console import Console
    from rich.table import Table

    natural = sum(max([len(str(col)), *(len(str(r[i])) for r in rows)]) + CELL_CHROME
                  for i, col in enumerate(columns)) + TABLE_CHROME
    if rows and natural > (width or Console().width):
        return _as_lines(title, columns, rows)
    table = Table(title=title, title_justify="left")
    longest = max((len(str(r[0])) for r in rows if r), default=0)
    for i, col in enumerate(columns):
        if i == 0 and longest <= NAME_COLUMN_MAX:  # ids and short names: whole
            table.add_column(col, justify="left", no_wrap=True,
                             min_width=max(longest, len(col)))
        elif i == 0:  # longer text wraps, as a sentence does
            table.add_column(col, justify="left")
        else:
            table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*map(plain, row))
    return table


def _as_lines(title: str, columns: list[str], rows: list[list[str]]):
    """A table too wide for the terminal: each row's name, then its figures named."""
    from rich.console import Group
    from rich.text import Text

    lines = [Text(title, style="bold")]
    for row in rows:
        lines.append(plain(row[0]))
        lines.append(plain("    " + " · ".join(f"{c} {v}" for c, v in
                                                zip(columns[1:], row[1:], strict=True))))
    return Group(*lines)
