"""Economics pages (C10): the service catalogue and programme budget, cost-benefit analyses
across organisations (cost-shift matrix, tornado, Monte Carlo) and PBMA exercises with their
recorded decisions. Commissioning roles only: unit costs and contract values are not for
providers or the public. Thin: each handler calls carepath.domain.economics and renders."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from carepath.domain.economics import catalogue, charts, library, report
from carepath.domain.economics.constants import DEFAULT_DRAWS, DEFAULT_SEED
from carepath.domain.economics.decisions import (
    MIN_RATIONALE_CHARS,
    DecisionInput,
    decision_warnings,
    decisions,
    record_decision,
)
from carepath.domain.economics.definitions import load_cba, parameter_label
from carepath.domain.economics.pbma import (
    load_exercise,
    process_notes,
    score_options,
    select,
    shift_order,
    wish_order,
)
from carepath.errors import CarepathError, ValidationError
from carepath.indicators.periods import financial_year_label
from carepath.web.db import get_con
from carepath.web.meta import get_meta, indicator_names
from carepath.web.render import NavItem, render
from carepath.web.scopes import Principal, Role
from carepath.web.security import Forbidden, require_user

router = APIRouter()
ECONOMICS_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMISSIONER})
DECISION_ROLES = ECONOMICS_ROLES
NAV_ITEMS = (NavItem("Economics", "/economics", ECONOMICS_ROLES, order=60),)
# The decision form's fields (their ids) by the field a refusal names (decisions._check).
DECISION_FIELDS = {"option": "option-id", "decision": "decision", "rationale": "rationale"}
MAX_RATIONALE = 2000
# Panel groups as column heads (mean weighted score of the members of each group).
GROUP_LABELS = {"patient": "Patients", "carer": "Carers", "clinician": "Clinicians",
                "manager": "Managers", "finance": "Finance", "public": "Public"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def require_economics(who: Principal = Depends(require_user)) -> Principal:
    if who.role not in ECONOMICS_ROLES:
        raise Forbidden("Costs, benefits and prioritisation are for commissioners and "
                        "analysts.")
    return who


def entry_or_404(request: Request, kind: str, ident: str) -> library.Entry:
    from fastapi import HTTPException

    try:
        return library.find(request.app.state.ws.path, kind, ident)
    except ValidationError:
        raise HTTPException(404, f"There is no {kind.upper()} model {ident!r}.") from None


def _records(frame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


@router.get("/economics", include_in_schema=False)
def economics_home(request: Request, year: int | None = None,
                   who: Principal = Depends(require_economics),
                   con: duckdb.DuckDBPyConnection = Depends(get_con),
                   meta: dict = Depends(get_meta)):
    years = catalogue.catalogue_years(con)
    if year is not None and years and year not in years:  # 1900 showed the latest quietly
        raise HTTPException(404, f"The catalogue has no year {year}; it has "
                                 f"{', '.join(financial_year_label(y) for y in years)}.")
    year = year if year in years else (years[0] if years else None)
    services = _records(catalogue.read_catalogue(con, year)) if year else []
    budget = _records(catalogue.programme_budget(con, year)) if year else []
    return render(request, "economics.html", {
        "title": "Economics", "entries": library.discover(request.app.state.ws.path),
        "services": services, "budget": budget, "year": year, "years": years,
        # Indicators by title, linked where they have values (ids, all but dead links
        # before a compute: an accessibility audit).
        "indicators": indicator_names(request, meta)})


def _shown_where(where: str | None, workspace_path) -> str | None:
    """An error's place as the user knows it (economics/benefits.csv, row 3): the server's
    own folders are not for the browser."""
    if not where:
        return where
    for folder in (library.EXAMPLES, workspace_path):
        where = where.replace(f"{folder}/", "")
    return where


def load_or_explain(request: Request, load, path, con):
    """Load a model; a bad file is a 400 naming the file relative to the workspace."""
    try:
        return load(path, con)
    except CarepathError as exc:
        raise ValidationError(exc.message, where=_shown_where(
            exc.where, request.app.state.ws.path)) from None


def cba_report_for(request: Request, ident: str, con: duckdb.DuckDBPyConnection):
    entry = entry_or_404(request, "cba", ident)
    model = load_or_explain(request, load_cba, entry.path, con)
    return entry, report.build_cba_report(model, draws=DEFAULT_DRAWS, seed=DEFAULT_SEED)


def _money(value) -> str:
    """Whole pounds with the page's minus sign (as the money macro of _economics.html)."""
    text = report.money(value)
    return "−" + text[1:] if text.startswith("-") else text


def _named_bars(rep) -> list:
    """The tornado's bars with their parameters in words, for the chart and the table; a
    name two parameters share (two benefits of one outcome) keeps its path, so that no two
    bars are drawn on one row."""
    names = [parameter_label(rep.model, b.parameter) for b in rep.tornado]
    twice = {n for n in names if names.count(n) > 1}
    return [replace(b, parameter=f"{n} ({b.parameter})" if n in twice else n)
            for b, n in zip(rep.tornado, names, strict=True)]


def _tornado_rows(rep) -> list[dict]:
    """Tornado table cells as text: parameter values to 2-3 significant decimals (a
    proportion of 0.609 is not 0.6), NPVs in whole pounds."""
    return [{"parameter": b.parameter, "low_value": report.figure(b.low_value),
             "high_value": report.figure(b.high_value),
             "npv_at_low": _money(b.npv_at_low), "npv_at_high": _money(b.npv_at_high),
             "switching_value": "none in range" if b.switching_value is None
             else report.figure(b.switching_value)} for b in _named_bars(rep)]


def _monte_carlo_rows(mc, names: dict[str, str]) -> list[dict]:
    """Monte Carlo summary cells as text: NPV in pounds, BCR to 2 decimals, probabilities
    as percentages (P(NPV > 0) or, for the BCR, P(BCR > 1))."""
    everyone = "All organisations"
    rows = [("NPV", everyone, mc.npv_total, _money)]
    if mc.bcr_total is not None:
        rows.append(("Benefit-cost ratio", everyone, mc.bcr_total, report.figure))
    rows += [("NPV", names.get(org, org), i, _money) for org, i in mc.npv_by_org.items()]
    return [{"measure": measure, "org": org, "mean": fmt(i.mean), "low": fmt(i.low),
             "high": fmt(i.high),
             "p_positive": report.percent(i.p_positive) if measure == "NPV" else "",
             "p_bcr_above_1": "" if measure == "NPV" else report.percent(i.p_positive)}
            for measure, org, i, fmt in rows]


@router.get("/economics/cba/{ident}", include_in_schema=False)
def cba_page(request: Request, ident: str, who: Principal = Depends(require_economics),
             con: duckdb.DuckDBPyConnection = Depends(get_con)):
    entry, rep = cba_report_for(request, ident, con)
    shift = report.cost_shift_frame(rep.result)
    mc = rep.monte_carlo
    return render(request, "economics_cba.html", {
        "title": rep.model.title, "entry": entry, "rep": rep, "model": rep.model,
        "orgs": rep.model.organisations, "shift_rows": _records(shift.reset_index()),
        "shift_cols": list(shift.columns[1:]),
        "tornado_spec": charts.tornado_chart(_named_bars(rep), rep.base_npv)
        if rep.tornado else None,
        "tornado_rows": _tornado_rows(rep),
        "hist_spec": charts.npv_histogram(mc.npv_samples) if mc else None,
        "hist_rows": _monte_carlo_rows(mc, rep.model.organisations) if mc else []})


def _download(request: Request, who: Principal, name: str, frames: dict) -> Response:
    ws = request.app.state.ws
    with ws.transaction() as con:
        ws.audit(con, actor=who.username, action="economics.export", target=name,
                 detail=json.dumps({"sheets": list(frames)}))
    return Response(report.xlsx_bytes(frames), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/economics/cba/{ident}/download.xlsx", include_in_schema=False)
def cba_download(request: Request, ident: str, who: Principal = Depends(require_economics),
                 con: duckdb.DuckDBPyConnection = Depends(get_con)):
    _, rep = cba_report_for(request, ident, con)
    return _download(request, who, rep.model.id, report.cba_frames(rep))


def _pbma_context(request: Request, con, who: Principal, ident: str) -> dict:
    entry = entry_or_404(request, "pbma", ident)
    ex = load_or_explain(request, load_exercise, entry.path, con)
    scores = score_options(ex)
    sel = select(ex, scores)
    frames = report.pbma_frames(ex, scores, sel)
    # wish list best value first, then shift list least painful first, unscored last
    order = {s.option.id: i for i, s in enumerate(wish_order(scores) + shift_order(scores))}
    options = sorted(_records(frames["options"]), key=lambda o: order.get(o["option"], 999))
    decided = _records(decisions(con, ex.id))
    standing: dict[str, str] = {}
    standing_ids: set[str] = set()
    for d in decided:  # newest first: the first one seen for an option stands
        if d["option_id"] not in standing:
            standing_ids.add(d["decision_id"])
        standing.setdefault(d["option_id"], d["decision"])
    spread: dict[str, list[dict]] = {}
    for row in _records(frames["score_spread"]):
        spread.setdefault(row["option"], []).append(row)
    return {
        "title": ex.title, "entry": entry, "ex": ex, "sel": sel, "options": options,
        "summary": _records(frames["summary"]), "spread": spread, "standing": standing,
        "notes": process_notes(ex, scores), "criteria": {c.id: c.name for c in ex.criteria},
        "weights": ex.weights(), "decisions": decided,
        # An investment the selection within the money available leaves unfunded: said by
        # the CLI when recorded, and on the web not at all (a walkthrough).
        "beyond": {s.option.id for s in sel.not_funded}, "standing_ids": standing_ids,
        "can_decide": who.role in DECISION_ROLES, "group_labels": GROUP_LABELS,
        "min_rationale": MIN_RATIONALE_CHARS,
        "cv_spec": charts.cost_value_chart([o for o in options
                                            if o["weighted_score"] is not None]),
        "groups": sorted({k.removeprefix("group_") for o in options for k in o
                          if k.startswith("group_")})}


@router.get("/economics/pbma/{ident}", include_in_schema=False)
def pbma_page(request: Request, ident: str, recorded: str | None = Query(None, max_length=40),
              who: Principal = Depends(require_economics),
              con: duckdb.DuckDBPyConnection = Depends(get_con)):
    ctx = _pbma_context(request, con, who, ident)
    just = next((d for d in ctx["decisions"] if d["decision_id"] == recorded), None)
    if just is not None:  # the decision this user has just recorded, and what to know of it
        ctx["recorded"] = {**just, "warnings": decision_warnings(ctx["ex"], DecisionInput(
            just["option_id"], just["decision"], just["rationale"]))}
    return render(request, "economics_pbma.html", ctx)


@router.get("/economics/pbma/{ident}/download.xlsx", include_in_schema=False)
def pbma_download(request: Request, ident: str, who: Principal = Depends(require_economics),
                  con: duckdb.DuckDBPyConnection = Depends(get_con)):
    ctx = _pbma_context(request, con, who, ident)
    ex, sel = ctx["ex"], ctx["sel"]
    frames = report.pbma_frames(ex, score_options(ex), sel)
    frames["decisions"] = decisions(con, ex.id)
    return _download(request, who, ex.id, frames)


@router.post("/economics/pbma/{ident}/decisions", include_in_schema=False)
def pbma_decide(request: Request, ident: str,
                option_id: str = Form(..., max_length=100),
                decision: str = Form(..., max_length=20),
                rationale: str = Form("", max_length=MAX_RATIONALE),
                who: Principal = Depends(require_economics),
                con: duckdb.DuckDBPyConnection = Depends(get_con)):
    if who.role not in DECISION_ROLES:
        raise Forbidden("Your role cannot record PBMA decisions.")
    entry = entry_or_404(request, "pbma", ident)
    try:
        made = record_decision(request.app.state.ws, load_exercise(entry.path, con),
                               DecisionInput(option_id, decision, rationale), by=who.username)
    except CarepathError as exc:
        ctx = _pbma_context(request, con, who, ident)
        # Said beside the field it is about, in a sentence (it sat above the rationale
        # whichever field was wrong, starting "decision on ...": a walkthrough).
        ctx.update(error=exc.message[:1].upper() + exc.message[1:],
                   error_field=DECISION_FIELDS.get(exc.field, "option-id"),
                   form={"option_id": option_id, "decision": decision,
                         "rationale": rationale})
        return render(request, "economics_pbma.html", ctx, status_code=400)
    return RedirectResponse(f"/economics/pbma/{ident}?recorded={made}#decisions",
                            status_code=303)
