"""`carepath report localities`: batch locality packs (HTML, optionally PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from carepath.cli._common import WorkspaceOption, open_workspace

console = Console()
report_app = typer.Typer(help="Printable reports.", no_args_is_help=True)


@report_app.command("localities")
def localities(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the packs to.")],
    workspace: WorkspaceOption = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write PDFs.")] = False,
    locality: Annotated[str | None, typer.Option(help="One locality (name or code).")] = None,
) -> None:
    """One pack per locality for lead GPs: summary, practices, outliers, definitions."""
    from carepath.reports import batch

    ws = open_workspace(workspace)
    targets = batch.choose_localities(ws, locality)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Locality packs", total=len(targets))
        files = batch.generate(ws, out, pdf=pdf, locality=locality,
                               progress=lambda name: bar.advance(task))
    console.print(f"Wrote {len(files)} files to [bold]{out}[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
