"""`carepath indicators list|show|check`, `carepath compute`, `carepath export`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from carepath.cli._common import ReplaceOption, WorkspaceOption, cli_actor, open_workspace, plain
from carepath.errors import CarepathError, ValidationError, did_you_mean

console = Console()
err_console = Console(stderr=True)  # warnings, apart from the output
indicators_app = typer.Typer(help="The indicator library: list, show and check definitions.",
                             no_args_is_help=True)


def _library(workspace: Path | None) -> tuple[dict, dict[str, str]]:
    """(definitions, problems by id): a workspace file with problems is noted, not fatal,
    so the other definitions can still be listed and shown."""
    from carepath.indicators.library import read_library
    from carepath.workspace import resolve_path

    path = resolve_path(workspace)
    library, broken = read_library(path / "indicators" if path.is_dir() else None)
    if broken:
        err_console.print(escape(f"note: {len(broken)} workspace definition(s) have problems "
                                 f"and are left out: {', '.join(sorted(broken))} (`carepath "
                                 f"indicators check {path / 'indicators'}` names them)"),
                          highlight=False, soft_wrap=True)
    return library, broken


# Below this width (an 80-column terminal, a pipe) the list is an id and an indented line
# per indicator: the longest id alone takes 45 columns of a table.
LIST_TABLE_MIN_WIDTH = 120


@indicators_app.command("list")
def list_(workspace: WorkspaceOption = None) -> None:
    """Every indicator: id, domain, statistic, title."""
    library, _ = _library(workspace)
    if console.width < LIST_TABLE_MIN_WIDTH:  # a table there wraps titles a word a line
        for d in library.values():
            console.print(escape(f"{d.id} ({d.domain}, {d.statistic})\n    {plain(d.title)}"),
                          highlight=False, soft_wrap=True)
        return
    table = Table()
    # The id is what `show` and `compute -i` take: never cut, whatever the terminal.
    table.add_column("id", no_wrap=True, min_width=max(map(len, library), default=2))
    for name in ("domain", "statistic", "title"):
        table.add_column(name)
    for d in library.values():
        table.add_row(d.id, d.domain, d.statistic, plain(d.title))
    console.print(table)


@indicators_app.command()
def show(indicator_id: str, workspace: WorkspaceOption = None,
         as_yaml: Annotated[bool, typer.Option(
             "--yaml", help="Print the definition file itself, to start a workspace's own "
                            "version from: `show ID --yaml > WS/indicators/ID.yaml`.")] = False,
         ) -> None:
    """One definition in full."""
    from carepath.indicators.catalogue import entry_md

    library, broken = _library(workspace)
    if indicator_id in broken:
        raise ValidationError(broken[indicator_id])
    if indicator_id not in library:
        raise ValidationError(f"unknown indicator {indicator_id!r}"
                              f"{did_you_mean(indicator_id, library)}", where="ID")
    defn = library[indicator_id]
    if as_yaml:  # the file as written, comments and all: what `check` and `compute` read
        typer.echo(Path(defn.source_file).read_text(encoding="utf-8"), nl=False)
        return
    from carepath.indicators.links import shared_counts

    console.print(entry_md(defn, shared_counts(library).get(indicator_id, ())), markup=False,
                  highlight=False)
    from carepath.indicators.library import builtin

    built_in = builtin().get(indicator_id)
    if built_in is None or built_in.source_file != defn.source_file:
        console.print(escape(f"Defined in {defn.source_file}" + (
            ", in place of the built-in definition" if built_in else "")), highlight=False)


def _design_notes(definitions) -> str:
    """Warnings about what a definition is likely to do, not errors: it may still be meant.
    Returns what to add to the 'OK' line ('' when there are none)."""
    from carepath.indicators.subset import numerator_notes

    said = 0
    for defn in definitions:
        for note in numerator_notes(defn):
            err_console.print(escape(f"warning: {defn.source_file}: {note}"), highlight=False,
                              soft_wrap=True)
            said += 1
    return f", with {said} warning{'' if said == 1 else 's'} above" if said else ""


@indicators_app.command()
def check(directory: Annotated[Path | None, typer.Argument(
        help="Folder of definition files, or one file (default: the workspace's, given by "
             "-w, $CAREPATH_WORKSPACE or the current folder, else the built-in library).")
        ] = None,
        workspace: WorkspaceOption = None) -> None:
    """Validate definition files; each error names the file, field and token."""
    from carepath.indicators.library import (
        DEFINITION_SUFFIXES,
        builtin,
        definition_files,
        load_dir,
        load_file,
    )
    from carepath.workspace.workspace import workspace_given

    if directory is None and workspace_given(workspace):
        # Checked as compute reads them: the workspace's own files (a user test saw '41
        # definitions OK' of the built-in library beside a broken workspace file).
        directory = open_workspace(workspace).definitions_dir("indicators")
        if not definition_files(directory):
            console.print(escape(f"{len(builtin())} built-in definitions OK; the workspace "
                                 f"has none of its own ({directory})"), highlight=False)
            return

    if directory is not None and directory.is_file():
        warned = _design_notes([load_file(directory)])
        console.print(f"1 definition OK{warned}")
        return
    if directory is not None and not directory.is_dir():
        raise ValidationError("no such file or folder", where=str(directory))
    if directory is not None and not definition_files(directory):
        raise ValidationError("no definition files (*.yaml or *.yml) in this folder (a "
                              "workspace's own folder is empty until it adds or overrides "
                              "one; `carepath indicators check` checks the built-in library)",
                              where=str(directory))
    found = load_dir(directory) if directory else builtin()
    warned = _design_notes(found.values())
    # Which were checked: '41 definitions OK' read as the workspace's (a walkthrough).
    where = f"in {directory}" if directory else "the built-in library; give a folder, or -w " \
        "WS, for a workspace's own"
    console.print(escape(f"{len(found)} definition{'' if len(found) == 1 else 's'} OK "
                         f"({where}){warned}"), highlight=False, soft_wrap=True)
    nested = sorted(p for p in (directory.glob("*/**/*") if directory else ())
                    if p.suffix.lower() in DEFINITION_SUFFIXES)
    if nested:
        console.print(escape(f"note: {len(nested)} definition file(s) in subfolders are not "
                             f"read (only the folder's own files are), e.g. {nested[0]}"),
                      highlight=False)


def compute(
    workspace: WorkspaceOption = None,
    indicator: Annotated[list[str] | None, typer.Option(
        "--indicator", "-i", help="Indicator id (repeat); default all.")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
    force: Annotated[bool, typer.Option(help="Recompute unchanged indicators.")] = False,
) -> None:
    """Compute indicators for every area and period, with provenance."""
    from carepath.engine.freshness import remove_undefined
    from carepath.engine.run import compute as run_compute
    from carepath.indicators.library import read_library

    ws = open_workspace(workspace)
    library, broken = read_library(ws.path / "indicators")
    wanted = list(dict.fromkeys(indicator)) if indicator else [*library, *broken]
    unknown = [i for i in wanted if i not in library and i not in broken]
    if unknown:
        raise ValidationError(f"unknown indicator(s) {', '.join(unknown)}"
                              f"{did_you_mean(unknown[0], [*library, *broken])}",
                              where="--indicator")
    chosen = [library[i] for i in wanted if i in library]
    not_read = _unreadable(ws, [i for i in wanted if i in broken], broken)
    others = len(set(broken) - set(wanted))
    if others:  # a broken file of another indicator does not stop this compute
        console.print(escape(f"note: {others} other workspace definition(s) have problems "
                             "and are not computed; `carepath indicators check "
                             f"{ws.path / 'indicators'}` names them"), highlight=False)

    def show_progress(o) -> None:
        colour = {"computed": "green", "unchanged": "dim", "no_data": "yellow"}.get(
            o.status, "red")
        detail = o.message if o.status != "computed" else \
            f"{o.rows:,} values" + (f"; {o.message}" if o.message else "")
        console.print(f"[{colour}]{o.status:>9}[/] {o.indicator_id:<45} {o.seconds:6.2f}s  "
                      f"{escape(detail or '')}", highlight=False)

    started = time.perf_counter()
    for outcome in not_read:
        show_progress(outcome)
    outcomes = not_read + run_compute(ws, chosen, force=force, progress=show_progress,
                                      engine=engine, actor=cli_actor())
    if not indicator:  # the whole library, once computed: values of deleted definitions go
        # (a definition that could not be read is not deleted: its values stay, out of date)
        gone = remove_undefined(ws, set(library) | set(broken))
        if gone:
            console.print(escape(f"removed the values of {len(gone)} indicator(s) no longer "
                                 f"defined: {', '.join(gone)}"), highlight=False)
    _say_quarantined(ws, [d for d in chosen if any(
        o.indicator_id == d.id and o.status == "computed" for o in outcomes)])
    failed = [o for o in outcomes if o.status == "failed"]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("computed", "unchanged",
                                                                 "no_data")}
    console.print(f"{counts['computed']} computed, {counts['unchanged']} unchanged, "
                  f"{counts['no_data']} with no data, {len(failed)} failed in "
                  f"{time.perf_counter() - started:.1f}s")
    if failed:
        raise CarepathError(f"{len(failed)} indicator(s) failed: "
                            f"{', '.join(o.indicator_id for o in failed)}")


def _say_quarantined(ws, computed: list) -> None:
    """The rows quarantined at load in the tables the computed indicators read: in no
    figure, so said beside them."""
    from carepath.ingest.quarantine import quarantined_file_rows

    found = quarantined_file_rows(ws, {t for d in computed for t in d.tables()})
    for table, rows in found.items():
        console.print(escape(f"note: {rows:,} rows of the files loaded into {table} were "
                             "quarantined and are in no figure computed from it (`carepath "
                             f"quarantine -w {ws.path} --table {table}` lists them)"),
                      highlight=False)


def _unreadable(ws, ids: list[str], broken: dict[str, str]) -> list:
    """A failed outcome for each definition whose file could not be read, saying what
    became of its values (kept as they were, out of date) as a failed compute does."""
    from carepath.engine.run import Outcome

    with ws.connect(read_only=True) as con:
        kept = dict(con.execute("SELECT indicator_id, count(*) FROM indicator_values WHERE "
                                "list_contains(?, indicator_id) GROUP BY 1", [ids]).fetchall())
    return [Outcome(i, "failed", message=broken[i] + (
        f"; its {kept[i]:,} earlier values are kept as they were, out of date" if i in kept
        else "")) for i in ids]


def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    workspace: WorkspaceOption = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv, parquet or xlsx (default: the --out file's ending).")
    ] = None,
    public: Annotated[bool, typer.Option(
        help="Apply disclosure control for publication, and record the export as a release "
             "(every later public output keeps hidden what it hid: `carepath releases`).")
    ] = False,
    indicator: Annotated[list[str] | None, typer.Option(
        "--indicator", "-i", help="An indicator id to export (repeat for more; default all).")
    ] = None,
    replace: ReplaceOption = False,
) -> None:
    """Export values in the long format of a Fingertips data export."""
    from carepath.reports.export import FORMATS, grouped
    from carepath.reports.export import export as run_export
    from carepath.safe_export import check_output_path

    ending = out.suffix.lower().lstrip(".")
    if fmt is None and ending not in FORMATS:
        # Not "or say it with --format": a name not ending as its format is refused too.
        raise ValidationError(f"end the file name .{', .'.join(FORMATS[:-1])} or "
                              f".{FORMATS[-1]}: the format is read from it", where=str(out))
    fmt = (fmt or ending).lower()
    check_output_path(out, (f".{fmt}",), replace=replace)
    ws = open_workspace(workspace)
    done = run_export(ws, out, fmt=fmt, public=public, indicators=indicator,
                      by=cli_actor())
    hidden = done.states.get("suppressed", 0)
    release = f", release={done.release_id}" if done.release_id else ""
    with ws.transaction() as con:
        ws.audit(con, actor=cli_actor(), action="export", target=str(out.resolve()),
                 detail=f"{done.rows} rows, format={fmt}, public={public}, suppressed={hidden}"
                        f"{release}")
    console.print(escape(f"Wrote {done.rows:,} rows to {out}")
                  + (f" (disclosure control applied: {hidden:,} values suppressed)"
                     if public else ""))
    if done.release_id:
        console.print(escape(
            f"Recorded as release {done.release_id} ({done.newly_withheld:,} cells "
            "suppressed for the first time): every later public output keeps what it "
            "suppressed hidden and counts what it published as known (`carepath releases`)."
        ), highlight=False)
    if done.out_of_date:
        err_console.print(f"[yellow]warning[/yellow]: {len(done.out_of_date)} indicator(s) "
                          "exported with values out of date:", highlight=False)
        for line in grouped(done.out_of_date):
            err_console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


def releases(workspace: WorkspaceOption = None) -> None:
    """Every release (a public export, or a public page the first time it showed
    something): what it held and the cells it first suppressed. Every later public output
    keeps those suppressed and knows what each published."""
    from carepath.disclosure.releases import releases as recorded

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        found = recorded(con)
    if found.empty:
        console.print("nothing published yet (no public export, no public page shown): "
                      "nothing is withheld beyond what the policy hides")
    else:
        console.print("Releases, oldest first: id, when, by whom ('public pages': a page the "
                      "first time it showed something), the file or page, what it held",
                      highlight=False, soft_wrap=True)
    for r in found.itertuples():
        console.print(escape(f"{r.release_id}  {str(r.released_at)[:19]}  {r.released_by}  "
                             f"{r.output}: {r.rows:,} rows of {r.indicators} indicator(s), "
                             f"{r.suppressed:,} suppressed ({r.first_suppressed:,} for the "
                             "first time)"), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(indicators_app, name="indicators")
    app.command()(compute)
    app.command()(export)
    app.command()(releases)
