"""`carepath economics ...`: service catalogue, cost-benefit analysis with sensitivity, and
programme budgeting and marginal analysis (PBMA) with recorded decisions."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import WorkspaceOption, cli_actor, open_workspace, rich_table
from carepath.domain.economics import constants as K
from carepath.errors import ValidationError

console = Console()
econ_app = typer.Typer(help="Costs and benefits across organisations; PBMA.",
                       no_args_is_help=True)
services_app = typer.Typer(help="The service catalogue (services and who pays).",
                           no_args_is_help=True)
econ_app.add_typer(services_app, name="services")

OutOption = Annotated[Path | None, typer.Option(
    "--out", help="Folder for the report: CSV files, an HTML report and an Excel workbook.")]
EXAMPLES = Path(__file__).resolve().parents[1] / "domain" / "economics" / "examples"


def _money(v, *, pence: bool = False) -> str:
    """Whole pounds; ``pence``: a unit cost with its pence when it has them ('£68 × 3,849 =
    £259,923' read wrong for £67.53: a check)."""
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "–"
    digits = 2 if pence and round(v, 2) != round(v) else 0
    return f"-£{abs(v):,.{digits}f}" if v < 0 else f"£{v:,.{digits}f}"


def _num(v, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "–"
    return f"{v:,.{digits}f}"


_table = rich_table


# ----- services -------------------------------------------------------------------------------
@services_app.command("load")
def services_load(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx of services with payers.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Load services (unit cost, activity, payers and shares) into the workspace."""
    from carepath.domain.economics.catalogue import (
        check_indicators,
        load_catalogue,
        save_catalogue,
        unknown_organisations,
    )
    from carepath.indicators.library import read_library

    ws = open_workspace(workspace)
    rows = load_catalogue(file)
    known, unreadable = read_library(ws.definitions_dir("indicators"))
    check_indicators(rows, {*known, *unreadable}, file)
    n = save_catalogue(ws, rows, by=cli_actor(), source=file.name)
    console.print(f"Loaded {n} service-years ({len({r.service_id for r in rows})} services).")
    with ws.connect(read_only=True) as con:
        unnamed = unknown_organisations(con, rows)
    if unnamed:  # loaded all the same: a council or charity may have no organisation row
        Console(stderr=True).print(
            f"Note: {', '.join(unnamed)} {'is' if len(unnamed) == 1 else 'are'} not in the "
            "workspace's organisations, so shown by code; check the spelling, or load them "
            "as organisations to have them named.", highlight=False)


@services_app.command("list")
def services_list(
    workspace: WorkspaceOption = None,
    year: Annotated[int | None, typer.Option(help="Financial year starting.")] = None,
) -> None:
    """The catalogue and, for a year, the programme budget by paying organisation."""
    from carepath.domain.economics.catalogue import (
        catalogue_years,
        programme_budget,
        read_catalogue,
    )
    from carepath.indicators.periods import financial_year_label as fy_label

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        cat = read_catalogue(con, year)
        budget = programme_budget(con, year) if year is not None else None
        years = catalogue_years(con) if cat.empty else []
    if cat.empty:  # two empty tables said nothing of why (a check of the examples)
        has = (f"it has {', '.join(fy_label(y) for y in sorted(years))}" if years
               else "load one with `carepath economics services load`")
        raise ValidationError(f"the service catalogue has no services"
                              f"{f' for {fy_label(year)}' if year is not None else ''}; {has}",
                              where=str(ws.path))
    console.print(_table("Services", ["service", "name", "year", "provider", "unit cost",
                                      "activity", "annual cost", "payers"],
                         [[r.service_id, r.name, fy_label(r.year), r.provider_name or "",
                           _money(r.unit_cost, pence=True), _num(r.activity, 0), _money(r.annual_cost),
                           r.payer_names or ""]
                          for r in cat.itertuples()]))
    if budget is not None:
        console.print(_table(f"Programme budget {fy_label(year)}",
                             ["payer", "code", "spend", "services"],
                             [[r.payer_name, r.payer_code, _money(r.spend), str(r.services)]
                              for r in budget.itertuples()]))


# ----- cost-benefit analysis ----------------------------------------------------------------
@econ_app.command("cba")
def cba(
    file: Annotated[Path, typer.Argument(help="CBA model (YAML; sections may be CSV files).")],
    workspace: WorkspaceOption = None,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (0 = none).", min=0)]
    = K.DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option(help="Seed of the random generator.", min=0)
                   ] = K.DEFAULT_SEED,
    out: OutOption = None,
) -> None:
    """Green Book CBA per organisation and in total, cost-shift matrix and sensitivity.

    Prints NPV, benefit-cost ratio, ROI and payback by organisation, who pays x who
    benefits, a tornado with switching values and a Monte Carlo summary with P(NPV > 0).
    """
    from carepath.domain.economics.definitions import load_cba
    from carepath.domain.economics.report import build_cba_report

    _check_folder(out)
    model = _with_workspace(workspace, lambda con: load_cba(file, con))
    rep = build_cba_report(model, draws=draws, seed=seed)
    _print_cba(rep)
    if out is not None:
        _write_cba(rep, out)
    if workspace is not None:
        _audit(workspace, "economics.cba.run", model.id, {"draws": draws, "seed": seed})


def _check_folder(out: Path | None) -> None:
    """A report's folder refused before the work: a file's name ran the whole analysis
    and then failed with 'File exists' (a walkthrough)."""
    if out is not None and out.exists() and not out.is_dir():
        raise ValidationError("is a file: give a folder for the report's files", where=str(out))


def _with_workspace(workspace: Path | None, load):
    """Load a definition, with the workspace's catalogue when -w is given."""
    if workspace is None:
        return load(None)
    with open_workspace(workspace).connect(read_only=True) as con:
        return load(con)


def _print_cba(rep) -> None:
    from carepath.domain.economics.report import figure

    res, names = rep.result, rep.model.organisations
    console.print(_table(
        f"{rep.model.title}: by organisation (PV, {rep.model.price_basis})",
        ["organisation", "PV costs", "PV benefits", "NPV", "BCR", "ROI", "payback (yrs)"],
        [[o.name, _money(o.pv_costs), _money(o.pv_benefits), _money(o.npv), _num(o.bcr),
          "–" if o.roi is None else f"{o.roi:.1%}",
          "–" if o.payback_year is None else str(o.payback_year)]
         for o in (*res.organisations, res.total)]))
    payers = [p for p in res.cost_shift if any(res.cost_shift[p].values())]
    felt = [o for o in names if any(res.cost_shift[p][o] for p in payers)]
    # Named as the table above names them (the matrix gave codes: a walkthrough).
    named = {o.org: o.name for o in res.organisations}
    console.print(_table("Who pays (rows) x who benefits (columns), PV of benefits",
                         ["payer", *(named.get(o, o) for o in felt)],
                         [[named.get(p, p), *[_money(res.cost_shift[p][o]) for o in felt]]
                          for p in payers]))
    if rep.tornado:
        console.print(_table(f"One-way sensitivity (base NPV {_money(rep.base_npv)})",
                             ["parameter", "low", "high", "NPV at low", "NPV at high",
                              "switching value"],
                             [[b.parameter, figure(b.low_value), figure(b.high_value),
                               _money(b.npv_at_low), _money(b.npv_at_high),
                               figure(b.switching_value)]
                              for b in rep.tornado]))
    if rep.monte_carlo is not None:
        mc = rep.monte_carlo
        console.print(f"Monte Carlo, {mc.draws:,} draws (seed {mc.seed}): NPV "
                      f"{_money(mc.npv_total.mean)} (95% interval {_money(mc.npv_total.low)} "
                      f"to {_money(mc.npv_total.high)}); P(NPV > 0) = "
                      f"[bold]{mc.p_npv_positive:.1%}[/]")
        if mc.bcr_total is not None:
            console.print(f"Benefit-cost ratio {figure(mc.bcr_total.mean)} (95% interval "
                          f"{figure(mc.bcr_total.low)} to {figure(mc.bcr_total.high)}); "
                          f"P(BCR > 1) = {mc.bcr_total.p_positive:.1%}")
        _print_means(rep)
    console.print(f"Service costs are taken as {rep.model.price_basis}; unit values with "
                  "their own price year are brought to it.")


def _print_means(rep) -> None:
    """The base case beside the NPV at the distributions' means, and why they differ."""
    if rep.npv_at_means is not None:
        console.print(f"Base case NPV {_money(rep.base_npv)} (parameters at base values); "
                      f"at the distributions' means {_money(rep.npv_at_means)}: the Monte "
                      "Carlo mean is near the latter.")
    for warning in rep.warnings:
        console.print(f"[yellow]Warning:[/] {warning}")


def _write_cba(rep, out: Path) -> None:
    from carepath.charts import to_svg
    from carepath.domain.economics import report
    from carepath.domain.economics.charts import npv_histogram, tornado_chart

    frames = report.cba_frames(rep)
    paths = report.write_csvs(frames, out, rep.model.id)
    paths.append(report.write_xlsx(frames, out / f"{rep.model.id}.xlsx"))
    svg = to_svg(tornado_chart(rep.tornado, rep.base_npv)) if rep.tornado else None
    mc = rep.monte_carlo
    hist = to_svg(npv_histogram(mc.npv_samples)) if mc is not None else None
    html = out / f"{rep.model.id}.html"
    html.write_text(report.cba_html(rep, svg, hist), encoding="utf-8")
    console.print(f"Wrote {len(paths) + 1} files to [bold]{out}[/] (HTML: {html.name})")


def _audit(workspace: Path, action: str, target: str, detail: dict) -> None:
    import json

    ws = open_workspace(workspace)
    with ws.transaction() as con:
        ws.audit(con, actor=cli_actor(), action=action, target=target,
                 detail=json.dumps(detail))


# ----- PBMA -----------------------------------------------------------------------------------
@econ_app.command("pbma")
def pbma(
    file: Annotated[Path, typer.Argument(help="PBMA exercise (YAML; scores may be a CSV).")],
    workspace: WorkspaceOption = None,
    out: OutOption = None,
) -> None:
    """Rank the wish and shift lists by cost-value ratio and select within the budget."""
    from carepath.domain.economics import report
    from carepath.domain.economics.pbma import (
        load_exercise,
        process_notes,
        score_options,
        select,
    )

    _check_folder(out)
    ex = _with_workspace(workspace, lambda con: load_exercise(file, con))
    scores = score_options(ex)
    sel = select(ex, scores)
    frames = report.pbma_frames(ex, scores, sel)
    opts = frames["options"]
    console.print(_table(f"{ex.title}: options", ["option", "list", "cost", "score",
                                                  "panel sd", "cost/point", "selection"],
                         [[r.name, r.list, _money(r.cost), _num(r.weighted_score),
                           _num(r.panel_sd), _money(r.cost_value_ratio),
                           f"{r.selection} {r.note}".strip()] for r in opts.itertuples()]))
    console.print(f"Headroom {_money(sel.headroom)}; released {_money(sel.released)}; "
                  f"invested {_money(sel.spent)}; unallocated {_money(sel.remaining)}.")
    for note in process_notes(ex, scores):
        console.print(f"[yellow]Note:[/] {note}")
    decided = None
    if workspace is not None:
        from carepath.domain.economics.decisions import decisions

        with open_workspace(workspace).connect(read_only=True) as con:
            decided = decisions(con, ex.id)
    if out is not None:
        paths = report.write_csvs(frames, out, ex.id)
        paths.append(report.write_xlsx(frames, out / f"{ex.id}.xlsx"))
        (out / f"{ex.id}.html").write_text(report.pbma_html(ex, scores, sel, decided),
                                           encoding="utf-8")
        console.print(f"Wrote {len(paths) + 1} files to [bold]{out}[/]")


@econ_app.command("decide")
def decide(
    file: Annotated[Path, typer.Argument(help="The PBMA exercise decided on.")],
    option: Annotated[str, typer.Option(help="Option id.")],
    decision: Annotated[str, typer.Option(help="invest, disinvest, reject or defer.")],
    rationale: Annotated[str, typer.Option(help="The panel's reasons (required).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Record a decision with its rationale (audited)."""
    from rich.markup import escape as rich_escape

    from carepath.domain.economics.decisions import (
        DecisionInput,
        decision_warnings,
        record_decision,
    )
    from carepath.domain.economics.pbma import load_exercise

    ex = _with_workspace(workspace, lambda con: load_exercise(file, con))
    ws = open_workspace(workspace)
    asked = DecisionInput(option, decision, rationale)
    decision_id = record_decision(ws, ex, asked, by=cli_actor())
    console.print(f"Recorded decision {decision_id}: {decision} {option}.")
    for line in decision_warnings(ex, asked):
        console.print(f"[yellow]warning[/yellow]: {rich_escape(line)}", highlight=False)


@econ_app.command("decisions")
def list_decisions(
    workspace: WorkspaceOption = None,
    exercise: Annotated[str | None, typer.Option(help="Exercise id.")] = None,
) -> None:
    """Decisions recorded, newest first."""
    from carepath.domain.economics.decisions import decisions

    with open_workspace(workspace).connect(read_only=True) as con:
        frame = decisions(con, exercise)
    console.print(_table("PBMA decisions", ["exercise", "option", "decision", "rationale",
                                            "by", "when"],
                         [[r.exercise_id, r.option_id, r.decision, r.rationale, r.decided_by,
                           str(r.decided_at)[:19]] for r in frame.itertuples()]))


@econ_app.command("example")
def example(dest: Annotated[Path, typer.Argument(help="Folder to copy the examples to.")]
            ) -> None:
    """Copy the Wessex example models (hospice at home CBA, LWBC PBMA, services)."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = [shutil.copy2(p, dest / p.name) for p in sorted(EXAMPLES.iterdir())
              if p.suffix in (".yaml", ".csv")]
    console.print(f"Copied {len(copied)} files to [bold]{dest}[/]")


@econ_app.command("install-examples")
def install_examples(workspace: WorkspaceOption = None) -> None:
    """Put the Wessex example models and services into a workspace (for demos).

    Copies the models into WORKSPACE/economics/ and loads the example service catalogue.
    """
    from carepath.domain.economics.library import install_examples as install

    copied = install(open_workspace(workspace), by=cli_actor())
    console.print(f"Installed {len(copied)} example files and the example service catalogue.")


def register(app: typer.Typer) -> None:
    app.add_typer(econ_app, name="economics")
