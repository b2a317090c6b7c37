"""JSON API for economics (C10): models, CBA results and PBMA options with their selection,
for the same roles as the pages (admin, analyst, commissioner)."""

from __future__ import annotations

import math
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from carepath.domain.economics import library, report
from carepath.domain.economics.decisions import decisions
from carepath.domain.economics.pbma import score_options, select
from carepath.web.db import get_con
from carepath.web.pages.economics import cba_report_for, entry_or_404, require_economics
from carepath.web.scopes import Principal

router = APIRouter(tags=["economics"])
Ident = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]


class Model(BaseModel):
    kind: str
    id: str
    title: str
    example: bool


class Tables(BaseModel):
    """Named tables of rows; a number that cannot be computed (e.g. a benefit-cost ratio for
    an organisation that pays nothing) is null."""

    tables: dict[str, list[dict[str, Any]]]


def _clean(frame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


@router.get("/economics/models", response_model=list[Model])
def models(request: Request, who: Principal = Depends(require_economics)):
    return [Model(kind=e.kind, id=e.id, title=e.title, example=e.example)
            for e in library.discover(request.app.state.ws.path)]


@router.get("/economics/cba/{ident}", response_model=Tables)
def cba(request: Request, ident: Ident, who: Principal = Depends(require_economics),
        con: duckdb.DuckDBPyConnection = Depends(get_con)):
    _, rep = cba_report_for(request, ident, con)
    frames = report.cba_frames(rep)
    keep = ("organisations", "cost_shift", "benefits", "tornado", "monte_carlo")
    return Tables(tables={k: _clean(frames[k]) for k in keep if k in frames})


@router.get("/economics/pbma/{ident}", response_model=Tables)
def pbma(request: Request, ident: Ident, who: Principal = Depends(require_economics),
         con: duckdb.DuckDBPyConnection = Depends(get_con)):
    from carepath.domain.economics.pbma import load_exercise

    ex = load_exercise(entry_or_404(request, "pbma", ident).path, con)
    scores = score_options(ex)
    frames = report.pbma_frames(ex, scores, select(ex, scores))
    frames["decisions"] = decisions(con, ex.id)
    return Tables(tables={k: _clean(v) for k, v in frames.items()})
