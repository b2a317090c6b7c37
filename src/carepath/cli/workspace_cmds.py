"""`carepath init` and `carepath info`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import WorkspaceOption, open_workspace
from carepath.workspace import Workspace

console = Console()


def init(
    directory: Annotated[Path, typer.Argument(help="Directory to create the workspace in.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create an empty workspace."""
    ws = Workspace.init(directory, name=name)
    console.print(f"Created workspace [bold]{ws.path}[/]")


def info(workspace: WorkspaceOption = None) -> None:
    """Tables, row counts, periods covered, geographies and calibration checks."""
    from carepath.reports.info import render_info

    ws = open_workspace(workspace)
    render_info(ws, console)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(info)
