"""Co-production page: events and who took part, pledges by organisation, workstreams and
their progress, and where each outcome was co-designed."""

from __future__ import annotations

from datetime import date

import duckdb
from fastapi import APIRouter, Depends, Query, Request

from carepath.domain.coproduction import summaries
from carepath.indicators.library import builtin
from carepath.model.schema import PARTICIPANT_GROUPS
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.pages._care_common import records
from carepath.web.render import NavItem, render
from carepath.web.scopes import STAFF_ROLES, Principal
from carepath.web.security import require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Co-production", "/coproduction", STAFF_ROLES, order=43),)


@router.get("/coproduction", include_in_schema=False)
def coproduction_page(request: Request, as_of: date | None = Query(None),
                      who: Principal = Depends(require_user),
                      con: duckdb.DuckDBPyConnection = Depends(get_con),
                      meta: dict = Depends(get_meta)):
    as_of = as_of or date.today()
    outcomes = records(summaries.codesigned_outcomes(con))
    for o in outcomes:  # an outcome named by its indicator id reads as its title (an id
        # such as care_plan_offered was shown: a walkthrough), linked to its page
        title = (meta.get(o["outcome"]) or {}).get("title") or _library_title(o["outcome"])
        o["href"] = f"/indicators/{o['outcome']}" if o["outcome"] in meta else None
        o["outcome"] = title or o["outcome"]
    return render(request, "coproduction.html", {
        "title": "Co-production", "as_of": as_of, "groups": PARTICIPANT_GROUPS,
        "events": records(summaries.participation(con)),
        "pledges": records(summaries.pledges_by_status(con, as_of=as_of)),
        "workstreams": records(summaries.workstream_progress(con)),
        "outcomes": outcomes,
    })


def _library_title(outcome: str) -> str | None:
    """The built-in indicator's title for an outcome named by its id (one with no values
    in the workspace yet has no page to link to)."""
    found = builtin().get(outcome)
    return found.title if found else None
