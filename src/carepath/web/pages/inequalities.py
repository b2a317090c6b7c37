"""Inequalities page: one indicator's figures within one area by sex, age band, deprivation
quintile or tumour group, each group against the area's own figure, with the slope index
of inequality across deprivation quintiles (``carepath.domain.benchmarking.inequalities``).
"""

from __future__ import annotations

import duckdb
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from carepath import charts
from carepath.domain.benchmarking import inequalities
from carepath.stats import LEVEL_SAID
from carepath.web import queries
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.pages.indicators import axis_title, indicator_or_404
from carepath.web.render import render_cached
from carepath.web.scopes import Principal
from carepath.web.security import require_user

router = APIRouter()
NATIONAL = "national"
POLARITIES = {True: "high_is_good", False: "low_is_good", None: "no_judgement"}


def breakdown_columns(level: str, national: bool, trends: bool
                      ) -> list[tuple[str, str, str]]:
    """The groups' table; beside national's own groups, no comparison with themselves;
    a recent trend where any group has one (it needs five periods)."""
    said = LEVEL_SAID[level]
    return [("label", "Group", "text"), ("value", "Value", "value"),
            ("lower", f"Lower {said}", "number"), ("upper", f"Upper {said}", "number"),
            ("numerator", "Count", "count"), ("denominator", "Denominator", "count"),
            ("compared_to_area", "Compared with the area", "significance"),
            *([] if national else [("compared_to_national",
                                    "Compared with the same group nationally",
                                    "significance")]),
            *([("trend", "Recent trend", "text")] if trends else [])]


def choose_area(request: Request, con, who: Principal, indicator_id: str,
                period: str | None, area: str | None) -> tuple[str, list[str], dict, list[dict]]:
    """Validated (period, periods, chosen area, areas), or a 404 saying what there is."""
    periods = queries.cached_facts(request.app.state.cache, con, indicator_id)["periods"]
    period = period or (periods[-1] if periods else None)
    if period not in periods:
        raise HTTPException(404, f"Period {period!r} is not available; choose one of "
                                 f"{', '.join(periods)}.")
    areas = queries.records(queries.breakdown_areas(con, who, indicator_id, period,
                                                    request.app.state.cache))
    if not areas:
        raise HTTPException(404, "This indicator has no figures by sex, age, deprivation "
                                 f"or tumour group that you can see for {period}.")
    if area is None:
        return period, periods, next((a for a in areas if a["area_type"] == NATIONAL),
                                     areas[0]), areas
    # "TYPE:CODE" (the form's), or a code alone where only one area has it: a group of
    # the workspace's own may share a code with an organisation (a code review)
    kind, _, code = area.rpartition(":")
    matches = [a for a in areas if a["area_code"] == code and kind in ("", a["area_type"])]
    if len(matches) > 1:
        raise HTTPException(404, f"{code!r} is the code of more than one area; give its "
                                 f"type too: {', '.join(area_key(a) for a in matches)}.")
    if not matches:
        raise HTTPException(404, f"{area!r} has no figures by group for {period} that you "
                                 "can see. Without an area, the page lists those that do.")
    return period, periods, matches[0], areas


def area_key(area: dict) -> str:
    """How the form names an area: its type and code."""
    return f"{area['area_type']}:{area['area_code']}"


@router.get("/indicators/{indicator_id}/inequalities", include_in_schema=False)
def inequalities_page(request: Request, indicator_id: str,
                      period: str | None = Query(None, max_length=40),
                      area: str | None = Query(None, max_length=80),
                      who: Principal = Depends(require_user),
                      con: duckdb.DuckDBPyConnection = Depends(get_con),
                      meta: dict = Depends(get_meta)):
    m = indicator_or_404(meta, indicator_id)
    period, periods, chosen, areas = choose_area(request, con, who, indicator_id, period,
                                                 area)

    def build() -> dict:
        overall, groups = area_groups(con, who, indicator_id, m, period, chosen)
        level = m.get("level", "95")
        name = chosen["area_name"] or chosen["area_code"]
        y_title = axis_title(m["title"], m.get("unit") or "")
        return {
            "title": f"{m['title']}: inequalities", "ind": m, "indicator_id": indicator_id,
            "period": period, "periods": periods, "area": chosen, "area_name": name,
            "areas": [dict(a, key=area_key(a)) for a in areas], "area_key": area_key(chosen),
            "overall": overall, "groups": groups,
            "charts": {g.name: _bars(g, overall, y_title) for g in groups},
            "columns": breakdown_columns(level, chosen["area_type"] == NATIONAL,
                                         any(r["trend"] for g in groups for r in g.rows)),
            "level_said": LEVEL_SAID[level],
            "chart_columns": [("label", "Group", "text"), ("value", "Value", "value"),
                              ("lower", f"Lower {LEVEL_SAID[level]}", "number"),
                              ("upper", f"Upper {LEVEL_SAID[level]}", "number")],
            "level_labels": queries.AREA_TYPE_LABELS,
        }

    return render_cached(request, "inequalities.html",
                         (indicator_id, period, chosen["area_type"], chosen["area_code"]),
                         build, con)


def area_groups(con, who: Principal, indicator_id: str, m: dict, period: str, area: dict
                ) -> tuple[dict | None, list[inequalities.Breakdown]]:
    """(the area's own row, its groups judged against it): what the page and the API show."""
    rows = queries.breakdown_values(con, who, indicator_id, period, area["area_type"],
                                    area["area_code"])
    overall = next(iter(queries.records(rows[rows["breakdown"] == "all"])), None)
    groups = inequalities.breakdowns(
        rows[rows["breakdown"] != "all"],
        overall["value"] if overall and overall["value_state"] == "published" else None,
        polarity=POLARITIES[m.get("higher_is_better")], level=m.get("level", "95"),
        # without its definition's scale a percentage would read as a share of 1
        statistic=m.get("statistic") if "multiplier" in m else None,
        scale=m.get("multiplier", 1.0))
    return overall, groups


def _bars(group: inequalities.Breakdown, overall: dict | None, y_title: str) -> dict | None:
    """Each group's bar with its interval, in the groups' own order, against the area's
    figure (dashed), coloured by the comparison with it."""
    points = [{"name": r["label"], "value": r["value"], "lower": r["lower"],
               "upper": r["upper"], "significance": r["compared_to_area"]}
              for r in group.rows if r["value_state"] == "published" and r["value"] is not None]
    if not points:
        return None
    average = overall["value"] if overall and overall["value_state"] == "published" else None
    return charts.bar_with_intervals(points, average=average, y_title=y_title,
                                     compared_with="the area", keep_order=True)
