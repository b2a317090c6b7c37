"""`carepath info`: what is in a workspace."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from carepath.model.schema import table as schema_table
from carepath.workspace.workspace import Workspace


def _covered(con, name: str) -> str:
    """First to last date of the column that places a table's rows in a period."""
    dates = schema_table(name).dates
    if not dates:
        return ""
    first, last = con.execute(f'SELECT min("{dates[0]}"), max("{dates[0]}") FROM "{name}"'
                              ).fetchall()[0]
    return f"{first} to {last} ({dates[0]})" if first else ""


def render_info(ws: Workspace, console: Console) -> None:
    from carepath.synth.calibration import render_calibration
    from carepath.synth.planted import MANIFEST_NAME

    cfg = ws.config()
    # Labelled: "wessex  wessex  (schema 4)" read as a name said twice (a walkthrough).
    console.print(f"Workspace [bold]{escape(str(cfg.get('name', ws.path.name)))}[/] at "
                  f"{escape(str(ws.path))} (data model version {ws.schema_version()})",
                  highlight=False)
    table = RichTable("table", "rows", "dates covered", title="Data tables")
    with ws.connect(read_only=True) as con:
        for name, count in ws.table_counts().items():
            table.add_row(name, f"{count:,}", _covered(con, name) if count else "")
    console.print(table)
    with ws.connect(read_only=True) as con:
        # Codes, not rows: each map loaded adds a row per organisation it names (three
        # maps of England read as 20,212 practices, a walkthrough).
        levels = con.execute(
            "SELECT org_type, count(DISTINCT org_code), count(*) FROM organisations "
            "GROUP BY 1 ORDER BY 2").fetchall()
        computed = con.execute(
            "SELECT count(DISTINCT indicator_id), count(*), min(period), max(period) "
            "FROM indicator_values").fetchone()
    if levels:
        console.print("Organisations: " + ", ".join(f"{n:,} {t}" for t, n, _ in levels)
                      + _versions(levels))
        _say_crossings(ws, console)
    if computed[1]:
        console.print(f"Indicator values: {computed[0]} indicators, {computed[1]:,} values, "
                      f"periods {computed[2]} to {computed[3]}")
        say_out_of_date(ws, console)
    if (ws.path / MANIFEST_NAME).is_file():  # a synthetic county's targets: noise on real data
        render_calibration(ws, console)


def say_out_of_date(ws: Workspace, console: Console, *, serving: bool = False) -> None:
    """The indicators whose values are not what a compute would give now, and why: the
    web pages said so, `info` did not (a new user's walkthrough); nor did `serve`, whose
    public pages then withhold them (``serving``)."""
    from carepath.engine.freshness import out_of_date
    from carepath.indicators.library import read_library
    from carepath.reports.export import grouped

    definitions, unreadable = read_library(ws.definitions_dir("indicators"))
    with ws.connect(read_only=True) as con:
        stale = out_of_date(con, definitions, ws.config(), unreadable)
    if stale:
        withheld = ("; the public pages and API withhold them until `carepath compute` runs "
                    "again (stop the server first)" if serving else "")
        console.print(f"[yellow]{len(stale)} indicator(s) out of date[/yellow]{withheld}:",
                      highlight=False)
        for line in grouped(stale):
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


CROSSINGS_LISTED = 5


def _say_crossings(ws: Workspace, console: Console) -> None:
    """Practices in an area whose parent is not their own (a PCN taking a practice of
    another locality): each area's figures are its own practices', so a locality is then
    not the sum of its PCNs, unsaid until an independent recomputation found it."""
    from carepath.ingest.hierarchy import crossings

    with ws.connect(read_only=True) as con:
        found = crossings(con)
    if not found:
        return
    console.print(f"[yellow]note[/yellow]: {len(found)} practice(s) sit in an area whose "
                  "parent is not their own, so that parent is not the sum of the areas "
                  "under it (each area's figures are its own practices'):", highlight=False)
    for kind, area, practice, own, areas, since in found[:CROSSINGS_LISTED]:
        console.print(escape(f"  {kind} {area} (in {areas}) holds {practice} of {own}, from "
                             f"{since}"), highlight=False)
    if len(found) > CROSSINGS_LISTED:
        console.print(f"  and {len(found) - CROSSINGS_LISTED} more", highlight=False)


def _versions(levels: list[tuple[str, int, int]]) -> str:
    """The rows beside the codes, where maps of several dates gave some codes more."""
    codes, rows = sum(n for _, n, _ in levels), sum(r for _, _, r in levels)
    return f" ({rows:,} rows: some named by maps of several dates)" if rows > codes else ""
