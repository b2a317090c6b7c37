"""Journeys pages: pathway waits, people who fell between services (counts for all staff,
lists for person-level roles), Recovery Package coverage with the equity view, HNA
concerns, routes through the pathway, and one person's audited timeline."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

import duckdb
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from carepath import charts
from carepath.domain.journeys import flows, gaps, hna, recovery, waits
from carepath.domain.journeys._shared import default_period
from carepath.domain.journeys.timeline import (
    NHS_NUMBER_HINT,
    known_person,
    person_in_any_case,
    person_timeline,
)
from carepath.ingest.nhs_number import looks_like_nhs_number
from carepath.model.codes import in_words
from carepath.web.audit import record
from carepath.web.db import get_con
from carepath.web.pages._care_common import (
    PeriodAsked,
    bars,
    cached,
    org_names,
    period,
    period_asked,
    period_shown,
    records,
    visible,
)
from carepath.web.pages._flow_svg import flow_svg
from carepath.web.render import NavItem, render
from carepath.web.scopes import PERSON_LEVEL_ROLES, STAFF_ROLES, Principal
from carepath.web.security import require_roles, require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Journeys", "/journeys", STAFF_ROLES, order=40),)
EQUITY_CHART_ELEMENT = "hna"
PATIENT_ID_MAX = 80
# A page lists at most this many people; choose a rule to narrow it.
MAX_LIST_ROWS = 500
RULE_PATTERN = "^(" + "|".join(gaps.RULES) + ")$"


@router.get("/journeys", include_in_schema=False)
def journeys_page(request: Request, asked: PeriodAsked = Depends(period_asked),
                  no_contact_days: int = Query(gaps.DEFAULT_NO_CONTACT_DAYS, ge=1, le=3650),
                  find: str | None = Query(None, max_length=PATIENT_ID_MAX),
                  who: Principal = Depends(require_user),
                  con: duckdb.DuckDBPyConnection = Depends(get_con)):
    s, e, period_error = period_shown(con, "cancer", asked)
    m = cached(con, ("journeys", s, e, no_contact_days),
               lambda: _measures(con, s, e, no_contact_days))
    cov = _named(con, visible(con, who, m["coverage"]))
    equity = recovery.equity_view(cov)
    overall = cov[(cov.dimension == "all") & (cov.element == EQUITY_CHART_ELEMENT)]
    by_trust = cov[(cov.dimension == "trust") & (cov.element == EQUITY_CHART_ELEMENT)]
    hna_rows = bars(by_trust, name="group", overall=_first(overall, "value"),
                    higher_is_better=True)
    as_of = m["as_of"]
    # The year every element has fallen due for, offered where this one's have not (the
    # CLI defaults to it; the page showed reviews of a denominator near 0: a review).
    due_end = recovery.all_due_by(as_of)
    ctx = {
        "title": "Whole journeys", "start": s, "end": e, "no_contact_days": no_contact_days,
        "follow_up_groups": ", ".join(map(in_words, recovery.STRATIFIED_FOLLOW_UP_GROUPS)),
        "as_of": as_of, "due_start": default_period(con, "cancer", None, due_end)[0],
        "due_end": due_end if e > due_end else None,
        "period_error": period_error,
        "can_list": who.role in PERSON_LEVEL_ROLES,
        "find": "" if find == NHS_NUMBER_TYPED else (find or ""),
        "find_error": _find_error(find) if who.role in PERSON_LEVEL_ROLES else None,
        "waits": records(m["waits"]), "waits_dtt": records(m["waits_dtt"]),
        "gaps": records(m["gaps"]), "coverage": records(cov[cov.dimension == "all"]),
        "equity": records(equity),
        "hna_chart": charts.bar_with_intervals(
            hna_rows, average=_pct(_first(overall, "value")), y_title="HNA recorded (%)")
        if hna_rows else None,
        "hna_rows": hna_rows,
        "concerns": records(m["concerns"]),
        "flow_svg": Markup(flow_svg(m["flows"], flows.STAGES)),
        "flows": records(m["flows"]),
    }
    return render(request, "journeys.html", ctx)


# Breakdowns whose groups are organisations, shown by name; the others' codes in words.
ORGANISATION_DIMENSIONS = ("locality", "trust")


def _named(con: duckdb.DuckDBPyConnection, cov: pd.DataFrame) -> pd.DataFrame:
    """``cov`` with each group as people read it: organisations by name, other codes in
    words (the equity view listed 'WXL01, brain_cns': a new user's walkthrough). After the
    scope filter, which compares codes."""
    if cov.empty:
        return cov
    orgs = cov["dimension"].isin(ORGANISATION_DIMENSIONS)
    names = org_names(con, cov[orgs], code_col="group")
    shown = [names.get(g, g) if is_org else in_words(g)
             for g, is_org in zip(cov["group"], orgs, strict=True)]
    return cov.assign(group=shown)


def _measures(con, s: date, e: date, no_contact_days: int) -> dict:
    """Every aggregate on the page, before scope filtering (so it can be cached)."""
    as_of = period(con, "contacts", None, None)[1]  # elements due by the data's end
    return {
        "as_of": as_of,
        "coverage": recovery.coverage(con, start=s, end=e, as_of=as_of),
        "waits": waits.wait_summary(con, "referral_to_diagnosis", start=s, end=e,
                                    group="tumour_group"),
        "waits_dtt": waits.wait_summary(con, "decision_to_treatment", start=s, end=e),
        "gaps": gaps.fell_between_counts(con, start=s, end=e, as_of=as_of,
                                         no_contact_days=no_contact_days),
        "concerns": hna.concerns_by_domain(con, start=s, end=e).query("tumour_group == 'all'"),
        "flows": flows.pathway_flows(con, start=s, end=e),
    }


def _first(frame, col):
    return None if frame.empty else float(frame[col].iloc[0])


def _pct(v):
    return None if v is None else v * 100


@router.get("/journeys/fell-between", include_in_schema=False)
def fell_between_list(request: Request, asked: PeriodAsked = Depends(period_asked),
                      rule: str | None = Query(None, pattern=RULE_PATTERN),
                      no_contact_days: int = Query(gaps.DEFAULT_NO_CONTACT_DAYS, ge=1,
                                                   le=3650),
                      who: Principal = Depends(require_roles(*PERSON_LEVEL_ROLES)),
                      con: duckdb.DuckDBPyConnection = Depends(get_con)):
    s, e, period_error = period_shown(con, "cancer", asked)
    ws = request.app.state.db.ws
    as_of = period(con, "contacts", None, None)[1]
    people = gaps.fell_between_lists(ws, start=s, end=e, as_of=as_of, actor=who.username,
                                     can_see_person_level=True,
                                     no_contact_days=no_contact_days, con=con)
    counts = people["rule"].value_counts().to_dict()
    if rule:
        people = people[people["rule"] == rule]
    shown = people.head(MAX_LIST_ROWS)
    # Trusts and localities by name (codes such as WXL06 were shown: a walkthrough)
    names = org_names(con, shown, code_col="trust") | org_names(con, shown,
                                                                  code_col="locality")
    return render(request, "journey_gaps.html", {
        "title": "People who fell between services", "start": s, "end": e,
        "period_error": period_error,
        "no_contact_days": no_contact_days, "rule": rule, "rules": gaps.RULES,
        "counts": counts, "total": len(people), "max_rows": MAX_LIST_ROWS,
        "rows": records(shown), "names": names})


@router.get("/journeys/person", include_in_schema=False)
def find_person(pseudonym: str = Query("", max_length=PATIENT_ID_MAX),
                who: Principal = Depends(require_roles(*PERSON_LEVEL_ROLES)),
                con: duckdb.DuckDBPyConnection = Depends(get_con)):
    """The search form on the journeys page: go to that person's journey, or back to the
    form saying why not (a blank search was a 422 about 'query.pseudonym', an unknown one
    a 'Bad request' page, the form lost either way: an accessibility audit)."""
    typed = pseudonym.strip()
    if looks_like_nhs_number(typed):  # never looked up, logged, or put in an address
        return RedirectResponse(f"/journeys?{urlencode({'find': NHS_NUMBER_TYPED})}",
                                status_code=303)
    found = bool(typed) and known_person(con, typed)
    if typed and not found:
        exact = person_in_any_case(con, typed)
        found, typed = (True, exact) if exact else (False, typed)
    if typed:  # whether a pseudonym exists is person-level: audited as a view (a review)
        record(con, actor=who.username, action="journey.search", target=typed,
               detail={"found": found})
    if found:
        return RedirectResponse(f"/journeys/person/{quote(typed, safe='')}", status_code=303)
    # No fragment: the browser's jump to it took the focus from the error summary, which
    # was then above the screen (an accessibility re-check).
    return RedirectResponse(f"/journeys?{urlencode({'find': typed})}", status_code=303)


# What the search sends back for an NHS number typed as a pseudonym: a marker, never the
# number (the search had written it to the audit log, the address and the page: a review).
NHS_NUMBER_TYPED = "(an NHS number)"


def _find_error(find: str | None) -> str | None:
    """What the search (which looked, and audited it) found wrong; the page does not look
    again, so a link cannot ask whether a pseudonym exists unaudited."""
    if find is None:
        return None
    if not find.strip():
        return "Enter the pseudonym of the person whose journey you want to see"
    if find == NHS_NUMBER_TYPED:
        return f"Search by pseudonym: {NHS_NUMBER_HINT}"
    return f"No one in this workspace has the pseudonym {find.strip()!r}"


@router.get("/journeys/person/{patient_id}", include_in_schema=False)
def person_page(request: Request, patient_id: str,
                who: Principal = Depends(require_roles(*PERSON_LEVEL_ROLES)),
                con: duckdb.DuckDBPyConnection = Depends(get_con)):
    if len(patient_id) > PATIENT_ID_MAX:
        from fastapi import HTTPException

        raise HTTPException(404, "There is no such person in this workspace.")
    ws = request.app.state.db.ws
    tl = person_timeline(ws, patient_id, actor=who.username, can_see_person_level=True,
                         con=con)
    return render(request, "journey_person.html", {
        "title": f"Journey {patient_id}", "patient_id": patient_id, "rows": records(tl),
        "flagged": int((tl["flag"] != "").sum()) if not tl.empty else 0})
