"""What public outputs have said: the record that keeps a later release from giving back,
read beside an earlier one, what either hid.

The policy's choices are not fixed by the figures alone. A further cell hidden beside a
small one depends on the groups the figures add up in, so a workspace that gains an own
group of practices, a new hierarchy or a changed ``[disclosure]`` table can hide other
cells of the same figures in its next release. Read side by side, two releases give back
what each hid: the first's published partner less the second's published total. So each
public export records every cell it suppressed and, for every cell it published, the
range of counts its published figures allow (``released_cells``), and every later public
output, the export and the public pages alike:

* hides again every cell suppressed before, whatever its count (``Earlier.withheld``);
* counts what earlier releases published among what is known (``Earlier.known``): the
  audit (``carepath.disclosure.audit``) bounds each cell by those ranges too, where they
  still hold its count, and never hides a cell published before to protect another
  (that protects nothing), so it hides a new total instead.

What a release said of a count another indicator shares (``Link``) is known of that
indicator's cells too, in the column holding the count there: each indicator's audit
protects the shared count against what every linked one published.

The public pages are releases too: each records what it shows the first time it shows it
(by ``PUBLIC_PAGES``), so a page seen before a change of groups binds the figures after
it as an export would.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from carepath.disclosure.rules import PUBLISHED, SUPPRESSED, SUPPRESSED_AT_SOURCE, cell_key

RELEASES, CELLS = "releases", "released_cells"
CELL = ("indicator_id", "period", "area_type", "area_code", "breakdown", "category")
BOUNDS = ("numerator_low", "numerator_high", "denominator_low", "denominator_high")
# Who made the releases the public pages record of what they show (``released_by``).
PUBLIC_PAGES = "public pages"
# (numerator low, high, denominator low, high); a high of None is no limit
Said = tuple[float | None, float | None, float | None, float | None]


def release_key(row: Mapping) -> tuple:
    """A row's cell as the record keys it: its indicator, then ``cell_key``'s columns, each
    as text (a missing one as 'None', never NULL, so keys always compare)."""
    return row.get("_key") or (str(row.get("indicator_id")), *cell_key(row))


@dataclass(frozen=True)
class Link:
    """An indicator's ``column`` holds the same count as ``other``'s ``other_column``
    (``carepath.indicators.links`` finds them)."""

    column: str
    other: str
    other_column: str


@dataclass(frozen=True)
class Earlier:
    """What earlier releases said of some indicators' cells."""

    withheld: frozenset[tuple] = frozenset()  # release keys of the cells suppressed
    known: Mapping[tuple, tuple[Said, ...]] = field(default_factory=dict)  # published

    def __bool__(self) -> bool:
        return bool(self.withheld or self.known)


@dataclass(frozen=True)
class Release:
    release_id: str
    released_at: datetime
    released_by: str
    output: str  # the file's name, or the public page's address
    indicators: int
    rows: int
    suppressed: int

    @classmethod
    def new(cls, *, by: str, output: str, indicators: int, rows: int, suppressed: int
            ) -> Release:
        at = datetime.now()  # to the microsecond: releases of one second listed in order
        # sortable by time, unique however close two releases come
        return cls(f"{at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", at, by, output,
                   indicators, rows, suppressed)


def earlier(con: duckdb.DuckDBPyConnection, indicators: Iterable[str], *,
            periods: Iterable[str] | None = None, area_types: Iterable[str] | None = None,
            links: Mapping[str, Sequence[Link]] | None = None,
            pending: Mapping[str, pd.DataFrame] | None = None,
            facts: Mapping[str, pd.DataFrame] | None = None,
            breakdowns: Iterable[str] | None = None) -> Earlier:
    """What earlier releases (public exports and pages) said of ``indicators``' cells (of ``periods`` and
    ``area_types`` only, if given: a page of one period needs no more). ``links``
    (``carepath.indicators.links.shared_counts``): what they said of a count another
    indicator shares is known of it here too, mapped to the column holding it here.
    ``pending``: what outputs not yet recorded said (``said_frame``s by indicator: the
    linked indicators disclosed before this one in the same export). ``facts``: what
    linked indicators' figures say of the count whenever they are released, in the same
    frames (a DSR's states: ``carepath.disclosure.audit.state_says``). ``breakdowns``: the
    only ones ``indicators`` have, if given (incidence's by sex and age say nothing of
    emergency presentation's cells by tumour group)."""
    ids = sorted({str(i) for i in indicators})
    if not ids:
        return Earlier()
    links = {i: tuple(links.get(i, ())) for i in ids} if links else {}
    read = sorted({*ids, *(link.other for found in links.values() for link in found)})
    where, params = ["indicator_id IN (SELECT unnest(?))"], [read]
    for column, wanted in (("period", periods), ("area_type", area_types)):
        if wanted is not None:
            where.append(f"{column} IN (SELECT unnest(?))")
            params.append(sorted({str(w) for w in wanted}))
    found = con.execute(
        f"SELECT {', '.join(CELL)}, value_state, {', '.join(BOUNDS)} FROM {CELLS} "
        f"WHERE {' AND '.join(where)}", params).df()
    own = found[found["indicator_id"].isin(ids)]
    withheld = {tuple(k) for k in own.loc[own["value_state"] == SUPPRESSED, list(CELL)]
                .itertuples(index=False)}
    said = [own]  # a cell hidden since: what was said of it still holds
    recorded = {other: rows for other, rows in found.groupby("indicator_id")}
    for ind_id, found_links in links.items():
        for link in found_links:
            for frame in (recorded.get(link.other), (pending or {}).get(link.other),
                          (facts or {}).get(link.other)):
                if frame is not None and breakdowns is not None:
                    frame = frame[frame["breakdown"].isin(list(breakdowns))]
                if frame is not None and not frame.empty:
                    said.append(_mapped(frame, ind_id, link))
    # The same count is said alike by every indicator publishing it: once is enough (a
    # page of the last of seven linked indicators mapped a million ranges, 6 s).
    ranges = pd.concat(said, ignore_index=True)[[*CELL, *BOUNDS]].drop_duplicates()
    ranges = ranges[ranges[list(BOUNDS)].notna().any(axis=1)]
    bounds = ranges[list(BOUNDS)].astype(object).where(ranges[list(BOUNDS)].notna(), None)
    known: dict[tuple, list[Said]] = defaultdict(list)
    for key, told in zip(ranges[list(CELL)].itertuples(index=False, name=None),
                         bounds.itertuples(index=False, name=None), strict=True):
        known[key].append(told)
    return Earlier(frozenset(withheld), {k: tuple(v) for k, v in known.items()})


def _mapped(frame: pd.DataFrame, ind_id: str, link: Link) -> pd.DataFrame:
    """What ``frame`` (of ``link.other``'s cells) says of its shared count, as said of
    ``ind_id``'s cells in the column holding it here (the other column left unsaid)."""
    there = BOUNDS[:2] if link.other_column == "numerator" else BOUNDS[2:]
    here = BOUNDS[:2] if link.column == "numerator" else BOUNDS[2:]
    out = frame[list(CELL)].assign(indicator_id=ind_id)
    for column in BOUNDS:
        out[column] = math.nan
    for source, target in zip(there, here, strict=True):
        out[target] = frame[source].to_numpy(dtype=float)
    return out


def size(con: duckdb.DuckDBPyConnection) -> int:
    """Releases recorded: a release checks that none was added while it was made."""
    return con.execute(f"SELECT count(*) FROM {RELEASES}").fetchall()[0][0]


def said_frame(said: Mapping[tuple, Said]) -> pd.DataFrame:
    """What ``said`` (release key -> ranges, from the policy) says, as the record's rows."""
    keys, bounds = list(said), list(said.values())
    frame = pd.DataFrame(keys or None, columns=CELL, dtype=object)
    frame["value_state"] = PUBLISHED
    for column, values in zip(BOUNDS, zip(*bounds, strict=True) if bounds else
                              ([],) * len(BOUNDS), strict=True):
        frame[column] = pd.Series(values, dtype=float).replace(math.inf, math.nan)
    return frame


def record(con: duckdb.DuckDBPyConnection, release: Release, published: pd.DataFrame,
           said: Iterable[pd.DataFrame], *, only_new: bool = False) -> int:
    """Record ``release``: the cells ``published`` suppressed, and what it said of each
    published one (``said``: ``said_frame``s); returns how many suppressed cells no earlier
    release had hidden (not those the publisher of the data suppressed: Carepath hid
    nothing there). In the caller's transaction, with writing the release out.
    ``only_new``: list the release only if it said something no earlier one had (a public
    page shown again after a restart says nothing new; an export is always listed)."""
    hidden = published.loc[published["value_state"] == SUPPRESSED, list(CELL)]
    cells = pd.DataFrame({c: hidden[c].map(str) for c in CELL}, dtype=object)
    cells["value_state"] = SUPPRESSED  # a suppressed cell's ranges are empty
    new = pd.concat([cells, *said], ignore_index=True).reindex(
        columns=[*CELL, "value_state", *BOUNDS])  # the ranges empty when none was said
    same = " AND ".join(f"r.{c} IS NOT DISTINCT FROM s.{c}"
                        for c in (*CELL, "value_state", *BOUNDS))
    columns = ", ".join((*CELL, "value_state", *BOUNDS))
    # Registered in the caller's transaction: a failure aborts it, and its rollback drops
    # the registration too (unregistering in an aborted transaction fails, hiding why).
    con.register("_said", new)
    # What no earlier release said: a suppressed cell new here was never hidden before.
    # Compared with the record of its own indicators and periods only (a page's first view
    # on England: 40 ms against the whole record, 20 ms).
    first = con.execute(
        f"INSERT INTO {CELLS} SELECT DISTINCT {columns}, ? FROM _said s WHERE NOT EXISTS "
        f"(SELECT 1 FROM (SELECT * FROM {CELLS} WHERE indicator_id IN (SELECT indicator_id "
        f"FROM _said) AND period IN (SELECT period FROM _said)) r WHERE {same}) "
        f"RETURNING {', '.join(CELL)}, value_state",
        [release.release_id]).df()
    con.unregister("_said")
    suppressed = _first_hidden(first, published.loc[_at_source(published), list(CELL)])
    if first.empty and only_new:
        return 0
    con.execute(f"INSERT INTO {RELEASES} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [release.release_id, release.released_at, release.released_by,
                 release.output, release.indicators, release.rows, release.suppressed,
                 suppressed])
    return suppressed


def _at_source(published: pd.DataFrame) -> pd.Series:
    """Which suppressed rows of ``published`` the publisher of the data suppressed."""
    hidden = published["value_state"] == SUPPRESSED
    notes = [published[c] for c in ("value_note", "disclosure") if c in published]
    return hidden & pd.concat(notes, axis=1).eq(SUPPRESSED_AT_SOURCE).any(axis=1) \
        if notes else hidden & False


def _first_hidden(first: pd.DataFrame, at_source: pd.DataFrame) -> int:
    """The suppressed cells of ``first`` (recorded for the first time) that Carepath hid,
    those the publisher suppressed left out: a release of a file with suppressed practices
    said it had hidden them (a stop's note)."""
    hidden = first.loc[first["value_state"] == SUPPRESSED, list(CELL)]
    if at_source.empty or hidden.empty:
        return len(hidden)
    theirs = {tuple(map(str, row)) for row in at_source[list(CELL)].itertuples(index=False)}
    return sum(tuple(map(str, row)) not in theirs for row in hidden.itertuples(index=False))


def releases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every release, oldest first."""
    return con.execute(f"SELECT * FROM {RELEASES} ORDER BY released_at, release_id").df()
