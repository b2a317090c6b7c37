"""Indicator metadata for pages (title, polarity, unit, definition): the ONE place the web
app asks. Definitions come from ``carepath.indicators.library`` (built-in plus the
workspace's own); an id with values but no definition (an older or foreign workspace) falls
back to the plain metadata of ``carepath.reports.indicator_meta``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from fastapi import Depends, Request

from carepath.engine.freshness import out_of_date, settings_fingerprint
from carepath.indicators.definition import Population
from carepath.reports.indicator_meta import compared_by
from carepath.reports.indicator_meta import indicator_meta as _fallback_meta
from carepath.web.db import get_con

DOMAIN_LABELS = {
    "early_diagnosis": "Early diagnosis", "screening": "Screening",
    "waiting_times": "Waiting times", "incidence_prevalence": "Incidence and prevalence",
    "personalised_care": "Personalised care", "end_of_life": "End of life care",
    "survival": "Survival", "experience": "Experience",
}


def _definitions(workspace_dir: Path | None) -> tuple[dict, dict]:
    """(definitions, problems by id): a workspace definition with problems leaves its
    indicator on the plain metadata, marked out of date, rather than failing every page."""
    try:
        from carepath.indicators.library import read_library
    except ImportError:  # the library is optional for a read-only viewer
        return {}, {}
    return read_library(workspace_dir)


def _from_definition(defn) -> dict:
    from carepath.indicators.library import shown_title

    gov = defn.governance
    return {
        "title": shown_title(defn), "higher_is_better": defn.higher_is_better, "unit": defn.unit,
        "definition": defn.why, "source": gov.source, "statistic": defn.statistic,
        "domain": DOMAIN_LABELS.get(defn.domain, defn.domain), "version": defn.version,
        "authored_by": gov.authored_by, "checked_by": gov.checked_by,
        "next_review": str(gov.next_review), "references": list(defn.references),
        "polarity": polarity_text(defn.higher_is_better),
        "multiplier": float(defn.scale),
        # a rate per head of population per year (person-years), not per counted event
        "per_year": isinstance(defn.denominator, Population),
        "attribution": defn.attribution,
        # how areas are judged against national, and the interval level shown with that
        **dict(zip(("compared_by", "level"), compared_by(defn), strict=True)),
    }


def indicator_meta(con: duckdb.DuckDBPyConnection,
                   workspace_dir: Path | None = None, *, definitions: dict | None = None
                   ) -> dict[str, dict]:
    """id -> {"title", "higher_is_better" (True/False/None), "unit", "definition", ...} for
    every indicator with values in the workspace, ordered by domain and title."""
    base = _fallback_meta(con)
    # (definitions, problems): the pair itself was taken for the definitions, so every
    # indicator read as 'Other', described from its stored values alone (no caller gave
    # no definitions, so no page showed it).
    defs = definitions if definitions is not None else _definitions(workspace_dir)[0]
    out = {}
    for ind_id, fallback in base.items():
        if ind_id in defs:
            out[ind_id] = _from_definition(defs[ind_id])
        else:
            out[ind_id] = dict(fallback, domain="Other", polarity=polarity_text(
                fallback.get("higher_is_better")))
    return dict(sorted(out.items(), key=lambda kv: (kv[1]["domain"], kv[1]["title"])))


def polarity_text(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return "No judgement (higher is neither better nor worse)"
    return "Higher is better" if higher_is_better else "Lower is better"


def get_meta(request: Request, con: duckdb.DuckDBPyConnection = Depends(get_con)
             ) -> dict[str, dict]:
    """Dependency: the metadata, rebuilt when the indicator values change."""
    state = request.app.state
    if getattr(state, "definitions", None) is None:
        state.definitions, state.unreadable = _definitions(
            state.ws.definitions_dir("indicators"))
    config = state.ws.config()
    # Keyed by the settings too: a changed [groups] makes every value out of date without
    # changing the data (a code review found pages and downloads still served them).
    return state.cache.get(("meta", settings_fingerprint(config)), con,
                           lambda c: with_freshness(
                               c, indicator_meta(c, definitions=state.definitions),
                               state.definitions, config, state.unreadable))


def with_freshness(con: duckdb.DuckDBPyConnection, meta: dict[str, dict], definitions: dict,
                   config: dict, unreadable=()) -> dict[str, dict]:
    """Each entry's ``out_of_date``: why its values are not what a compute would give now
    (data loaded since, a compute that failed ...), or None; pages say so beside them."""
    stale = out_of_date(con, definitions, config, unreadable)
    return {k: dict(v, out_of_date=stale.get(k)) for k, v in meta.items()}


def indicator_names(request: Request, meta: dict[str, dict]) -> dict[str, dict]:
    """id -> {"title", "computed"} for every indicator of the workspace's library, those with
    values first taking their page's title: what a page naming indicators links to (only
    the computed ones have a page)."""
    library = getattr(request.app.state, "definitions", None) or {}
    from carepath.indicators.library import shown_title

    out = {i: {"title": shown_title(d), "computed": False} for i, d in library.items()}
    out.update({i: {"title": m["title"], "computed": True} for i, m in meta.items()})
    return out
