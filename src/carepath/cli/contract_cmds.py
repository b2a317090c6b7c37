"""`carepath contract ...`: check, register, assess, simulate and issue statements for
outcomes-based prime-provider contracts (docs/contracts.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import (
    ReplaceOption,
    WorkspaceOption,
    cli_actor,
    open_workspace,
    rich_table,
)
from carepath.domain.contracts import constants as K
from carepath.domain.contracts import formatting as fmt

# Wide enough for the assessment table when output is piped (no terminal to measure).
CONSOLE_WIDTH = 150
console = Console(width=None if Console().is_terminal else CONSOLE_WIDTH)
contract_app = typer.Typer(help="Outcomes frameworks and prime-provider contracts.",
                           no_args_is_help=True)
ContractFile = Annotated[Path, typer.Argument(help="Contract YAML (it names its framework).")]
YearOption = Annotated[int, typer.Option("--year", "-y", help="Contract year (1 = first).")]



def _words(code: str | None) -> str:
    """'not_distinguishable' -> 'Not distinguishable', as the web page writes it (the
    terminal showed the codes: a walkthrough)."""
    return code.replace("_", " ").capitalize() if code else "–"


def _load(file: Path, ws=None, *, unreadable: bool = False):
    from carepath.domain.contracts.definitions import load_contract
    from carepath.indicators.library import read_library

    # A broken workspace definition fails its own indicator, not every contract.
    library, problems = read_library(ws.definitions_dir("indicators") if ws else None)
    contract, fw = load_contract(file, library)
    return (contract, fw, library, problems) if unreadable else (contract, fw, library)


def _warn(lines) -> None:
    for line in lines:
        console.print(f"[yellow]warning[/yellow]: {line}", highlight=False)


def _num(v, digits: int = 1) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


_table = rich_table


@contract_app.command("check")
def check(file: ContractFile, workspace: WorkspaceOption = None) -> None:
    """Validate a contract and its framework; print the outcomes and years at risk. With a
    workspace: the co-production events, network codes and area must exist in it, and
    targets are compared with the baselines in its data."""
    from carepath.domain.contracts.assessment import target_warnings
    from carepath.domain.contracts.data import empty_data, read_data
    from carepath.domain.contracts.definitions import design_warnings
    from carepath.domain.contracts.facts import (
        unknown_area,
        unknown_commissioners,
        unknown_organisations,
    )
    from carepath.domain.contracts.registry import check_coproduction
    from carepath.errors import ValidationError

    ws = open_workspace(workspace) if workspace else None
    contract, fw, library, unreadable = _load(file, ws, unreadable=True)
    if ws is not None:
        with ws.connect(read_only=True) as con:
            problems = check_coproduction(con, fw)
            if problems:
                raise ValidationError("; ".join(problems), where=fw.source_file)
            data = read_data(con, contract, fw, library, ws.config(), unreadable)
            problems = [*unknown_organisations(contract, data.facts.organisations),
                        *unknown_area(con, contract)]
        if problems:
            raise ValidationError("; ".join(problems), where=contract.source_file)
    else:
        data = empty_data(contract, library)  # agreed baselines only
    rows = [[o.id, fw.domain_of(o.id).statement, o.indicator, fmt.share(o.weight),
             contract.rule(o.id).rule] for o in fw.outcomes]
    console.print(_table(f"{contract.title} ({contract.id}): framework {fw.id}",
                         ["outcome", "domain", "indicator", "weight", "rule"], rows))
    risk = ", ".join(f"{y}: {'fee' if contract.fee_based(y) else fmt.share(s)}"
                     for y, s in sorted(contract.share_at_risk.items()))
    console.print(f"term {contract.term.first_year} for {contract.term.years} years; "
                  f"share at risk by year: {risk}")
    _warn(target_warnings(data, fw))
    _warn(design_warnings(contract, fw))
    if ws is not None:
        _warn(unknown_commissioners(contract, data.facts.organisations))
    console.print(f"ok: {file}")


@contract_app.command("register")
def register_cmd(file: ContractFile, workspace: WorkspaceOption = None) -> None:
    """Hold the contract and framework in the workspace; every change goes to the audit log."""
    from carepath.domain.contracts.registry import register

    ws = open_workspace(workspace)
    contract, fw, _ = _load(file, ws)
    done = register(ws, contract, fw, actor=cli_actor())
    console.print("\n".join(done) if done else "unchanged: nothing to record")


def _assess(file: Path, workspace, year: int):
    from carepath.domain.contracts.assessment import assess
    from carepath.domain.contracts.registry import register

    ws = open_workspace(workspace)
    contract, fw, library, unreadable = _load(file, ws, unreadable=True)
    register(ws, contract, fw, actor=cli_actor())
    with ws.connect(read_only=True) as con:
        a = assess(con, contract, fw, library, year, config=ws.config(),
                   unreadable=unreadable)
    return ws, a, library


def _say_problems(a) -> None:
    """Per outcome, why its pot was withheld and what else the reader must know."""
    for o in a.outcomes:
        if o.dq_reasons and o.dq_status == K.DQ_NOT_YET:
            console.print(f"[yellow]not yet known[/yellow] {o.outcome_id}: "
                          f"{'; '.join(o.dq_reasons)} (pot withheld)", highlight=False)
        elif o.dq_reasons:
            console.print(f"[red]data quality[/red] {o.outcome_id}: "
                          f"{'; '.join(o.dq_reasons)}", highlight=False)
    # The pots held back are said above, outcome by outcome (the reports list them too).
    _warn([*a.warnings, *(f"{o.title}: {w}" for o in a.outcomes for w in o.warnings)])


def _interval(o) -> str:
    low, high = o.shown(o.point.lower), o.shown(o.point.upper)
    return f"{low}–{high}" if low and high else "–"  # not '–––' (a walkthrough)


@contract_app.command("assess")
def assess_cmd(file: ContractFile, year: YearOption, workspace: WorkspaceOption = None,
               html: Annotated[Path | None, typer.Option(
                   help="Also write the assessment report (HTML, with SPC charts).")] = None,
               replace: ReplaceOption = False) -> None:
    """Judge each outcome for a contract year with its uncertainty; SPC icons; payment."""
    from carepath.domain.contracts import report
    from carepath.domain.contracts.registry import record_assessment
    from carepath.safe_export import check_output_path

    if html:  # refused before the work, as every file a user names (no folder is made)
        check_output_path(html, (".html",), replace=replace)
    ws, a, library = _assess(file, workspace, year)
    rows = [[o.outcome_id, o.shown(o.point.value) or "–", _interval(o),
             o.target_text or "–", _words(o.judgement), _words(o.variation_icon),
             _words(o.assurance_icon), o.dq_status, f"£{o.payment:,.2f}"]
            for o in a.outcomes]
    console.print(_table(f"{a.contract.id} year {a.year} ({a.period})",
                         ["outcome", "value", "interval", "target", "judgement", "variation",
                          "assurance", "data", "earned"], rows))
    console.print(f"fee £{a.fee:,.2f} + outcomes £{a.outcome_total:,.2f} of "
                  f"£{a.at_risk:,.2f} at risk = £{a.total:,.2f}")
    _say_problems(a)
    record_assessment(ws, a, actor=cli_actor())
    if html:
        html.write_text(report.assessment_html(a, _chance_for(ws, a, library)),
                        encoding="utf-8")
        console.print(f"wrote {html}")


def _chance_for(ws, a, library):
    """The chance table for the report: this year, or the first year at risk if fee-based."""
    from carepath.domain.contracts import chance
    from carepath.domain.contracts.data import read_data
    from carepath.errors import CarepathError

    c, fw = a.contract, a.framework
    year = chance.first_year_at_risk(c) if c.fee_based(a.year) else a.year
    with ws.connect(read_only=True) as con:
        data = read_data(con, c, fw, library, ws.config())
    try:
        return chance.simulate(c, fw, library, chance.inputs_from_data(data, fw, year), year)
    except CarepathError:
        return None  # no baseline or volume for some outcome: the report leaves it out


@contract_app.command("statement")
def statement_cmd(file: ContractFile, year: YearOption,
                  out: Annotated[Path, typer.Option(help="Output file: .csv, .html or .pdf")],
                  workspace: WorkspaceOption = None, replace: ReplaceOption = False) -> None:
    """Issue the payment statement for a contract year (fee, outcome lines, total); audited."""
    from carepath.domain.contracts import report
    from carepath.domain.contracts.registry import record_statement
    from carepath.safe_export import check_output_path

    check_output_path(out, tuple(f".{f}" for f in report.OUTPUT_FORMATS), replace=replace)
    ws, a, _ = _assess(file, workspace, year)
    csv_text = report.write_statement(a, out)
    record_statement(ws, a, csv_text, out, actor=cli_actor())
    console.print(f"wrote {out}: total £{a.total:,.2f} (fee £{a.fee:,.2f}, outcomes "
                  f"£{a.outcome_total:,.2f})")
    _say_problems(a)


@contract_app.command("simulate")
def simulate_cmd(file: ContractFile, workspace: WorkspaceOption = None,
                 year: Annotated[int | None, typer.Option(
                     "--year", "-y", help="Contract year (default: first year at risk).")] = None,
                 draws: Annotated[int, typer.Option(help="Simulated years.")] = K.DEFAULT_DRAWS,
                 seed: Annotated[int, typer.Option(help="Random seed.", min=0)] = K.DEFAULT_SEED,
                 materiality: Annotated[float, typer.Option(
                     help="Share of the pot a payment must differ by to count.")]
                 = K.DEFAULT_MATERIALITY,
                 ) -> None:
    """The risk of paying for chance: P(paid or penalised) when true performance is on
    target or at baseline, and the smallest change each outcome can detect. Without a
    workspace: design mode from agreed baselines and expected volumes."""
    from carepath.domain.contracts import chance
    from carepath.domain.contracts.assessment import check_year
    from carepath.domain.contracts.data import read_data

    ws = open_workspace(workspace) if workspace else None
    contract, fw, library = _load(file, ws)
    # Year 0 is refused as assess refuses it, not read as "no year given".
    year = chance.first_year_at_risk(contract) if year is None else year
    check_year(contract, year)
    if ws is None:
        inputs = chance.inputs_from_definitions(fw, library)
    else:
        with ws.connect(read_only=True) as con:
            data = read_data(con, contract, fw, library, ws.config())
        _warn(chance.stale_inputs(data, fw))
        inputs = chance.inputs_from_data(data, fw, year)
    r = chance.simulate(contract, fw, library, inputs, year, draws=draws, seed=seed,
                        materiality=materiality)
    rows = [[x.outcome_id, _num(x.denominator, 0), f"£{x.pot:,.0f}",
             f"{x.p_under['target']:.1%}", f"{x.p_over['target']:.1%}",
             f"{x.p_over['baseline']:.1%}", _num(x.mdc, 2), _num(x.step, 2),
             "yes" if x.detectable else "NO"] for x in r.rows]
    t = r.total
    rows.append(["whole contract", "", f"£{r.at_risk:,.0f}", f"{t['target']['p_under']:.1%}",
                 f"{t['target']['p_over']:.1%}", f"{t['baseline']['p_over']:.1%}", "", "", ""])
    console.print(_table(f"{contract.id} year {year}: {r.draws:,} draws, seed {r.seed}, "
                         f"differences over {r.materiality:.0%} of the pot count",
                         ["outcome", "volume", "pot", "on target: paid less",
                          "on target: paid more", "at baseline: paid more",
                          "detectable change", "step asked", "detectable?"], rows))
    console.print(f"on target the provider is due £{t['target']['entitled']:,.0f}; 90% of "
                  f"simulated years pay £{t['target']['p5']:,.0f} to £{t['target']['p95']:,.0f}")
    if contract.fee_based(year):  # a table of zeros said nothing of why (a check)
        first = chance.first_year_at_risk(contract)
        at_risk = (f"; year {first} is the first with money at risk"
                   if not contract.fee_based(first) else "")
        console.print(f"Year {year} is fee-based: nothing is at risk, so nothing can be paid "
                      f"for chance{at_risk}. The detectable changes hold all the same.",
                      highlight=False)


@contract_app.command("list")
def list_cmd(workspace: WorkspaceOption = None) -> None:
    """Contracts held in the workspace."""
    from carepath.domain.contracts.registry import registered
    from carepath.errors import CarepathError

    ws = open_workspace(workspace)
    paths = registered(ws)
    if not paths:
        console.print("no contracts registered; `carepath contract register FILE` adds one")
        return
    rows = []
    for p in paths:  # what each is, not only where (a walkthrough)
        try:
            c, fw, _ = _load(p, ws)
            rows.append([c.id, c.title, f"{c.term.first_year}, {c.term.years} years",
                         c.prime_provider.code, fw.id, str(p)])
        except CarepathError as exc:
            rows.append([p.stem, f"(cannot be read: {exc})", "", "", "", str(p)])
    console.print(_table("Contracts held in the workspace",
                         ["contract", "title", "term", "prime", "framework", "file"], rows))


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
