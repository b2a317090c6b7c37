"""`carepath init` and `carepath info`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import WorkspaceOption, open_workspace
from carepath.errors import ValidationError
from carepath.workspace import Workspace

console = Console()


def init(
    directory: Annotated[Path | None, typer.Argument(
        help="Directory to create the workspace in.", show_default=False)] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    workspace: Annotated[Path | None, typer.Option(
        "-w", "--workspace", help="The directory, as every other command takes it.",
        show_default=False)] = None,
) -> None:
    """Create an empty workspace."""
    # Every other command names its workspace with -w, so `init -w DIR` was refused (a
    # walkthrough): either way is taken, and two that differ are refused.
    if directory and workspace and Path(directory) != Path(workspace):
        raise ValidationError(f"two directories given: {directory} and -w {workspace}",
                              where="DIRECTORY")
    directory = directory or workspace
    if directory is None:
        raise ValidationError("say where to create it: carepath init DIR (or -w DIR)",
                              where="DIRECTORY")
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
