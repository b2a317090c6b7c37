"""Home: what this workspace holds, and where to go next for the signed-in role."""

from __future__ import annotations

import duckdb
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from carepath.domain.benchmarking import peer_review
from carepath.web import queries
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.render import NavItem, render
from carepath.web.scopes import Principal, Role, allowed_restricted_codes
from carepath.web.security import current_principal

router = APIRouter()
NAV_ITEMS = (NavItem("Home", "/", order=0),)


def workspace_summary(con: duckdb.DuckDBPyConnection) -> dict:
    ind = con.execute(
        "SELECT count(DISTINCT indicator_id), min(period_start), max(period_end), "
        "max(computed_at), count(*) FROM indicator_values").fetchone()
    by_type = con.execute(
        "SELECT org_type, count(DISTINCT org_code) FROM organisations GROUP BY 1 ORDER BY 2"
    ).fetchall()
    return {"indicators": ind[0], "first": ind[1], "last": ind[2], "computed_at": ind[3],
            "values": ind[4], "orgs": dict(by_type)}


# Cache key of the review counts. Reviews change without a recompute, and only through this
# server while it runs (it holds the database for writing), so the pages that change them
# drop the entry (``reviews_changed``) instead of the data version moving.
REVIEW_COUNTS = "review_counts"


def reviews_changed(request: Request) -> None:
    request.app.state.cache.invalidate(REVIEW_COUNTS)


def review_counts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Practice -> (records, open actions). A record with no action agreed is no open
    action (an accepted explanation counted as one: a walkthrough)."""
    return {code: (total, still_open) for code, total, still_open in con.execute(
        f"SELECT area_code, count(*), count(*) FILTER (WHERE {peer_review.OPEN_ACTION_SQL}) "
        "FROM peer_reviews GROUP BY 1").fetchall()}


def _reviews_seen(counts: dict[str, tuple[int, int]], allowed: set[str] | None) -> dict:
    """The records of the practices ``allowed`` (None: all): a lead's home counted every
    locality's (a walkthrough)."""
    mine = [v for code, v in counts.items() if allowed is None or code in allowed]
    return {"reviews": sum(t for t, _ in mine), "open_reviews": sum(o for _, o in mine)}


@router.get("/", include_in_schema=False)
def home(request: Request, who: Principal = Depends(current_principal),
         con: duckdb.DuckDBPyConnection = Depends(get_con), meta: dict = Depends(get_meta)):
    summary = None
    if who.is_authenticated:
        counts = request.app.state.cache.get(REVIEW_COUNTS, con, review_counts)
        summary = dict(request.app.state.cache.get("summary", con, workspace_summary),
                       **_reviews_seen(counts, allowed_restricted_codes(con, who)),
                       out_of_date=sum(bool(m.get("out_of_date")) for m in meta.values()))
    my_localities = []
    if who.role is Role.LOCALITY_LEAD and who.scope:
        names = queries.organisation_names(request.app.state.cache, con, "locality")
        my_localities = [(code, name) for code, name in names.items() if code in who.scope]
    return render(request, "home.html", {"title": "Home", "summary": summary,
                                         "my_localities": my_localities})


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    # Browsers ask for /favicon.ico whatever the page says; send them to the shipped icon.
    return RedirectResponse("/static/favicon.svg", status_code=301)
