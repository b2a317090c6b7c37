"""Which areas wholly contain which, at each period, by the hierarchy the engine rolled up
with: every published total that an area's figure is part of.

Secondary suppression needs it. The areas of one level inside any area that contains
them add up to (at most) its published total, so a lone hidden figure among them comes
back by subtraction, whichever level the area's own parent is: a practice under its
locality is also inside its PCN, an ICB under its cancer alliance also inside its region.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

import duckdb
import pandas as pd

from carepath.disclosure import PRACTICE, DisclosurePolicy, Within, apply_disclosure, releases
from carepath.disclosure.audit import state_says
from carepath.engine import rollup
from carepath.engine.context import read_hierarchy
from carepath.engine.freshness import practice_groups
from carepath.engine.rejudge import judged_on_published
from carepath.indicators.definition import Definition
from carepath.indicators.links import linked_before, quarters_of_another, shared_counts
from carepath.model.schema import INDICATOR_VALUES

# (period, area type, area code) -> the (area type, area code) of every other area
# containing all of its practices: the policy's ``Within``, built here.
Containment = dict[tuple[str, str, str], list[tuple[str, str]]]


def workspace_containment(con: duckdb.DuckDBPyConnection,
                          groups: pd.DataFrame | None = None,
                          period: str | None = None) -> Containment:
    """The containment of the areas of ``indicator_values``: every practice with a value of
    any indicator in a period, placed by the hierarchy valid at that period's end (as the
    engine placed them), with the workspace's own ``groups`` (unit, area_code). One for the
    whole workspace, so every public output (the whole export, one indicator's, a page)
    works with the same: two built from different practices could hide different cells
    (a code review found the export's and the pages' differed). A practice with no value
    of some indicator still joins that indicator's groups as a practice in none of an
    area's areas of a level (``carepath.disclosure.secondary``). ``period``: of that period
    only, the same as the whole's for it (no area spans two periods), for a page that
    shows one: a fifth of England's 4.5 s."""
    where, params = ["area_type = ?"], [PRACTICE]
    if period is not None:
        where.append("period = ?")
        params.append(period)
    units = con.execute(
        "SELECT DISTINCT period, period_start, period_end, area_code AS unit FROM "
        f"indicator_values WHERE {' AND '.join(where)}", params).df()
    for bound in ("period_start", "period_end"):
        units[bound] = pd.to_datetime(units[bound])
    if units.empty:
        return {}
    amap = rollup.area_map(units, read_hierarchy(con), PRACTICE, groups)
    return containment(amap)


def containment(amap: pd.DataFrame) -> Containment:
    """From an area map (period, unit, area_type, area_code): for each area, the others
    holding every one of its units."""
    # The area map has one row per (period, unit, area): plain counts are counts of units.
    with duckdb.connect() as mem:
        mem.execute("SET enable_progress_bar = false")  # an export's output is its own
        pairs = rollup.sql(mem, """
            WITH sizes AS (SELECT period, area_type, area_code, count(*) AS n
                           FROM amap GROUP BY ALL),
                 shared AS (SELECT a.period, a.area_type, a.area_code,
                                   b.area_type AS outer_type, b.area_code AS outer_code,
                                   count(*) AS k
                            FROM amap a JOIN amap b ON a.period = b.period AND a.unit = b.unit
                            WHERE a.area_type <> b.area_type OR a.area_code <> b.area_code
                            GROUP BY ALL)
            SELECT period, area_type, area_code, outer_type, outer_code
            FROM shared JOIN sizes USING (period, area_type, area_code) WHERE k = n
            ORDER BY ALL""", arrow=True, amap=amap)
    out: Containment = defaultdict(list)
    # Column by column through Arrow: pandas' Arrow-backed text row by row took 4 s.
    period, area_type, area_code, outer_type, outer_code = (
        pairs.column(i).to_pylist() for i in range(pairs.num_columns))
    outers = zip(outer_type, outer_code, strict=True)
    for *key, outer in zip(period, area_type, area_code, outers, strict=True):
        out[tuple(key)].append(outer)
    return dict(out)


def disclosed(con: duckdb.DuckDBPyConnection, values: pd.DataFrame, policy: DisclosurePolicy,
              config: dict, definitions: dict[str, Definition],
              within: Within | None = None, earlier: releases.Earlier | None = None,
              said: list[pd.DataFrame] | None = None,
              said_before: Callable[[str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """``values`` through the disclosure policy with every group whose total they add up
    to (the areas containing each area, ``workspace_containment`` unless given; the
    workspace's own groups of practices among them), then judged again on the published
    figures (``carepath.engine.rejudge``). Every public output goes through here, so that
    each hides the same cells: two publications hiding different cells give back together
    what each hid. For the same reason what earlier releases (exports, pages) said
    (``earlier``, read from the workspace's record unless given) is honoured: the cells they hid hidden again,
    what they published known (``carepath.disclosure.releases``), and what they said of a
    count an indicator shares with another (``carepath.indicators.links``) known of both.
    Indicators are disclosed in the order of their ids, each knowing what the linked ones
    before it say here, as it would had they been released first. ``said``, if given, gets
    a frame of what these figures say of each published cell, for the record.
    ``said_before``: what a linked indicator before them that ``values`` leave out says
    (its ``said`` frame here, all levels), if already worked out (a page's cache);
    otherwise it is disclosed here first."""
    if within is None:
        within = workspace_containment(con, practice_groups(config))
    links, quarterly = shared_counts(definitions), quarters_of_another(definitions)
    told_here: dict[str, pd.DataFrame] = {}  # what the linked indicators before said
    facts: dict[str, pd.DataFrame] = {}  # what linked DSRs' states say, before or after

    def disclose(rows: pd.DataFrame, *, published: bool = True) -> pd.DataFrame:
        # The record one indicator at a time too: England's 2.5 million cells held as
        # Python tuples at once cost a gigabyte and a minute of garbage collection.
        ind_id = str(rows["indicator_id"].iloc[0]) if len(rows) else ""
        linked = ind_id in links  # the ones after it must know what it says
        told: dict | None = {} if (said is not None and published) or linked else None
        out = apply_disclosure(rows, suppress_below=policy.suppress_below,
                               round_to=policy.round_to,
                               national_exempt=national_exempt(policy, ind_id, quarterly),
                               within=within,
                               earlier=_earlier_of(con, rows, links, told_here, facts)
                               if earlier is None else earlier, said=told)
        frame = releases.said_frame(told) if told is not None else None
        if said is not None and published:
            said.append(frame)
        if linked:
            told_here[ind_id] = frame
        out.index = rows.index
        return judged_on_published(out, definitions) if published else out

    if values.empty:
        return disclose(values)
    # One indicator at a time (no group spans two): the policy works on Python rows, and
    # England's 2.5 million at once took 13 GB. In order of their ids, with the linked
    # ones before them that these rows leave out (disclosed, not published): a page or
    # an export of one indicator hides what it would among all.
    mine = {str(i): rows for i, rows in values.groupby("indicator_id", sort=False)}
    if said_before is not None:  # those each knows directly (theirs are in what they say)
        direct = {link.other for i in mine for link in links.get(i, ()) if link.other < i}
        for ind_id in sorted(direct - set(mine)):
            told_here[ind_id] = said_before(ind_id)
    before = _linked_before(con, values, links, set(told_here))
    theirs = {str(i): rows for i, rows in before.groupby("indicator_id", sort=False)}
    facts.update(_states_of_linked(con, values, links, definitions, {*mine, *theirs}))
    parts = []
    for ind_id in sorted({*mine, *theirs}):
        if ind_id in mine:
            parts.append(disclose(mine[ind_id]))
        else:
            disclose(theirs[ind_id], published=False)
    return pd.concat(parts).loc[values.index]


def national_exempt(policy: DisclosurePolicy, indicator_id: str, quarterly: set[str]) -> bool:
    """Whether ``indicator_id``'s national headline figures are published exactly: as the
    policy says, except for the quarters of a count another indicator publishes by year
    (``carepath.indicators.links.quarters_of_another``)."""
    return policy.national_exempt and indicator_id not in quarterly


def _linked_before(con: duckdb.DuckDBPyConnection, values: pd.DataFrame,
                   links: dict[str, tuple[releases.Link, ...]], known: set[str]
                   ) -> pd.DataFrame:
    """The rows (of ``values``' periods) of the indicators that ``values``' ones know
    in an output of all (``carepath.indicators.links.linked_before``) and that they
    leave out, those whose output is ``known`` aside."""
    present = {str(i) for i in values["indicator_id"].unique()}
    wanted = sorted(linked_before(links, present, known) - present - known)
    if not wanted:
        return values.iloc[:0]
    stored = {c.name for c in INDICATOR_VALUES.columns}
    columns = ", ".join(f'"{c}"' for c in values.columns if c in stored)
    return con.execute(
        f"SELECT {columns} FROM indicator_values WHERE indicator_id IN (SELECT unnest(?)) "
        "AND period IN (SELECT unnest(?))",
        [wanted, sorted({str(p) for p in values["period"].unique()})]).df()


def _states_of_linked(con: duckdb.DuckDBPyConnection, values: pd.DataFrame,
                      links: dict[str, tuple[releases.Link, ...]],
                      definitions: dict[str, Definition], disclosing: set[str]
                      ) -> dict[str, pd.DataFrame]:
    """What the states of the DSRs linked to the indicators ``disclosing`` say of the
    count (``audit.state_says``: a DSR's "fewer than 10 events" at most 9, any other
    state at least 10), by DSR, as ``releases.said_frame``s over ``values``' periods.
    They are said whenever the DSR is released, so every linked indicator knows them,
    those disclosed before it too: crude incidence, before it, once hid a practice of 6
    beside one whose DSR note said at most 9, and its PCN's 13 proved the 6 at least 4."""
    dsrs = sorted({link.other for i in disclosing for link in links.get(i, ())
                   if (defn := definitions.get(link.other)) is not None
                   and defn.statistic == "dsr"})
    if not dsrs:
        return {}
    columns = [*releases.CELL, "value_state", "value_note", "numerator"]
    rows = con.execute(
        f"SELECT {', '.join(columns)} FROM indicator_values "
        "WHERE indicator_id IN (SELECT unnest(?)) AND period IN (SELECT unnest(?))",
        [dsrs, sorted({str(p) for p in values["period"].unique()})]).df()
    return {str(ind_id): _said_by_states(frame) for ind_id, frame in
            rows.groupby("indicator_id", sort=False)}


def _said_by_states(rows: pd.DataFrame) -> pd.DataFrame:
    """A DSR's rows (as ``indicator_values`` holds them) as the frame of what their
    states say of each cell's count (the cells they say nothing of left out)."""
    bounds = [state_says("dsr", state, note, None if pd.isna(exact) else exact)
              for state, note, exact in zip(rows["value_state"], rows["value_note"],
                                            rows["numerator"], strict=True)]
    said = {releases.release_key(dict(zip(releases.CELL, key, strict=True))):
            (low, None if math.isinf(high) else high, None, None)
            for key, (low, high) in zip(rows[list(releases.CELL)].itertuples(
                index=False, name=None), bounds, strict=True) if low > 0 or math.isfinite(high)}
    return releases.said_frame(said)


def _earlier_of(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                links: dict[str, tuple[releases.Link, ...]],
                told_here: dict[str, pd.DataFrame],
                facts: dict[str, pd.DataFrame]) -> releases.Earlier:
    """What earlier releases said of these rows' indicator and periods, and of the counts
    it shares, with what the linked indicators disclosed before it here said and what
    linked DSRs' states say."""
    if "indicator_id" not in rows or rows.empty:
        return releases.Earlier()
    return releases.earlier(
        con, rows["indicator_id"].unique(),
        periods=rows["period"].unique() if "period" in rows else None, links=links,
        pending=told_here, facts=facts,
        breakdowns={str(b) for b in rows["breakdown"]} if "breakdown" in rows else None)
