"""`carepath synth`: make a synthetic workspace (Wessex county or all England)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carepath.cli._common import WorkspaceOption
from carepath.workspace import resolve_path

console = Console()


def synth(
    workspace: WorkspaceOption = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")
                    ] = 42,
    scale: Annotated[str, typer.Option(help="county (Wessex, ~780,000 people) or england "
                                            "(~63 million, 42 ICBs).")] = "county",
    years: Annotated[int, typer.Option(help="Financial years to generate, ending 2024/25.")
                     ] = 5,
) -> None:
    """Create a new workspace filled with calibrated synthetic data and planted variation."""
    from carepath.synth.generator import SynthOptions, synthesise

    target = resolve_path(workspace)
    options = SynthOptions(seed=seed, scale=scale, years=years)
    options.validate()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("building organisations", total=None)

        def report(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)

        result = synthesise(Path(target), options, progress=report)
    total = sum(result.rows.values())
    console.print(f"Created [bold]{result.workspace.path}[/]: {scale}, seed {seed}, "
                  f"{years} years, {total:,} rows in {len(result.rows)} tables; "
                  f"{len(result.manifest['planted'])} planted outliers in synth_manifest.json")


def register(app: typer.Typer) -> None:
    app.command()(synth)
