"""End-of-life page: register coverage, preferred place recorded and achieved, place of
death, emergency admissions and bed days in the last 90 days, and progress towards "90% die
where they chose" by locality."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from fastapi import APIRouter, Depends, Request

from carepath import charts
from carepath.domain.eol import measures
from carepath.web import queries
from carepath.web.db import get_con
from carepath.web.pages._care_common import (
    PeriodAsked,
    bars,
    cached,
    period_asked,
    period_shown,
    records,
)
from carepath.web.render import NavItem, render
from carepath.web.scopes import STAFF_ROLES, Principal
from carepath.web.security import require_user

router = APIRouter()
NAV_ITEMS = (NavItem("End of life", "/eol", STAFF_ROLES, order=41),)


@router.get("/eol", include_in_schema=False)
def eol_page(request: Request, asked: PeriodAsked = Depends(period_asked),
             who: Principal = Depends(require_user),
             con: duckdb.DuckDBPyConnection = Depends(get_con)):
    s, e, period_error = period_shown(con, "deaths", asked)
    m = dict(cached(con, ("eol", s, e), lambda: _measures(con, s, e)))
    # Localities by name, as on every other page (their codes read as WXL04: a walkthrough)
    names = queries.organisation_names(request.app.state.cache, con, "locality")
    for key in ("progress", "by_locality"):
        m[key] = _named(m[key], names)
    total = records(m["total"])
    avg = total[0]["achieved_value"] if total else None
    chart_rows = bars(m["progress"], name="group", overall=avg, value="achieved_value",
                      lower="achieved_lower", upper="achieved_upper", higher_is_better=True)
    return render(request, "eol.html", {
        "title": "End of life care", "start": s, "end": e, "period_error": period_error,
        "summary": records(m["overall"])[0] if not m["overall"].empty else None,
        "total": total[0] if total else None,
        "target": measures.PLACE_OF_CHOICE_TARGET,
        "progress": records(m["progress"]),
        "chart": charts.bar_with_intervals(chart_rows, average=None if avg is None
                                           else avg * 100,
                                           y_title="Died in preferred place (%)")
        if chart_rows else None,
        "chart_rows": chart_rows,
        "places": records(m["places"]), "prefs": records(m["prefs"]),
        "by_locality": records(m["by_locality"]),
    })


UNKNOWN_LOCALITY = "unknown"  # measures.GROUPS: a practice in no locality


def _named(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``frame`` with each locality code in ``group`` replaced by its name."""
    if frame.empty:
        return frame
    shown = {**names, UNKNOWN_LOCALITY: "No locality known"}
    named = frame.assign(group=frame["group"].map(lambda code: shown.get(code, code)))
    # By name, as the page reads them (they were in code order: a walkthrough); the
    # unknown last.
    last = named["group"] == shown[UNKNOWN_LOCALITY]
    return named.assign(_last=last).sort_values(["_last", "group"], kind="stable").drop(
        columns="_last").reset_index(drop=True)


def _measures(con, s: date, e: date) -> dict:
    return {
        "overall": measures.eol_summary(con, start=s, end=e),
        "progress": measures.choice_progress(con, start=s, end=e, group="locality"),
        "total": measures.choice_progress(con, start=s, end=e),
        "places": measures.place_of_death(con, start=s, end=e),
        "prefs": measures.preference_vs_actual(con, start=s, end=e),
        "by_locality": measures.eol_summary(con, start=s, end=e, group="locality"),
    }
