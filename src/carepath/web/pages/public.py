"""The public transparency view: published outcomes for everyone, no account needed.

Only aggregate levels (locality and above) are shown, and every figure passes through the
one disclosure-control policy (``carepath.disclosure``) configured in ``carepath.toml``:
small counts suppressed with the reason shown, other counts rounded, percentages from the
rounded counts. Suppressed, missing and zero stay distinct on the page and in the download.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import duckdb
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from carepath.disclosure import SUPPRESSED, DisclosurePolicy, Within, apply_disclosure, releases
from carepath.engine.containment import disclosed, national_exempt, workspace_containment
from carepath.engine.freshness import practice_groups
from carepath.engine.rejudge import trends_on_published
from carepath.indicators.definition import Definition
from carepath.indicators.links import quarters_of_another
from carepath.reports import export
from carepath.stats import LEVEL_SAID
from carepath.stats.trend import TREND_POINTS
from carepath.web import queries
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.pages.indicators import axis_title, ordered_bar, table_response
from carepath.web.render import NavItem, render, render_cached
from carepath.web.scopes import PUBLIC_AREA_TYPES, Principal
from carepath.web.security import current_principal

router = APIRouter()
NAV_ITEMS = (NavItem("Public outcomes", "/public", order=90),)
PUBLIC_COLUMNS = ["indicator_id", "area_code", "area_name", "area_type", "parent_code",
                  "period", "breakdown", "category", "numerator", "denominator", "value",
                  "lower95", "upper95", "lower998", "upper998", "statistic", "method",
                  "compared_to_national", "value_state", "value_note"]  # method: see disclosure
# Further columns of a public indicator's rows: the judgements made again on the published
# figures (the export's too) and what the download's Fingertips layout is made from.
PUBLISHED_ALSO = ["compared_to_parent", "quantile", "trend", "indicator_version",
                  "carepath_version", "period_start", "period_end"]


@dataclass(frozen=True)
class Publication:
    """The settings one request publishes under, read once: the policy, the workspace's
    own groups (their totals decide which further cells are hidden) and the key of both.
    Read again for the key, a file edited between the two reads cached figures of the old
    threshold under the new one's key (a code review)."""

    config: dict
    policy: DisclosurePolicy
    key: tuple


def publication(request: Request) -> Publication:
    """This request's ``Publication``. When the key changes, the app's cached figures are
    dropped: figures cached under settings switched back to would not honour what was
    published under the others meanwhile (a code review)."""
    found = getattr(request.state, "publication", None)
    if found is not None:
        return found
    config = request.app.state.ws.config()
    policy = DisclosurePolicy.from_config(config)
    found = Publication(config, policy,
                        (policy, json.dumps(config.get("groups"), sort_keys=True, default=str)))
    state = request.app.state
    with _SETTINGS:
        if getattr(state, "publication", found.key) != found.key:
            state.cache.clear()
        state.publication = found.key
    request.state.publication = found
    return found


def policy_of(request: Request) -> DisclosurePolicy:
    return publication(request).policy


def publication_key(request: Request) -> tuple:
    return publication(request).key


_SETTINGS = threading.Lock()


def published(request: Request, con: duckdb.DuckDBPyConnection, indicator_id: str,
              period: str | None = None) -> pd.DataFrame:
    """``public_values`` of one indicator through the app's cache, once per data version:
    of one period if given (no group spans two periods, so a period's choices are its own
    and the same as among all: a first view of an England indicator of five years took
    11 s, now 2 s), else of all. The containment too is of that period only: the first
    page after new figures on England took 7.3 s with the whole's, 2.5 s with its own."""
    settings = publication(request)
    config, policy, key = settings.config, settings.policy, settings.key
    cache = request.app.state.cache
    # Each containment built gets a token, in the key of the figures disclosed with it: the
    # two entries are checked against the data version apart, and figures of new data
    # disclosed with the old data's containment would otherwise stay (a code review).
    token, within = cache.get(
        ("containment", key, period), con,
        lambda c: (uuid.uuid4().hex, workspace_containment(c, practice_groups(config),
                                                            period)))
    definitions = getattr(request.app.state, "definitions", None)
    where = f"/public/indicators/{indicator_id}" + (
        f"?period={quote(period, safe='/')}" if period
        else " (all periods: a download or the API)")

    def said_before(other: str) -> pd.DataFrame:
        """What a linked indicator disclosed before this one says of the period, worked
        out once for every page after it (not shown, so not recorded): the last of the
        seven sharing the cancers counted took 13 s to a first view on England, each
        working out all before it. Kept while the data version stands, which the pages'
        own records leave alone: a page of a linked indicator recorded since can make
        ``other``'s own page hide more than this says (it knows that page's figures),
        never less, so what is worked out here assumes at most what is published."""
        def says(c: duckdb.DuckDBPyConnection) -> pd.DataFrame:
            said: list[pd.DataFrame] = []
            public_values(c, policy, other, period, config=config, within=within,
                          definitions=definitions, said=said, said_before=said_before)
            return said[0]

        return cache.get(("said before", other, period, key, token), con, says)

    def made(c: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return shown_and_recorded(c, where, [indicator_id], lambda said: public_values(
            c, policy, indicator_id, period, config=config, within=within,
            definitions=definitions, said=said, said_before=said_before),
            record=not request.app.state.preview)

    return cache.get(("published", indicator_id, period, key, token), con, made)


# Held from reading an indicator's record to adding to it, by one public output at a time:
# one lock per indicator (the record of one says nothing of another's figures), taken in
# order by an output of several (the public list), so none waits for another in a circle.
_LOCKS_GUARD = threading.Lock()
_RECORDING: dict[str, threading.Lock] = {}


@contextmanager
def _recording(indicators: Iterable[str]) -> Iterator[None]:
    with _LOCKS_GUARD:
        locks = [_RECORDING.setdefault(i, threading.Lock()) for i in sorted(set(indicators))]
    with ExitStack() as held:
        for lock in locks:
            held.enter_context(lock)
        yield


def shown_and_recorded(con: duckdb.DuckDBPyConnection, where: str, indicators: list[str],
                       make: Callable[[list[pd.DataFrame]], pd.DataFrame], *,
                       record: bool = True) -> pd.DataFrame:
    """The public figures ``make(said)`` works out of ``indicators`` (honouring the
    record), recorded as a release before they are shown: a page seen before a change of
    groups, hierarchy or policy must bind the figures after it as an export does. One at
    a time for an indicator, from reading its record to adding to it: a page worked out
    under old settings while one under new settings was recorded would honour neither's
    figures the other's, and the two read together would give back what each hid (a code
    review forced it). ``record`` false: a preview (``carepath serve --preview``), shown
    but not recorded."""
    with _recording(indicators):
        said: list[pd.DataFrame] = []
        rows = make(said)
        if record:
            _record(con, where, rows, said)
        return rows


def _record(con: duckdb.DuckDBPyConnection, where: str, rows: pd.DataFrame,
            said: list[pd.DataFrame]) -> None:
    """``rows`` shown at ``where``; ``said``: what the disclosure said of every cell, of
    which only the shown ones are kept (public levels, no breakdowns). Listed in
    ``carepath releases`` only when it says something new."""
    shown = [f[f["area_type"].isin(PUBLIC_AREA_TYPES) & (f["breakdown"] == "all")]
             for f in said]
    release = releases.Release.new(
        by=releases.PUBLIC_PAGES, output=where, indicators=rows["indicator_id"].nunique(),
        rows=len(rows), suppressed=int((rows["value_state"] == SUPPRESSED).sum()))
    con.execute("BEGIN TRANSACTION")
    try:
        releases.record(con, release, rows, shown, only_new=True)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def public_values(con: duckdb.DuckDBPyConnection, policy: DisclosurePolicy, indicator_id: str,
                  period: str | None = None, *, config: dict | None = None,
                  definitions: dict[str, Definition] | None = None,
                  within: Within | None = None,
                  said: list[pd.DataFrame] | None = None,
                  said_before: Callable[[str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Disclosure-controlled rows of one indicator at the public levels, for one period or
    all, hiding exactly the cells ``export --public`` hides: the policy runs on the same
    rows (every level and breakdown: the audit's further protection may hide a cell at one
    level for a count at another) with the same containment (a test holds the two
    outputs equal), and the public levels are taken from the result. ``within``: the
    workspace's containment, if already at hand (``disclosed`` builds it otherwise).
    ``said``: as ``disclosed``'s, for the record (``shown_and_recorded``);
    ``said_before``: as ``disclosed``'s."""
    where, params = ["indicator_id = ?"], [indicator_id]
    if period:  # no group spans two periods: one period's choices are its own
        where.append("period = ?")
        params.append(period)
    raw = con.execute(f"SELECT {', '.join(PUBLIC_COLUMNS + PUBLISHED_ALSO)} "
                      "FROM indicator_values "
                      f"WHERE {' AND '.join(where)}", params).df()
    # Judged again on these rows: a trend needs its periods, so one period's has none.
    out = disclosed(con, raw, policy, config or {}, definitions or {}, within, said=said,
                    said_before=said_before)
    out = out[out.area_type.isin(PUBLIC_AREA_TYPES) & (out.breakdown == "all")]
    out = out[[*PUBLIC_COLUMNS, *PUBLISHED_ALSO, "disclosure"]].copy()
    for bound in ("period_start", "period_end"):  # days, as the export writes them
        out[bound] = pd.to_datetime(out[bound]).dt.date
    order = {t: i for i, t in enumerate(PUBLIC_AREA_TYPES)}
    return out.sort_values(["area_type", "area_name"], key=lambda s: s.map(order)
                           if s.name == "area_type" else s.fillna(""))


def national_headlines(con: duckdb.DuckDBPyConnection, policy: DisclosurePolicy,
                       indicators: list[str], leave_out: Iterable[str] = (), *,
                       record: bool = True, rounded: Collection[str] = ()
                       ) -> dict[str, dict]:
    """Each indicator's latest national figure as the public list shows it
    (``national_figures``), recorded as the pages' figures are (unless not ``record``);
    ``indicators``: every indicator with values (each one's record is held meanwhile);
    ``leave_out``: those whose figures it does not show (out of date), so not recorded
    either; ``rounded``: as ``national_figures``'."""
    national = shown_and_recorded(con, "/public", indicators, lambda said: national_figures(
        con, policy, said, leave_out, rounded), record=record)
    return {r["indicator_id"]: {"period": r["period"], "value": r["value"],
                                "value_state": r["value_state"]}
            for r in queries.records(national)}


def national_figures(con: duckdb.DuckDBPyConnection, policy: DisclosurePolicy,
                     said: list[pd.DataFrame] | None = None,
                     leave_out: Iterable[str] = (), rounded: Collection[str] = ()
                     ) -> pd.DataFrame:
    """Each indicator's latest national figure, through the policy as every public figure
    (a county's 'national' 2 of 3 was shown), honouring earlier releases. National's
    headline is never a further cell hidden for another's sake (nothing holds it, and it
    is no category of anything), so the policy on these rows alone gives it as the export
    and the indicator pages do. ``said``: as ``disclosed``'s, for the record;
    ``rounded``: indicators whose national figures are rounded as any area's
    (``carepath.indicators.links.quarters_of_another``)."""
    columns = ", ".join(f"v.{c}" for c in PUBLIC_COLUMNS)
    latest = con.execute(
        f"""WITH l AS (SELECT indicator_id, max(period_end) pe FROM indicator_values
                       WHERE breakdown = 'all' AND area_type = 'national' GROUP BY 1)
            SELECT {columns} FROM indicator_values v
            JOIN l ON v.indicator_id = l.indicator_id AND v.period_end = l.pe
            WHERE v.area_type = 'national' AND v.breakdown = 'all'""").df()
    latest = latest[~latest["indicator_id"].isin(list(leave_out))]
    told: dict | None = {} if said is not None else None
    # The export's and the pages' rule (``containment.national_exempt``), indicator by
    # indicator as they apply it.
    quarterly = set(rounded)
    exempt = latest["indicator_id"].map(lambda i: national_exempt(policy, i, quarterly))
    parts = []
    for exact in (True, False):
        rows = latest[exempt == exact]
        part = apply_disclosure(
            rows, suppress_below=policy.suppress_below, round_to=policy.round_to,
            national_exempt=exact,
            earlier=releases.earlier(con, rows["indicator_id"], area_types=["national"]),
            said=told)
        part.index = rows.index
        parts.append(part)
    if said is not None:
        said.append(releases.said_frame(told))
    return pd.concat(parts).loc[latest.index].reset_index(drop=True)


def _indicator_or_404(meta: dict, indicator_id: str) -> dict:
    if indicator_id not in meta:
        raise HTTPException(404, f"There is no published indicator {indicator_id!r}.")
    return meta[indicator_id]


def period_or_404(request: Request, con: duckdb.DuckDBPyConnection, indicator_id: str,
                  period: str | None) -> None:
    """A period asked for that the indicator has no figures of is refused, naming those it
    has (the API answered an empty list where the page said there was no such period)."""
    periods = queries.periods(request.app.state.cache, con, indicator_id)
    if period is not None and period not in periods:
        raise HTTPException(404, f"Period {period!r} is not published; choose one of "
                                 f"{', '.join(periods)}.")


def refuse_out_of_date(m: dict) -> None:
    """Figures out of date are not handed out for publication (as `export --public`
    refuses them, and their page withholds them)."""
    if m.get("out_of_date"):
        raise HTTPException(409, "These figures are out of date (they are not what the "
                                 "latest data, definition and settings give) and cannot be "
                                 "downloaded until they are computed again.")


@router.get("/public", include_in_schema=False)
def public_home(request: Request, con: duckdb.DuckDBPyConnection = Depends(get_con),
                meta: dict = Depends(get_meta),
                _who: Principal = Depends(current_principal)):  # header: who is signed in
    policy = policy_of(request)
    # Cached per data version (which counts the releases) and publication: the query and
    # the record it reads were run on every request.
    stale = tuple(sorted(i for i, m in meta.items() if m.get("out_of_date")))
    facts = request.app.state.cache.get(("public headlines", publication_key(request), stale),
                                        con, lambda c: national_headlines(
                                            c, policy, list(meta), stale,
                                            record=not request.app.state.preview,
                                            rounded=quarters_of_another(
                                                request.app.state.definitions)))
    groups: dict[str, list[dict]] = {}
    for ind_id, m in meta.items():
        groups.setdefault(m["domain"], []).append({"id": ind_id, **m,
                                                   "latest": facts.get(ind_id)})
    return render(request, "public.html", {"title": "Published outcomes", "groups": groups,
                                           "policy": policy})


SERIES = ["area_type", "area_code", "breakdown", "category"]


def published_with_trends(request: Request, con: duckdb.DuckDBPyConnection,
                          indicator_id: str, period: str | None) -> pd.DataFrame:
    """``published`` rows with their recent trends. One period's publication judges no
    trend (it needs the periods before: the API and downloads of a period had none where
    ``export --public`` has them), so its trends are judged on the publications of its
    last periods, each as its own page publishes it and recorded as its page is: a trend
    tells of the figures it is judged on, so later outputs must publish them alike (worked
    out unrecorded, a period's own page shown later could hide a cell the trend had
    counted as published: a code review)."""
    frame = published(request, con, indicator_id, period)
    defn = (getattr(request.app.state, "definitions", None) or {}).get(indicator_id)
    periods = queries.periods(request.app.state.cache, con, indicator_id)
    if period is None or defn is None or frame.empty:
        return frame
    window = periods[max(periods.index(period) - TREND_POINTS + 1, 0):
                     periods.index(period) + 1]
    if len(window) < TREND_POINTS:
        return frame
    rows = pd.concat([published(request, con, indicator_id, p) for p in window[:-1]]
                     + [frame], ignore_index=True)
    marked = con.execute(
        f"SELECT {', '.join(SERIES)}, true AS marked FROM indicator_values WHERE "
        "indicator_id = ? AND period = ? AND trend IS NOT NULL", [indicator_id, period]).df()
    flags = rows[SERIES].merge(marked, on=SERIES, how="left")["marked"].fillna(False)
    flags &= (rows["period"] == period).to_numpy()
    trends = trends_on_published(defn, rows, {p: i for i, p in enumerate(periods)}, flags)
    out = frame.copy()
    out["trend"] = trends.iloc[len(rows) - len(frame):].to_numpy()
    return out


@router.get("/public/indicators/{indicator_id}", include_in_schema=False)
def public_indicator(request: Request, indicator_id: str,
                     period: str | None = Query(None, max_length=40),
                     con: duckdb.DuckDBPyConnection = Depends(get_con),
                     meta: dict = Depends(get_meta),
                     _who: Principal = Depends(current_principal)):
    m = _indicator_or_404(meta, indicator_id)
    periods = queries.periods(request.app.state.cache, con, indicator_id)
    period = period or (periods[-1] if periods else None)
    if period not in periods:
        raise HTTPException(404, f"Period {period!r} is not published; choose one of "
                                 f"{', '.join(periods)}.")
    policy = policy_of(request)

    def build() -> dict:
        if m.get("out_of_date"):
            # Not shown, as the export and the API refuse them: a table on a public page
            # is a download by another name, and the further cells hidden in figures of an
            # older hierarchy or groups are chosen in groups they were not summed in.
            return {"title": m["title"], "ind": m, "indicator_id": indicator_id,
                    "rows": [], "period": period, "periods": periods, "policy": policy,
                    "chart_rows": [], "bar": None, "level_said": LEVEL_SAID["95"],
                    "not_drawn": 0, "localities": 0}
        rows = queries.records(published(request, con, indicator_id, period))
        local = [r for r in rows if r["area_type"] == "locality"]
        national = next((r["value"] for r in rows if r["area_type"] == "national"
                         and r["value_state"] == "published"), None)
        judged_at = m.get("level", "95")  # the interval its comparison is made at
        for r in rows:
            r["lower"], r["upper"] = r.get(f"lower{judged_at}"), r.get(f"upper{judged_at}")
        points = [{"name": r["area_name"] or r["area_code"], "value": r["value"],
                   "lower": r["lower"], "upper": r["upper"],
                   # Judged on the published figures (engine.rejudge), so the colour
                   # agrees with the interval drawn beside it.
                   "significance": r.get("compared_to_national") or "not_compared"}
                  for r in local if r["value_state"] == "published" and r["value"] is not None]
        unit = m.get("unit") or ""
        return {
            "title": m["title"], "ind": m, "indicator_id": indicator_id, "rows": rows,
            "period": period, "periods": periods, "policy": policy, "chart_rows": points,
            # Localities whose figure is hidden are not drawn: said under the chart (11
            # bars for 13 localities, with no word why: a walkthrough).
            "not_drawn": len(local) - len(points), "localities": len(local),
            "level_said": LEVEL_SAID[judged_at],
            "bar": ordered_bar(points, average=national, compared_with="national",
                               y_title=axis_title(m["title"], unit))
            if points else None}

    # The publication in the key: a changed policy or group must not serve old pages.
    return render_cached(request, "public_indicator.html",
                         (indicator_id, period, publication_key(request)), build, con)


@router.get("/public/indicators/{indicator_id}/download.{fmt}", include_in_schema=False)
def public_download(request: Request, indicator_id: str, fmt: str,
                    period: str | None = Query(None, max_length=40),
                    con: duckdb.DuckDBPyConnection = Depends(get_con),
                    meta: dict = Depends(get_meta)):
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404, "Downloads come as csv or xlsx.")
    refuse_out_of_date(_indicator_or_404(meta, indicator_id))
    period_or_404(request, con, indicator_id, period)
    frame = published_with_trends(request, con, indicator_id, period)
    # The layout of `export --public` (Fingertips'), so one tool reads both.
    table = export.prepare(frame, getattr(request.app.state, "definitions", None) or {},
                           public=True, parent_names=_parent_names(con, indicator_id, frame))
    return table_response(export.for_people(table, fmt), fmt, f"{indicator_id}_public.{fmt}")


def _parent_names(con: duckdb.DuckDBPyConnection, indicator_id: str, frame: pd.DataFrame
                  ) -> dict[str, str]:
    """Names of parents the public levels leave out (a region above the alliance), as the
    export, which has their rows, names them."""
    codes = sorted(set(frame["parent_code"].dropna()) - set(frame["area_code"]))
    if not codes:
        return {}
    return dict(con.execute(
        "SELECT area_code, any_value(area_name) FROM indicator_values WHERE indicator_id = ? "
        f"AND area_code IN ({', '.join('?' * len(codes))}) GROUP BY 1",
        [indicator_id, *codes]).fetchall())
