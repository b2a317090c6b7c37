"""JSON API, version 1: indicator values and the benchmarking read models, under the same
roles and scopes as the pages (a session cookie signs the caller in; unsafe methods need the
``X-CSRF-Token`` header). Errors are RFC 9457 problem documents."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from carepath.domain.benchmarking import peer_review, profiles
from carepath.web import benchmarking, queries
from carepath.web.audit import record
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.pages.indicators import choose, indicator_or_404
from carepath.web.pages.inequalities import area_groups, choose_area
from carepath.web.pages.localities import locality_or_error
from carepath.web.pages.practices import practice_or_error, profile_rows
from carepath.web.pages.public import (
    period_or_404,
    publication_key,
    published_with_trends,
    refuse_out_of_date,
)
from carepath.web.scopes import ANONYMOUS, RESTRICTED_TYPES, Principal
from carepath.web.security import current_principal, require_user

router = APIRouter(tags=["v1"])
PROBLEM = {"description": "Problem (RFC 9457)", "content": {"application/problem+json": {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM,
                                              422: PROBLEM}
PUBLIC_RESPONSES = {**RESPONSES, 409: PROBLEM}  # figures out of date are not handed out
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
IndicatorId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")]
OptText = Annotated[str | None, Query(max_length=40)]


class Me(BaseModel):
    username: str | None
    role: str
    scope: list[str]


class IndicatorFacts(BaseModel):
    id: str
    title: str
    domain: str
    unit: str
    higher_is_better: bool | None
    definition: str


def _facts(indicator_id: str, m: dict) -> dict:
    """``IndicatorFacts``' fields from an indicator's metadata (``get_meta``)."""
    return {"id": indicator_id, "title": m["title"], "domain": m.get("domain", ""),
            "unit": m.get("unit") or "", "higher_is_better": m.get("higher_is_better"),
            "definition": m.get("definition") or ""}


class Indicator(IndicatorFacts):
    out_of_date: str | None = None  # why the values are not what a compute would give now


class PublicIndicator(IndicatorFacts):
    """A published indicator: its periods, and whether its figures are being updated (then
    its values are refused with 409 until they are computed again)."""

    periods: list[str]
    being_updated: bool


class Rows(BaseModel):
    """Rows of indicator values (Fingertips-style columns) with ``value_state``:
    published, suppressed or missing - never confused with a zero."""

    rows: list[dict[str, Any]]


def rows_response(rows: list[dict]) -> Response:
    """Rows as JSON without a second validation pass (the model documents the shape)."""
    clean = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
             for r in rows]  # NaN is not JSON
    body = json.dumps({"rows": clean}, default=_json_default, allow_nan=False)
    return Response(body, media_type="application/json")


def cached_rows(request: Request, con: duckdb.DuckDBPyConnection, key: tuple,
                build: Callable[[], list[dict]]) -> Response:
    """Rows served from a JSON body made once per data version, role and scope (access is
    checked by the caller first; rows that change without a recompute must not use this)."""
    who: Principal = getattr(request.state, "principal", None) or ANONYMOUS
    full_key = ("api", key, who.role, tuple(sorted(who.scope)))
    body = request.app.state.cache.get(full_key, con,
                                       lambda _c: rows_response(build()).body)
    return Response(body, media_type="application/json")


# Read through the API as the downloads are: practice-level rows, audited as those are
# (a red team found the downloads audited and the same rows read here not).
API_READ = "api.read"


def _audited(con: duckdb.DuckDBPyConnection, who: Principal, target: str, **detail) -> None:
    record(con, actor=who.username or "anonymous", action=API_READ, target=target,
           detail=detail)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


class Area(BaseModel):
    code: str
    name: str
    type: str


@router.get("/me", response_model=Me, responses=RESPONSES)
def me(who: Principal = Depends(current_principal)) -> Me:
    return Me(username=who.username, role=who.role.value, scope=sorted(who.scope))


@router.get("/indicators", response_model=list[Indicator], responses=RESPONSES)
def indicators(who: Principal = Depends(require_user),
               meta: dict = Depends(get_meta)) -> list[Indicator]:
    return [Indicator(**_facts(i, m),
                      out_of_date=m["out_of_date"].reason if m.get("out_of_date") else None)
            for i, m in meta.items()]


@router.get("/indicators/{indicator_id}/values", response_model=Rows, responses=RESPONSES)
def indicator_values(request: Request, indicator_id: IndicatorId, area_type: OptText = None,
                     period: OptText = None, who: Principal = Depends(require_user),
                     con: duckdb.DuckDBPyConnection = Depends(get_con),
                     meta: dict = Depends(get_meta)) -> Response:
    indicator_or_404(meta, indicator_id)
    level, period, _, _ = choose(request.app.state.cache, con, who, indicator_id, area_type,
                                 period)
    if level in RESTRICTED_TYPES:  # practices, PCNs, providers, groups: as downloads are
        _audited(con, who, indicator_id, level=level, period=period)
    return cached_rows(request, con, ("values", indicator_id, level, period),
                       lambda: queries.records(queries.values(
                           con, who, indicator_id, area_type=level, period=period)))


class Gradient(BaseModel):
    """The slope index of inequality across deprivation quintiles (PHE's method): the gap
    from the most to the least deprived end of a fitted line, with its 95% interval."""

    sii: float
    lower: float
    upper: float
    higher_in: str | None  # "least deprived", "most deprived", or None: no clear gradient


class Groups(Rows):
    """One area's figures by group (``breakdown``, ``category``), each compared with the
    area's own figure (``overall``)."""

    area: Area
    period: str
    overall: dict[str, Any] | None
    slope_index: Gradient | None


@router.get("/indicators/{indicator_id}/inequalities", response_model=Groups,
            responses=RESPONSES)
def indicator_inequalities(request: Request, indicator_id: IndicatorId, area: OptText = None,
                           area_type: OptText = None, period: OptText = None,
                           who: Principal = Depends(require_user),
                           con: duckdb.DuckDBPyConnection = Depends(get_con),
                           meta: dict = Depends(get_meta)) -> Groups:
    """The inequalities page's figures: national unless ``area`` (a code; with
    ``area_type`` where two areas share it) is given."""
    m = indicator_or_404(meta, indicator_id)
    asked = f"{area_type}:{area}" if area and area_type else area
    period, _, chosen, _ = choose_area(request, con, who, indicator_id, period, asked)
    if chosen["area_type"] in RESTRICTED_TYPES:
        _audited(con, who, indicator_id, area=chosen["area_code"], period=period)
    overall, groups = area_groups(con, who, indicator_id, m, period, chosen)
    gradient = next((g.gradient for g in groups if g.gradient is not None), None)
    return Groups(
        rows=[{"breakdown": g.name, **r} for g in groups for r in g.rows],
        area=Area(code=chosen["area_code"], name=chosen["area_name"] or "",
                  type=chosen["area_type"]), period=period,
        overall=json.loads(rows_response([overall]).body)["rows"][0] if overall else None,
        slope_index=Gradient(sii=gradient.sii, lower=gradient.lower, upper=gradient.upper,
                             higher_in=gradient.higher_in) if gradient else None)


@router.get("/localities", response_model=list[Area], responses=RESPONSES)
def localities(who: Principal = Depends(require_user),
               con: duckdb.DuckDBPyConnection = Depends(get_con)) -> list[Area]:
    return [Area(code=a.code, name=a.name, type=a.type) for a in profiles.localities(con)]


@router.get("/localities/{code}/rug", response_model=Rows, responses=RESPONSES)
def locality_rug(request: Request, code: Code, who: Principal = Depends(require_user),
                 con: duckdb.DuckDBPyConnection = Depends(get_con),
                 meta: dict = Depends(get_meta)) -> Response:
    locality_or_error(request.app.state.cache, con, who, code)
    _audited(con, who, f"locality:{code}", rows="rug")
    return cached_rows(request, con, ("rug", code), lambda: queries.records(
        queries.hide_unpublished(profiles.tartan_rug(con, profiles.practices_in(con, code),
                                                     meta))))


@router.get("/localities/{code}/outliers", response_model=Rows, responses=RESPONSES)
def locality_outliers(request: Request, code: Code, who: Principal = Depends(require_user),
                      con: duckdb.DuckDBPyConnection = Depends(get_con),
                      meta: dict = Depends(get_meta)) -> Response:
    locality_or_error(request.app.state.cache, con, who, code)
    _audited(con, who, f"locality:{code}", rows="outliers")
    widened = benchmarking.practice_spreads(request.app.state.cache, con, meta)
    return cached_rows(request, con, ("outliers", code), lambda: queries.records(
        profiles.outliers(con, profiles.practices_in(con, code), meta, widened)))


@router.get("/localities/{code}/reviews", response_model=Rows, responses=RESPONSES)
def locality_reviews(request: Request, code: Code, who: Principal = Depends(require_user),
                     con: duckdb.DuckDBPyConnection = Depends(get_con)) -> Response:
    locality_or_error(request.app.state.cache, con, who, code)
    _audited(con, who, f"locality:{code}", rows="reviews")
    codes = [p.code for p in profiles.practices_in(con, code)]
    return rows_response(queries.records(peer_review.reviews(con, codes)))


@router.get("/practices/{code}/profile", response_model=Rows, responses=RESPONSES)
def practice_profile(request: Request, code: Code, who: Principal = Depends(require_user),
                     con: duckdb.DuckDBPyConnection = Depends(get_con),
                     meta: dict = Depends(get_meta)) -> Response:
    practice_or_error(request.app.state.cache, con, who, code)
    _audited(con, who, f"practice:{code}", rows="profile")
    return cached_rows(request, con, ("profile", code), lambda: [
        {k: v for k, v in r.items() if k not in ("pos", "comparators")}
        for r in profile_rows(request, con, code, meta)])


@router.get("/public/indicators", response_model=list[PublicIndicator],
            responses=PUBLIC_RESPONSES)
def public_indicators(request: Request, con: duckdb.DuckDBPyConnection = Depends(get_con),
                      meta: dict = Depends(get_meta)) -> list[PublicIndicator]:
    """Open to everyone: the indicators published, with their periods (a user test found
    no way to list them but the public page)."""
    return [PublicIndicator(**_facts(i, m),
                            periods=queries.periods(request.app.state.cache, con, i),
                            being_updated=bool(m.get("out_of_date")))
            for i, m in meta.items()]


@router.get("/public/indicators/{indicator_id}/values", response_model=Rows,
            responses=PUBLIC_RESPONSES)
def public_indicator_values(request: Request, indicator_id: IndicatorId,
                            period: OptText = None,
                            con: duckdb.DuckDBPyConnection = Depends(get_con),
                            meta: dict = Depends(get_meta)) -> Response:
    """Open to everyone: disclosure-controlled, locality level and above; figures out of
    date (newer data or a changed definition not computed yet) are refused with 409."""
    refuse_out_of_date(indicator_or_404(meta, indicator_id))
    period_or_404(request, con, indicator_id, period)
    return cached_rows(request, con, ("public", indicator_id, period, publication_key(request)),
                       lambda: queries.records(published_with_trends(request, con,
                                                                     indicator_id, period)))
