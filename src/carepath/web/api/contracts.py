"""JSON API for contracts (C7): the contracts a caller may see, and one contract year's
judgements, icons and statement lines. Same roles and scopes as the pages: a provider sees
only the contracts it holds as prime provider."""

from __future__ import annotations

import math
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from carepath.domain.contracts import charts, report
from carepath.web.audit import record
from carepath.web.db import get_con
from carepath.web.pages.contracts import (
    assessed_year,
    entries_for,
    may_see,
    require_contract_role,
)
from carepath.web.scopes import Principal

router = APIRouter(tags=["contracts"])
Ident = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")]


class ContractItem(BaseModel):
    id: str
    title: str
    prime_provider: str
    first_year: str
    years: int
    example: bool


class ContractYear(BaseModel):
    """Judgements and icons per outcome, and the statement lines; unknown numbers are null."""

    contract_id: str
    year: int
    period: str
    fee_based: bool
    fee: float
    at_risk: float
    outcome_element: float
    total: float
    outcomes: list[dict[str, Any]]
    statement: list[dict[str, Any]]
    # Why there is no statement yet (its lines empty), as the CSV download refuses it.
    no_statement: str | None = None


def _clean(rows: list[dict]) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in r.items()} for r in rows]


@router.get("/contracts", response_model=list[ContractItem])
def contracts(request: Request, who: Principal = Depends(require_contract_role)):
    entries, _ = entries_for(request)
    return [ContractItem(id=e.contract.id, title=e.contract.title,
                         prime_provider=e.contract.prime_provider.code,
                         first_year=e.contract.term.first_year, years=e.contract.term.years,
                         example=e.example)
            for e in entries if may_see(who, e.contract)]


@router.get("/contracts/{ident}/years/{year}", response_model=ContractYear)
def contract_year_api(request: Request, ident: Ident, year: int,
                      who: Principal = Depends(require_contract_role),
                      con: duckdb.DuckDBPyConnection = Depends(get_con)):
    entry, _, _, year, a = assessed_year(request, who, ident, year, con)
    c = entry.contract
    # The statement's lines, read as the CSV download is: audited as that is.
    record(con, actor=who.username or "anonymous", action="contract.year_read",
           target=f"contract:{c.id}", detail={"year": year, "total": round(a.total, 2)})
    too_early = report.too_early(a)
    return ContractYear(contract_id=c.id, year=year, period=a.period, fee_based=a.fee_based,
                        fee=a.fee, at_risk=a.at_risk, outcome_element=a.outcome_total,
                        total=a.total, outcomes=_clean(charts.icon_summary(a)),
                        statement=[] if too_early else _clean(report.statement_rows(a)),
                        no_statement=too_early)
