"""Calibration targets for synthetic data and the check that compares a workspace with them.

(Placeholder until the synthetic generator lands: prints nothing.)
"""

from __future__ import annotations

from rich.console import Console

from carepath.workspace.workspace import Workspace


def render_calibration(ws: Workspace, console: Console) -> None:
    return None
