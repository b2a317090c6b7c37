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
