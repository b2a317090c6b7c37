"""`carepath info`: what is in a workspace."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from carepath.workspace.workspace import Workspace


def render_info(ws: Workspace, console: Console) -> None:
    from carepath.synth.calibration import render_calibration

    cfg = ws.config()
    console.print(f"[bold]{cfg.get('name', ws.path.name)}[/]  {ws.path}  "
                  f"(schema {ws.schema_version()})")
    table = RichTable("table", "rows", title="Data tables")
    for name, count in ws.table_counts().items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    with ws.connect(read_only=True) as con:
        levels = con.execute(
            "SELECT org_type, count(*) FROM organisations GROUP BY 1 ORDER BY 2").fetchall()
        computed = con.execute(
            "SELECT count(DISTINCT indicator_id), count(*), min(period), max(period) "
            "FROM indicator_values").fetchone()
    if levels:
        console.print("Organisations: " + ", ".join(f"{n} {t}" for t, n in levels))
    if computed[1]:
        console.print(f"Indicator values: {computed[0]} indicators, {computed[1]:,} values, "
                      f"periods {computed[2]} to {computed[3]}")
    render_calibration(ws, console)
