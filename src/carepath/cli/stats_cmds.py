"""`carepath stats METHOD INPUT -o OUT`: confidence intervals for an analyst's table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from carepath.cli._common import ReplaceOption

console = Console()

METHOD_HELP = ("proportion (Wilson), rate (exact/Byar's), mean (Student t), dsr (Dobson, "
               "ESP2013), isratio (O/E; denominator = expected), funnel (significance)")


def stats(
    method: Annotated[str, typer.Argument(help=METHOD_HELP)],
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or .xlsx file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output .csv or .xlsx.")],
    numerator: Annotated[str | None, typer.Option(help="Numerator (count) column.")] = None,
    denominator: Annotated[str | None, typer.Option(help="Denominator column.")] = None,
    value: Annotated[str | None, typer.Option(help="Values column (mean).")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Group by this column (repeat).")
                     ] = None,
    confidence: Annotated[str, typer.Option(help="Levels, comma separated.")] = "0.95,0.998",
    multiplier: Annotated[float | None, typer.Option(help="Scale (100 = percent).")] = None,
    ageband: Annotated[str | None, typer.Option(help="ESP2013 age band column (dsr).")] = None,
    statistic: Annotated[str, typer.Option(help="Funnel: proportion, ratio or rate.")
                         ] = "proportion",
    replace: ReplaceOption = False,
) -> None:
    """Compute a statistic with confidence intervals for every group of a table."""
    from carepath.safe_export import check_output_path
    from carepath.stats import table

    check_output_path(output, replace=replace)  # before the work, not after it
    df = table.read_table(input_file)
    result = table.compute_table(
        df, method, numerator=numerator, denominator=denominator, value=value,
        groups=group or [], confidence=table.parse_confidence(confidence),
        multiplier=multiplier, ageband=ageband, statistic=statistic, source=str(input_file))
    table.write_table(result, output)
    console.print(f"Wrote {len(result)} row(s) to [bold]{output}[/]")
    if result.attrs.get("blank"):
        Console(stderr=True).print(f"[yellow]warning[/yellow]: {escape(result.attrs['blank'])}",
                                   highlight=False, soft_wrap=True)
    if not group and method not in ("funnel",):
        console.print("One row: the total of every row of the file (--group COLUMN for one row "
                      "per group).", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
