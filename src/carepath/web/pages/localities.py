"""Locality list, locality overview (tartan rug), outlier list and peer-review records."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from carepath.domain.benchmarking import peer_review, profiles
from carepath.errors import ValidationError
from carepath.web import benchmarking, queries, scopes
from carepath.web.cache import VersionedCache
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.pages.home import reviews_changed
from carepath.web.render import NavItem, render, render_cached
from carepath.web.scopes import REVIEW_ROLES, STAFF_ROLES, Principal, Role
from carepath.web.security import Forbidden, require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Localities", "/localities", STAFF_ROLES - {Role.PROVIDER}, order=20),)
MAX_TEXT = peer_review.MAX_TEXT  # characters of each peer-review text field
# The answers to "was the explanation accepted?"
ACCEPTED = {"yes": True, "no": False, "": None}


def locality_or_error(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                      who: Principal, code: str) -> profiles.Area:
    known = queries.organisation_names(cache, con, "locality")
    if code not in known:
        names = ", ".join(f"{name} ({c})" for c, name in known.items())
        raise HTTPException(404, f"There is no locality {code!r}. Localities: {names}.")
    if not scopes.can_see_locality_detail(who, code):
        raise Forbidden("Practice-level data for this locality is outside your account's "
                        "scope.")
    return profiles.Area(code, known[code], "locality")


@router.get("/localities", include_in_schema=False)
def locality_list(request: Request, who: Principal = Depends(require_user),
                  con: duckdb.DuckDBPyConnection = Depends(get_con)):
    if who.role is Role.PROVIDER:
        raise Forbidden("Locality data is for commissioners, analysts and lead GPs.")
    items = [{"code": a.code, "name": a.name,
              "detail": scopes.can_see_locality_detail(who, a.code),
              "practices": len(profiles.practices_in(con, a.code))}
             for a in profiles.localities(con)]
    return render(request, "localities.html", {"title": "Localities", "items": items})


def rug_table(rug: pd.DataFrame, practices: list[profiles.Area], meta: dict) -> dict:
    """Practices (rows) x indicators (columns), each cell a value with its state."""
    cells = {(r["area_code"], r["indicator_id"]): r for r in queries.records(rug)}
    indicators = [(i, m) for i, m in meta.items() if any(k[1] == i for k in cells)]
    rows = []
    for p in practices:
        row = {"code": p.code, "name": p.name, "cells": []}
        for ind_id, _ in indicators:
            c = cells.get((p.code, ind_id))
            if c is None:
                row["cells"].append({"state": "missing", "text": "–", "css": "missing",
                                     "label": "no data"})
                continue
            row["cells"].append(_rug_cell(c))
        rows.append(row)
    return {"indicators": indicators, "rows": rows, "periods": profiles.rug_periods(rug)}


def _rug_cell(c: dict) -> dict:
    state = c["value_state"]
    if state == "suppressed":
        return {"state": state, "text": "*", "css": "suppressed",
                "label": c.get("value_note") or "suppressed"}
    if state != "published" or c["value"] is None:
        return {"state": "missing", "text": "–", "css": "missing", "label": "no data"}
    sig = c["compared_to_national"] or "not_compared"
    return {"state": state, "text": f"{c['value']:,.1f}", "css": sig.replace("_", "-"),
            "label": sig.replace("_", " ")}


def _rug_data(con, code: str, meta: dict) -> tuple[list[profiles.Area], dict, str | None]:
    practices = profiles.practices_in(con, code)
    rug = profiles.tartan_rug(con, practices, meta)
    # Each indicator's own latest period: a quarterly one's "2024/25 Q4" sorts last and
    # read as every column's (a new user's walkthrough).
    period = ", ".join(sorted(set(rug["period"]))) if not rug.empty else None
    return practices, rug_table(rug, practices, meta), period


@router.get("/localities/{code}", include_in_schema=False)
def locality_overview(request: Request, code: str, who: Principal = Depends(require_user),
                      con: duckdb.DuckDBPyConnection = Depends(get_con),
                      meta: dict = Depends(get_meta)):
    area = locality_or_error(request.app.state.cache, con, who, code)

    def build() -> dict:
        practices, table, period = _rug_data(con, code, meta)
        return {"title": area.name, "area": area, "rug": table, "period": period,
                "why_empty": None if practices else
                "This locality has no practices linked today."}

    return render_cached(request, "locality.html", (code,), build, con)


def _review_context(request: Request, con, who: Principal, area: profiles.Area,
                    meta: dict) -> dict:
    practices = profiles.practices_in(con, area.code)
    widened = benchmarking.practice_spreads(request.app.state.cache, con, meta)
    out = queries.records(profiles.outliers(con, practices, meta, widened))
    reviews = queries.records(peer_review.reviews(con, [p.code for p in practices]))
    by_key: dict[tuple, list[dict]] = {}
    for r in reviews:
        by_key.setdefault((r["indicator_id"], r["area_code"]), []).append(r)
    for o in out:
        o["reviews"] = by_key.get((o["indicator_id"], o["area_code"]), [])
    return {"title": f"Outliers: {area.name}", "area": area, "outliers": out,
            "reviews": reviews, "meta": meta, "can_record": who.role in REVIEW_ROLES,
            "practices": practices, "today": date.today().isoformat(), "max_text": MAX_TEXT,
            # Practices by name in the records, as in the outliers (W90023 was shown).
            "practice_names": {p.code: p.name for p in practices}}


@router.get("/localities/{code}/outliers", include_in_schema=False)
def outliers(request: Request, code: str, who: Principal = Depends(require_user),
             con: duckdb.DuckDBPyConnection = Depends(get_con), meta: dict = Depends(get_meta)):
    area = locality_or_error(request.app.state.cache, con, who, code)
    return render(request, "outliers.html", _review_context(request, con, who, area, meta))


def _parse_date(text: str, field: str, *, required: bool) -> date | None:
    if not text.strip():
        if required:
            raise ValidationError("enter a date", where=field)
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{text!r} is not a date like 2025-03-31", where=field) from None


# Refusals said beside a field of the review form (see outliers.html).
FIELD_WHERES = frozenset({"date discussed", "due date", "explanation", "action", "owner",
                          "accepted"})


@router.post("/localities/{code}/reviews", include_in_schema=False)
def record_review(request: Request, code: str,
                  indicator_id: str = Form(..., max_length=100),
                  area_code: str = Form(..., max_length=40),
                  period: str = Form(..., max_length=40),
                  date_discussed: str = Form("", max_length=20),
                  # Lengths checked below, not here: refused here, the page came back
                  # without what was typed (a walkthrough). The body limit bounds them.
                  explanation: str = Form(""),
                  accepted: str = Form("", max_length=10),
                  action: str = Form(""),
                  owner: str = Form(""),
                  due_date: str = Form("", max_length=20),
                  who: Principal = Depends(require_user),
                  con: duckdb.DuckDBPyConnection = Depends(get_con),
                  meta: dict = Depends(get_meta)):
    area = locality_or_error(request.app.state.cache, con, who, code)
    if who.role not in REVIEW_ROLES:
        raise Forbidden("Your role cannot record peer-review discussions.")
    try:
        if area_code not in {p.code for p in profiles.practices_in(con, code)}:
            raise ValidationError("choose a practice of this locality", where="practice")
        if indicator_id not in meta:
            raise ValidationError("choose an indicator of this workspace", where="indicator")
        if accepted not in ACCEPTED:
            raise ValidationError("answer yes, no or not decided", where="accepted")
        if period not in queries.cached_facts(request.app.state.cache, con,
                                              indicator_id)["periods"]:
            raise ValidationError(f"{indicator_id} has no values for {period!r}",
                                  where="period")
        review = peer_review.ReviewInput(
            indicator_id=indicator_id, area_code=area_code, period=period,
            date_discussed=_parse_date(date_discussed, "date discussed", required=True),
            explanation=explanation.strip() or None,
            accepted=ACCEPTED[accepted],
            action=action.strip() or None, owner=owner.strip() or None,
            due_date=_parse_date(due_date, "due date", required=False))
        peer_review.record_review(request.app.state.ws, by=who.username, review=review)
        reviews_changed(request)
    except ValidationError as exc:
        ctx = _review_context(request, con, who, area, meta)
        # Beside its field, the message alone ("due date: due date ... is before" said
        # it twice: an accessibility re-check).
        said = exc.message if exc.where in FIELD_WHERES else str(exc)
        ctx.update(error=said[:1].upper() + said[1:], error_field=exc.where, form={
            "indicator_id": indicator_id, "area_code": area_code, "period": period,
            "date_discussed": date_discussed, "explanation": explanation,
            "accepted": accepted, "action": action, "owner": owner, "due_date": due_date})
        return render(request, "outliers.html", ctx, status_code=400)
    return RedirectResponse(f"/localities/{code}/outliers#reviews", status_code=303)


@router.post("/localities/{code}/reviews/{review_id}/status", include_in_schema=False)
def review_status(request: Request, code: str, review_id: str,
                  status: str = Form(..., max_length=20),
                  who: Principal = Depends(require_user),
                  con: duckdb.DuckDBPyConnection = Depends(get_con)):
    locality_or_error(request.app.state.cache, con, who, code)
    if who.role not in REVIEW_ROLES:
        raise Forbidden("Your role cannot change peer-review records.")
    practices = {p.code for p in profiles.practices_in(con, code)}
    found = con.execute("SELECT area_code FROM peer_reviews WHERE review_id = ?",
                        [review_id]).fetchone()
    if found is None or found[0] not in practices:
        raise HTTPException(404, "There is no such peer-review record in this locality.")
    peer_review.update_status(request.app.state.ws, by=who.username, review_id=review_id,
                              status=status)  # validates the status; audited with the change
    reviews_changed(request)
    return RedirectResponse(f"/localities/{code}/outliers#reviews", status_code=303)
