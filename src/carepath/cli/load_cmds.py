"""`carepath load`, `carepath load-source`, `carepath loads` and `carepath quarantine`."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from carepath.cli._common import ReplaceOption, WorkspaceOption, cli_actor, open_workspace

console = Console()
# Reasons listed under a load's summary; the rest are in `carepath quarantine`.
REASONS_SHOWN = 8
QUARANTINE_SHOWN = 50


def load(
    table: Annotated[str, typer.Argument(help="Target table of the data model.")],
    files: Annotated[list[Path], typer.Argument(help="CSV, Parquet or .xlsx files.")],
    workspace: WorkspaceOption = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping of columns and codes."
                                                 )] = None,
    strict: Annotated[bool, typer.Option(help="Fail (load nothing) on any bad row.")] = False,
    max_errors: Annotated[int | None, typer.Option(
        help="Fail (load nothing) when more than N rows are bad.")] = None,
    replace: Annotated[bool, typer.Option(
        help="Empty the table first and load even files loaded before.")] = False,
) -> None:
    """Load extracts into a table: validated, pseudonymised, all or nothing."""
    from carepath.ingest import load_files, load_mapping

    ws = open_workspace(workspace)
    mapped = load_mapping(mapping) if mapping else None
    results = load_files(ws, table, files, mapping=mapped, strict=strict,
                         max_errors=max_errors, replace=replace, actor=cli_actor())
    print_results(results)


def print_results(results) -> None:
    for res in results:
        # File names, headers and values are the file's text: escaped, never markup.
        console.print(escape(res.summary()), highlight=False, soft_wrap=True)
        for warning in res.warnings:
            console.print(f"  [yellow]note:[/] {escape(warning)}", highlight=False)
        for reason, n in res.reasons.most_common(REASONS_SHOWN):
            console.print(f"  {n:>8,}  {escape(reason)}", highlight=False)
        if len(res.reasons) > REASONS_SHOWN:
            console.print(f"  ... and {len(res.reasons) - REASONS_SHOWN} more reasons: "
                          "see `carepath quarantine`", highlight=False)


def load_source(
    source: Annotated[str, typer.Argument(help="Named source (see `carepath sources`).")],
    path: Annotated[Path, typer.Argument(help="The published file or its folder.")],
    workspace: WorkspaceOption = None,
    replace: Annotated[bool, typer.Option(
        help="Load again even if loaded before; its rows replace those with the same keys.")
    ] = False,
) -> None:
    """Load a published NHS/ONS file by its named source."""
    from carepath.sources import load_source as run

    ws = open_workspace(workspace)
    print_results(run(ws, source, path, replace=replace, actor=cli_actor()))


def sources() -> None:
    """List the named sources that `carepath load-source` understands."""
    from carepath.sources import SOURCES

    for name, info in sorted(SOURCES.items()):
        console.print(f"[bold]{name}[/]  {info.summary}", highlight=False)


def loads(workspace: WorkspaceOption = None,
          table: Annotated[str | None, typer.Option(help="Only this table.")] = None) -> None:
    """The load log: every load with its file hash and read = loaded + quarantined."""
    from carepath.ingest.quarantine import load_log

    log = load_log(open_workspace(workspace), table=table)
    if not log:
        console.print("no loads yet")
    for lid, tbl, src, sha, read, ok, bad, by, at, current in log:
        gone = "" if current else "  (superseded: loaded again, or emptied by --replace)"
        console.print(escape(f"{lid}  {str(at)[:19]}  {by or '-'}  {tbl}: read {read:,} = "
                             f"loaded {ok:,} + quarantined {bad:,}  sha256 {(sha or '')[:12]}"
                             f"  {src}{gone}"),
                      highlight=False, soft_wrap=True)


def quarantine(
    workspace: WorkspaceOption = None,
    table: Annotated[str | None, typer.Option(help="Only this table.")] = None,
    load_id: Annotated[str | None, typer.Option("--load", help="Only this load.")] = None,
    export: Annotated[Path | None, typer.Option(help="Write every row shown to this CSV."
                                                )] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Rows of loads since superseded too (a file loaded again, a table "
                      "emptied by load --replace).")] = False,
    replace: ReplaceOption = False,
) -> None:
    """Rows rejected by validation: file, row, column, masked value and reason."""
    from carepath.ingest.quarantine import (
        export_quarantine,
        quarantine_summary,
        quarantined,
        superseded_rows,
    )
    from carepath.safe_export import check_output_path

    ws = open_workspace(workspace)
    everything = show_all or load_id is not None
    if export is not None:
        check_output_path(export, (".csv",), replace=replace)
        n = export_quarantine(ws, export, table=table, load_id=load_id, everything=everything)
        console.print(escape(f"wrote {n:,} quarantined rows to {export}"), highlight=False)
        return
    summary = quarantine_summary(ws, table=table, load_id=load_id, everything=everything)
    hidden = 0 if everything else superseded_rows(ws, table=table)
    if not summary:
        console.print("the quarantine is empty" if not hidden else
                      f"no quarantined rows of current loads ({hidden:,} of loads since "
                      "superseded: --all shows them)")
        return
    console.print("[bold]by reason[/]")
    for tbl, col, reason, n in summary:
        console.print(escape(f"  {n:>8,}  {tbl}.{col or '(row)'}: {reason}"), highlight=False,
                      soft_wrap=True)
    if hidden:
        console.print(f"  ({hidden:,} rows of loads since superseded are not counted: --all "
                      "shows them)", highlight=False)
    console.print(f"[bold]rows[/] (first {QUARANTINE_SHOWN}; --export writes them all)")
    rows = quarantined(ws, table=table, load_id=load_id, limit=QUARANTINE_SHOWN,
                       everything=everything)
    # A published row gives several table rows (a practice's row, one per programme): the
    # same problem of the same file row is shown once, with how many rows it stopped.
    for (lid, _tbl, src, row, col, val, reason), same in groupby(rows):
        shown = f" = {val!r}" if val is not None else ""
        times = len(list(same))
        again = f" ({times} table rows)" if times > 1 else ""
        console.print(escape(f"  {src}, row {row}, column {col or '-'}{shown}: {reason}"
                             f"{again} ") + f"[dim](load {escape(lid)})[/]", highlight=False,
                      soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(load)
    app.command("load-source")(load_source)
    app.command()(sources)
    app.command()(loads)
    app.command()(quarantine)
