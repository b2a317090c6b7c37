"""Experience page: % positive per question and organisation with small numbers suppressed,
summary scores, and case-mix adjusted scores."""

from __future__ import annotations

import duckdb
from fastapi import APIRouter, Depends, Query, Request

from carepath.domain.experience import scoring
from carepath.model.codes import SURVEYS
from carepath.web.db import get_con
from carepath.web.pages._care_common import (
    PeriodAsked,
    org_names,
    period_asked,
    period_shown,
    records,
    visible,
    with_org_names,
)
from carepath.web.render import NavItem, render
from carepath.web.scopes import STAFF_ROLES, Principal
from carepath.web.security import require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Experience", "/experience", STAFF_ROLES, order=42),)
SURVEY_PATTERN = "^(" + "|".join(SURVEYS) + ")$"


def _yours(con: duckdb.DuckDBPyConnection, who: Principal, frame):
    """The organisations' rows ``who`` may see, as on the journeys pages (a provider its
    own, a lead none: every provider's scores were shown to both, a red team), and the
    row of all of them."""
    shown = visible(con, who, frame, group_col="org_code", dim_col=None,
                    always=(scoring.NATIONAL,))
    return _without_one_other(frame, shown)


def _without_one_other(frame, shown):
    """The all-organisations row less a provider's own is every other organisation's:
    where that is one organisation (two trusts), the row goes for that question."""
    if frame.empty or "question_id" not in frame:
        return shown
    others = frame[~frame["org_code"].isin(shown["org_code"]) & (frame["respondents"] > 0)]
    lone = others.groupby("question_id")["org_code"].nunique()
    lone = set(lone[lone == 1].index)
    national = shown["org_code"] == scoring.NATIONAL
    return shown[~(national & shown["question_id"].isin(lone))].reset_index(drop=True)


@router.get("/experience", include_in_schema=False)
def experience_page(request: Request, survey: str = Query("cpes", pattern=SURVEY_PATTERN),
                    asked: PeriodAsked = Depends(period_asked),
                    who: Principal = Depends(require_user),
                    con: duckdb.DuckDBPyConnection = Depends(get_con)):
    s, e, period_error = period_shown(con, "surveys", asked)
    scores = _yours(con, who, scoring.question_scores(con, survey=survey, start=s, end=e))
    adjusted = _yours(con, who, scoring.casemix_adjusted(con, survey=survey, start=s, end=e))
    summary = scoring.summary_scores(scores) if not scores.empty else scores
    names = org_names(con, scores, adjusted)  # summary's organisations are the scores'
    return render(request, "experience.html", {
        "title": "Experience", "survey": survey, "surveys": SURVEYS, "start": s, "end": e,
        "period_error": period_error,
        "min_respondents": scoring.MIN_RESPONDENTS,
        "summary": records(with_org_names(summary, names)),
        "scores": records(with_org_names(scores, names)),
        "adjusted": records(with_org_names(adjusted, names)),
    })
