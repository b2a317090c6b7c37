"""Contract dashboard (C7): each contract year judged with its uncertainty, the summary of
SPC icons across outcomes, the payment statement, attribution to the network and the risk
of paying for chance. Commissioning roles see every contract; a provider sees only the
contracts it holds as prime provider; nobody else sees any. Thin: it calls
carepath.domain.contracts and renders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from carepath.domain.contracts import EXAMPLES_DIR, chance, charts, report
from carepath.domain.contracts import constants as K
from carepath.domain.contracts.assessment import assess_data
from carepath.domain.contracts.data import ContractData, read_data
from carepath.domain.contracts.definitions import Contract, Framework, load_contract
from carepath.domain.contracts.registry import registered
from carepath.errors import CarepathError
from carepath.indicators.library import read_library
from carepath.web.audit import record
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.render import NavItem, render
from carepath.web.scopes import WIDE_ROLES, Principal, Role
from carepath.web.security import Forbidden, require_user

router = APIRouter()
CONTRACT_ROLES = WIDE_ROLES | {Role.PROVIDER}
NAV_ITEMS = (NavItem("Contracts", "/contracts", frozenset(CONTRACT_ROLES), order=55),)
EXAMPLE_FILES = ("wessex_cancer_contract.yaml", "wessex_eol_contract.yaml")
# The page runs a smaller simulation than the CLI so it answers at once; the CLI gives more.
PAGE_DRAWS = 2_000


@dataclass(frozen=True)
class Entry:
    contract: Contract
    framework: Framework
    example: bool


def require_contract_role(who: Principal = Depends(require_user)) -> Principal:
    if who.role not in CONTRACT_ROLES:
        raise Forbidden("Contracts are for commissioners, analysts and prime providers.")
    return who


def may_see(who: Principal, contract: Contract) -> bool:
    """Wide roles see all; a provider only a contract it holds as prime provider."""
    if who.role in WIDE_ROLES:
        return True
    return who.role is Role.PROVIDER and contract.prime_provider.code in who.scope


def entries_for(request: Request) -> tuple[list[Entry], dict]:
    entries, library, _ = _entries(request.app.state.ws)
    return entries, library


def _entries(ws) -> tuple[list[Entry], dict, dict]:
    """(entries, library, problems): problems are the unreadable definition files."""
    # A broken workspace definition fails its own indicator, not every contract page.
    library, problems = read_library(ws.definitions_dir("indicators"))
    paths, example = registered(ws), False
    if not paths:
        paths, example = [EXAMPLES_DIR / f for f in EXAMPLE_FILES], True
    out = []
    for path in paths:
        try:
            contract, fw = load_contract(Path(path), library)
        except CarepathError:
            continue  # a broken file is reported by `carepath contract check`, not here
        out.append(Entry(contract, fw, example))
    return out, library, problems


def entry_or_404(request: Request, who: Principal, ident: str) -> tuple[Entry, dict, dict]:
    entries, library, problems = _entries(request.app.state.ws)
    found = next((e for e in entries if e.contract.id == ident), None)
    if found is None:
        raise HTTPException(404, f"There is no contract {ident!r}.")
    if not may_see(who, found.contract):
        raise Forbidden("This contract belongs to another provider.")
    return found, library, problems


@router.get("/contracts", include_in_schema=False)
def contracts_home(request: Request, who: Principal = Depends(require_contract_role)):
    entries, _ = entries_for(request)
    visible = [e for e in entries if may_see(who, e.contract)]
    return render(request, "contracts.html", {"title": "Contracts", "entries": visible})


def contract_year(contract: Contract, year: int | None) -> int:
    if year is None:
        return chance.first_year_at_risk(contract)
    if not 1 <= year <= contract.term.years:
        raise HTTPException(404, f"Contract years run from 1 to {contract.term.years}.")
    return year


def assessed_year(request: Request, who: Principal, ident: str, year: int | None,
                  con: duckdb.DuckDBPyConnection):
    """The visible contract's entry, its data, the checked year and its assessment."""
    entry, library, unreadable = entry_or_404(request, who, ident)
    year = contract_year(entry.contract, year)
    ws = request.app.state.ws
    # Out-of-date values, the network's organisations and the area's practices: the page,
    # the CSV and the API say what the statement must be read with.
    data = read_data(con, entry.contract, entry.framework, library, ws.config(), unreadable)
    return entry, library, data, year, assess_data(data, entry.framework, year)


@router.get("/contracts/{ident}", include_in_schema=False)
def contract_page(request: Request, ident: str, year: int | None = None,
                  who: Principal = Depends(require_contract_role),
                  con: duckdb.DuckDBPyConnection = Depends(get_con),
                  meta: dict = Depends(get_meta)):
    entry, library, data, year, a = assessed_year(request, who, ident, year, con)
    c, fw = entry.contract, entry.framework
    sim = _chance(data, fw, library, year)
    specs = {o.outcome_id: charts.spc_chart(o.spc_rows, title=None, y_title=o.unit or "")
             for o in a.outcomes if any(r.get("value") is not None for r in o.spc_rows)}
    summary = charts.icon_summary(a)
    icons = {r["outcome_id"]: (Markup(charts.icon_svg("variation", r["variation"])),
                               Markup(charts.icon_svg("assurance", r["assurance"])))
             for r in summary}
    return render(request, "contract.html", {
        "title": c.title, "entry": entry, "a": a, "summary": summary, "icons": icons,
        "specs": specs, "chance": sim, "rows": report.statement_rows(a),
        "too_early": report.too_early(a),
        "labels": K.JUDGEMENT_LABELS, "years": range(1, c.term.years + 1),
        "computed": set(meta)})  # an outcome's indicator page exists once it has values


def _chance(data: ContractData, fw: Framework, library: dict, year: int):
    c = data.contract
    sim_year = year if not c.fee_based(year) else chance.first_year_at_risk(c)
    try:
        inputs = chance.inputs_from_data(data, fw, sim_year)
    except CarepathError:
        return None  # no baseline or volume yet: the page says so
    return chance.simulate(c, fw, library, inputs, sim_year, draws=PAGE_DRAWS)


@router.get("/contracts/{ident}/statement.csv", include_in_schema=False)
def statement_csv(request: Request, ident: str, year: int,
                  who: Principal = Depends(require_contract_role),
                  con: duckdb.DuckDBPyConnection = Depends(get_con)):
    entry, _, _, year, a = assessed_year(request, who, ident, year, con)
    c = entry.contract
    why = report.too_early(a)
    if why:
        raise HTTPException(409, f"No statement yet: {why}.")
    text = report.statement_csv(a)
    record(con, actor=who.username or "anonymous", action="contract.statement_downloaded",
           target=f"contract:{c.id}", detail={"year": year, "total": round(a.total, 2)})
    name = f"{c.id}-year-{year}-statement.csv"
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
