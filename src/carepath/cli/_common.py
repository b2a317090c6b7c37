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


def rich_table(title: str, columns: list[str], rows: list[list[str]]):
    """A titled table: first column left-aligned (names), the rest right-aligned (figures)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table
