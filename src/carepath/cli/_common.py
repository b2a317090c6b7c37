"""Options and helpers shared by CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carepath.workspace import Workspace, resolve_path

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "-w",
        "--workspace",
        help="Workspace directory (default: $CAREPATH_WORKSPACE, else ./workspace).",
        show_default=False,
    ),
]


def open_workspace(option: Path | None) -> Workspace:
    return Workspace.open(resolve_path(option))


def plain(value: object):
    """A table cell shown as it is: rich reads '[...]' in a plain str as markup, and text
    from a file or a user ('[/bold]' in a name) would be mangled or crash the command."""
    from rich.text import Text

    return Text(str(value))


def rich_table(title: str, columns: list[str], rows: list[list[str]]):
    """A titled table: first column left-aligned (names), the rest right-aligned (figures)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*map(plain, row))
    return table
