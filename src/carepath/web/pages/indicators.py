"""Indicator list and indicator page: funnel plot, ordered bar with intervals, trend,
definition and provenance; CSV and Excel downloads of what the caller may see."""

from __future__ import annotations

import io

import duckdb
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from carepath import charts
from carepath.domain.benchmarking import inequalities
from carepath.indicators.periods import ReportingPeriod
from carepath.safe_export import neutralise_frame, write_excel_sheet
from carepath.stats import LEVEL_SAID
from carepath.stats.intervals import WEIGHTED_METHODS
from carepath.web import benchmarking, queries, scopes
from carepath.web.audit import record
from carepath.web.cache import VersionedCache
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.render import NavItem, render, render_cached
from carepath.web.scopes import STAFF_ROLES, Principal
from carepath.web.security import Forbidden, require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Indicators", "/indicators", STAFF_ROLES, order=10),)
# The trend shows national, ICB and locality lines; more localities than this would be a
# spaghetti chart, so only national and ICB are drawn then.
MAX_TREND_SERIES = 8
# An ordered bar chart of thousands of practices is unreadable (and slow): above this, the
# page asks for a locality first. The practice level is the default only below the second.
MAX_BAR_AREAS = 150
MAX_DEFAULT_AREAS = 300
DOWNLOAD_FORMATS = ("csv", "xlsx")
AREA_PAGES = {"practice": "/practices/{code}", "locality": "/localities/{code}"}


def table_columns(level: str = "95") -> list[tuple[str, str, str]]:
    """The values table, its interval at the level its comparison is made at: a 95%
    interval beside a judgement at 99.8% excluded national yet read "Similar" (an
    independent check)."""
    said = LEVEL_SAID[level]
    return [("area_name", "Area", "link"), ("value", "Value", "value"),
            (f"lower{level}", f"Lower {said}", "number"),
            (f"upper{level}", f"Upper {said}", "number"),
            ("numerator", "Count", "count"), ("denominator", "Denominator", "count"),
            ("compared_to_national", "Compared with national", "significance")]


DOWNLOAD_COLUMNS = ["indicator_id", "area_code", "area_name", "area_type", "period",
                    "numerator", "denominator", "value", "lower95", "upper95", "lower998",
                    "upper998", "compared_to_national", "value_state", "value_note"]


def indicator_or_404(meta: dict, indicator_id: str) -> dict:
    if indicator_id not in meta:
        raise HTTPException(404, f"There are no values of {indicator_id!r} in this "
                                 "workspace (no such indicator, or not computed yet). The "
                                 "indicator list shows the ones there are.")
    return meta[indicator_id]


def _default_level(cache: VersionedCache, con, who: Principal, levels: list[str]) -> str:
    if "practice" in levels:
        allowed = scopes.allowed_restricted_codes(con, who)
        many = len(allowed) if allowed is not None else len(
            queries.organisation_names(cache, con, "practice"))
        if many <= MAX_DEFAULT_AREAS or "locality" not in levels:
            return "practice"
    return next((t for t in ("locality", "provider") if t in levels), levels[0])


def choose(cache: VersionedCache, con, who: Principal, indicator_id: str, level: str | None,
           period: str | None) -> tuple[str, str, list[str], list[str]]:
    """Validated (level, period) with the choices, or a 404 that lists the valid ones."""
    known = queries.cached_facts(cache, con, indicator_id)
    levels = queries.area_types(con, indicator_id, who, known["types"])
    periods = known["periods"]
    if not levels or not periods:
        raise HTTPException(404, "This indicator has no values you can see.")
    if level is None:
        level = _default_level(cache, con, who, levels)
    if level in known["types"] and level not in levels:  # there, but not for this role
        raise Forbidden(f"Your role does not see values at level {level!r}; choose one of "
                        f"{', '.join(levels)}.")
    if level not in levels:
        raise HTTPException(404, f"Level {level!r} is not available; choose one of "
                                 f"{', '.join(levels)}.")
    period = period or periods[-1]
    if period not in periods:
        raise HTTPException(404, f"Period {period!r} is not available; choose one of "
                                 f"{', '.join(periods)}.")
    return level, period, levels, periods


@router.get("/indicators", include_in_schema=False)
def indicator_list(request: Request, who: Principal = Depends(require_user),
                   con: duckdb.DuckDBPyConnection = Depends(get_con),
                   meta: dict = Depends(get_meta)):
    latest = con.execute(
        """WITH l AS (SELECT indicator_id, max(period_end) pe FROM indicator_values
                      WHERE breakdown = 'all' GROUP BY 1)
           SELECT v.indicator_id, any_value(v.period), count(*) FILTER (WHERE v.area_type
                  = 'practice'), any_value(v.value) FILTER (WHERE v.area_type = 'national')
           FROM indicator_values v JOIN l ON v.indicator_id = l.indicator_id
                AND v.period_end = l.pe WHERE v.breakdown = 'all' GROUP BY 1""").fetchall()
    facts = {r[0]: {"period": r[1], "practices": r[2], "national": r[3]} for r in latest}
    groups: dict[str, list[dict]] = {}
    for ind_id, m in meta.items():
        groups.setdefault(m["domain"], []).append({"id": ind_id, **m, **facts.get(ind_id, {})})
    return render(request, "indicators.html", {"title": "Indicators", "groups": groups})


# What a funnel's colours compare with when its limits allow for overdispersion.
OD_COMPARED = "the limits allowing for overdispersion (95%)"


def _chart_rows(rows: list[dict], judged: dict[str, str] | None = None,
                level: str = "95") -> list[dict]:
    """``judged``: each area's colour against other lines than national's (those allowing
    for overdispersion); ``level``: the intervals' (that of the comparison shown)."""
    return [{"name": r["area_name"] or r["area_code"], "value": r["value"],
             "lower": r[f"lower{level}"], "upper": r[f"upper{level}"],
             "denominator": r["denominator"],
             # judged: an area not judged against those lines is not compared there
             "significance": judged.get(r["area_code"], "not_compared") if judged is not None
             else r["compared_to_national"] or "not_compared"}
            for r in rows if r["value_state"] == "published" and r["value"] is not None]


def _trend_rows(con, who: Principal, indicator_id: str, cache=None) -> list[dict]:
    frame = queries.values(con, who, indicator_id, area_types=["national", "icb", "locality"],
                           cache=cache)
    if frame[frame["area_type"] == "locality"]["area_code"].nunique() > MAX_TREND_SERIES:
        frame = frame[frame["area_type"] != "locality"]
    return [{"period": r["period"], "series": r["area_name"] or r["area_code"],
             "value": r["value"], "lower": r["lower95"], "upper": r["upper95"]}
            for r in queries.records(frame) if r["value_state"] == "published"]


@router.get("/indicators/{indicator_id}", include_in_schema=False)
def indicator_page(request: Request, indicator_id: str,
                   level: str | None = Query(None, max_length=40),
                   period: str | None = Query(None, max_length=40),
                   parent: str | None = Query(None, max_length=40),
                   od: str | None = Query(None, max_length=20),
                   who: Principal = Depends(require_user),
                   con: duckdb.DuckDBPyConnection = Depends(get_con),
                   meta: dict = Depends(get_meta)):
    m = indicator_or_404(meta, indicator_id)
    level, period, levels, periods = choose(request.app.state.cache, con, who, indicator_id,
                                            level, period)
    parents = _visible_parents(request.app.state.cache, con, who, indicator_id, level,
                               period)
    _check_parent(parent, parents)
    if od and od not in benchmarking.OVERDISPERSION_METHODS:
        raise HTTPException(404, "Funnel limits are chance-only, or allow for overdispersion "
                                 f"({' or '.join(benchmarking.OVERDISPERSION_METHODS)}).")

    def build() -> dict:
        cache = request.app.state.cache
        rows = queries.records(queries.values(con, who, indicator_id, area_type=level,
                                              period=period, parent=parent or None, cache=cache))
        for r in rows:  # a link only to a page the caller may open (a provider's, a lead's
            # to other localities, were 403s: an accessibility audit)
            opens = level == "practice" or scopes.can_see_locality_detail(who, r["area_code"])
            r["href"] = AREA_PAGES[level].format(code=r["area_code"]) \
                if level in AREA_PAGES and opens else None
        average = queries.national_value(con, indicator_id, period)
        judged_at = m.get("level", "95")
        points = _chart_rows(rows, level=judged_at)
        statistic = rows[0]["statistic"] if rows else None
        unit = m.get("unit") or ""
        y_title = axis_title(m["title"], unit)
        limits = queries.funnel_limits(rows, statistic, average,
                                       multiplier=m.get("multiplier", queries.PERCENT),
                                       years=_period_years(rows) if m.get("per_year") else 1.0)
        od_facts, funnel_points = None, points
        if od and statistic == "proportion":
            adjusted = benchmarking.overdispersed_limits(
                rows, od, higher_is_better=m.get("higher_is_better"),
                every=queries.records(queries.all_values(con, indicator_id, level, period,
                                                         cache)))
            if adjusted is None:
                raise HTTPException(404, "Overdispersion needs two or more published areas, "
                                         "not all at 0% or all at 100%, and a method of "
                                         "additive or multiplicative.")
            limits, od_facts = adjusted
            funnel_points = _chart_rows(rows, od_facts["judged"])
        opp = benchmarking.practice_opportunity(
            cache, con, rows, queries.all_values(con, indicator_id, "practice", period, cache),
            key=(indicator_id, period),
            higher_is_better=m.get("higher_is_better"), statistic=statistic) \
            if level == "practice" else None
        ctx = {
            "title": m["title"], "ind": m, "indicator_id": indicator_id, "level": level,
            "period": period, "levels": levels, "periods": periods, "rows": rows,
            "level_labels": queries.AREA_TYPE_LABELS, "average": average,
            "columns": table_columns(judged_at), "limits": bool(limits),
            "level_said": LEVEL_SAID[judged_at],
            "weighted_sum": any(r.get("method") in WEIGHTED_METHODS for r in rows),
            "provenance": cache.get(("provenance", indicator_id), con,
                                    lambda c: queries.provenance(c, indicator_id)),
            # Coloured by each area's comparison with national (the table's column), or
            # against the limits allowing for overdispersion when those are drawn.
            "funnel": funnel(funnel_points, limits,
                             average=od_facts["target"] if od_facts else average,
                             y_title=y_title, compared_with=OD_COMPARED if od_facts
                             else "national"),
            # The colours are each area's comparison with national, as the table's column.
            "bar": ordered_bar(points, average=average, y_title=y_title,
                               compared_with="national")
            if points and len(points) <= MAX_BAR_AREAS else None,
            "too_many_for_bar": len(points) > MAX_BAR_AREAS, "parents": parents,
            "parent": parent or "", "od": od or "", "od_facts": od_facts,
            "public_area_types": scopes.PUBLIC_AREA_TYPES,
            "od_methods": benchmarking.OVERDISPERSION_METHODS, "opportunity": opp,
            "opportunity_text": _opportunity_text(opp, m) if opp else None,
            "opportunity_note": None if opp or level != "practice" or m.get(
                "higher_is_better") is None or statistic != "proportion" else
            f"No opportunity estimate: it is made for up to "
            f"{benchmarking.MAX_OPPORTUNITY_PRACTICES:,} practices with values, each "
            "with a peer group.",
            "trend_rows": (trend := _trend_rows(con, who, indicator_id, cache)),
            "trend": charts.trend_chart(trend, y_title=y_title) if trend else None,
            "chart_rows": points,
            # the period shown's: another's link led to a page with nothing (a review)
            "breakdowns": inequalities.in_order(queries.cached_facts(
                cache, con, indicator_id)["breakdowns"].get(period, [])),
            "breakdown_words": {k: v.lower() for k, v in inequalities.BREAKDOWN_LABELS.items()},
            "suppressed": sum(r["value_state"] == "suppressed" for r in rows),
            "missing": sum(r["value_state"] == "missing" for r in rows),
        }
        return ctx

    return render_cached(request, "indicator.html",
                         (indicator_id, level, period, parent or "", od or ""), build, con)


# Longest axis title a chart shows beside its axis without crowding it.
AXIS_TITLE_CHARS = 60


def axis_title(title: str, unit: str) -> str:
    """The indicator's title, cut at a word rather than inside one so that its unit always
    fits (the axis once read '... registered pat (per 100,000 per year)')."""
    suffix = "" if not unit else (f", {unit}" if "(" in unit else f" ({unit})")
    room = AXIS_TITLE_CHARS - len(suffix)
    if len(title) > room:
        kept = title[:room - 1].rsplit(" ", 1)[0]
        if kept.count("(") > kept.count(")"):  # cut inside an aside: leave it all out
            kept = kept[:kept.rindex("(")]  # (it read "(of those with a... (%)")
        title = kept.rstrip(" ,;:(") + "…"
    return title + suffix


def _period_years(rows: list[dict]) -> float:
    """Years in the rows' period (one period per page), as the engine counts person-years."""
    first = rows[0]
    return ReportingPeriod(first["period"], pd.Timestamp(first["period_start"]).date(),
                           pd.Timestamp(first["period_end"]).date()).years


# A funnel plot compares areas with each other; with fewer it says nothing.
MIN_FUNNEL_AREAS = 2


def funnel(points: list[dict], limits: list[dict], *, average: float | None,
           y_title: str, compared_with: str = "national") -> dict | None:
    """The funnel plot's spec, or None when it would say nothing: too few areas, no
    average, or values without a denominator to place them by (a mean score, a count).
    ``compared_with``: what the points' colours compare with."""
    placed = [p for p in points if p.get("denominator")]
    if len(placed) < MIN_FUNNEL_AREAS or average is None:
        return None
    spec = charts.funnel_plot(points, limits, average=average, x_title="Denominator",
                              y_title=y_title, compared_with=compared_with)
    if not limits:  # an empty line layer has no extent (Vega warns and mis-scales)
        spec["layer"] = spec["layer"][1:]
    return spec


def ordered_bar(points: list[dict], *, average: float | None, y_title: str,
                compared_with: str = "average") -> dict:
    """``charts.bar_with_intervals`` with a sort Vega-Lite can apply across its layers: the
    shared bars and interval rules union their y domains, which only accept a sort by
    min/max/count, so the default "sum" left the bars in alphabetical order."""
    spec = charts.bar_with_intervals(points, average=average, y_title=y_title,
                                     compared_with=compared_with)
    for layer in spec.get("layer", []):
        sort = layer.get("encoding", {}).get("y", {}).get("sort")
        if isinstance(sort, dict) and "field" in sort:
            sort.setdefault("op", "max")
    return spec


def _opportunity_text(opp, m: dict) -> str:
    """The gain said as what it counts ("189 fewer events" named none: a walkthrough)."""
    more = "more" if m["higher_is_better"] else "fewer"
    return opp.sentence(f"{more} would be counted in “{m['title']}”")


def _visible_parents(cache: VersionedCache, con, who: Principal, indicator_id: str,
                     level: str, period: str) -> list[tuple[str, str]]:
    """The parents the caller sees areas in: a lead was offered every locality, and
    another's gave an empty page with no word why (a walkthrough)."""
    every = cache.get(("parents", indicator_id, level, period), con,
                      lambda c: _parents(c, indicator_id, level, period))
    seen = set(queries.values(con, who, indicator_id, area_type=level, period=period,
                              cache=cache)["parent_code"].dropna())
    return [(code, name) for code, name in every if code in seen]


def _check_parent(parent: str | None, parents: list[tuple[str, str]]) -> None:
    if parent and parent not in dict(parents):
        raise HTTPException(404, f"{parent!r} is not a parent area of the values you can "
                                 "see here.")


def _parents(con, indicator_id: str, level: str, period: str) -> list[tuple[str, str]]:
    """(code, name) of the parents of this level's areas, to narrow a long list."""
    if level not in scopes.SUB_LOCALITY_TYPES:
        return []
    return con.execute(
        """SELECT DISTINCT v.parent_code, coalesce(o.name, v.parent_code)
           FROM indicator_values v LEFT JOIN organisations o ON o.org_code = v.parent_code
           WHERE v.indicator_id = ? AND v.area_type = ? AND v.period = ?
             AND v.parent_code IS NOT NULL ORDER BY 2""",
        [indicator_id, level, period]).fetchall()


@router.get("/indicators/{indicator_id}/download.{fmt}", include_in_schema=False)
def download(request: Request, indicator_id: str, fmt: str,
             level: str | None = Query(None, max_length=40),
             period: str | None = Query(None, max_length=40),
             parent: str | None = Query(None, max_length=40),
             who: Principal = Depends(require_user),
             con: duckdb.DuckDBPyConnection = Depends(get_con),
             meta: dict = Depends(get_meta)):
    """The page's table as a file: the same level, period and "Within" (the page showed a
    locality's 13 practices and the file held all 90: a walkthrough)."""
    if fmt not in DOWNLOAD_FORMATS:
        raise HTTPException(404, f"Downloads come as {' or '.join(DOWNLOAD_FORMATS)}.")
    indicator_or_404(meta, indicator_id)
    cache = request.app.state.cache
    level, period, _, _ = choose(cache, con, who, indicator_id, level, period)
    _check_parent(parent, _visible_parents(cache, con, who, indicator_id, level, period))
    frame = queries.values(con, who, indicator_id, area_type=level, period=period,
                           parent=parent or None)
    record(con, actor=who.username, action="export", target=indicator_id,
           detail={"format": fmt, "level": level, "period": period, "parent": parent,
                   "rows": len(frame)})
    within = f"_{parent}" if parent else ""
    name = f"{indicator_id}_{level}{within}_{period.replace('/', '-')}.{fmt}"
    return table_response(frame[DOWNLOAD_COLUMNS], fmt, name)


def table_response(frame: pd.DataFrame, fmt: str, filename: str) -> Response:
    """CSV or Excel; value_state keeps suppressed, missing and zero apart in the file."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(neutralise_frame(frame).to_csv(index=False),
                        media_type="text/csv; charset=utf-8", headers=headers)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        write_excel_sheet(writer, frame, "values")
    return Response(buf.getvalue(), headers=headers, media_type="application/vnd."
                    "openxmlformats-officedocument.spreadsheetml.sheet")
