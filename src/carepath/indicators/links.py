"""Counts that different indicators share.

The cancers counted by incidence are the denominators of emergency presentation and the
Recovery Package indicators; the deaths of a period are the denominator of most
end-of-life ones; the deaths with a preference recorded are one's numerator and another's
denominator. Published apart, each indicator's further hidden cells are its own
choice, so one can publish the partner another hid, and together they give back a small
count each protected (a red-team attack on a county's public outputs, 2026-12-07). The
disclosure of one indicator must know what its linked ones publish
(``carepath.disclosure.releases``): this module says which counts are the same.

A count part (a numerator or a count denominator) is the same as another's when
everything that decides its figure for a cell is the same: its table, date, filters
(compared as parsed, so spacing does not matter), value, related rows, the period, the
mode and what the rows are attributed by. The cell (period, area, breakdown, category)
then holds the same count in both. A link made where two counts are not the same would
only hide more: the audit uses an earlier range only where it holds the count as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping

from carepath.disclosure.releases import Link
from carepath.errors import CarepathError
from carepath.indicators.definition import Count, Definition
from carepath.indicators.expr import parse

COUNT_PARTS = ("numerator", "denominator")
_FINGERPRINT_CHARS = 16  # of a SHA-256: collisions among a library's counts are not a worry


def _canonical_filter(text: str | None) -> str | None:
    """A filter as parsed: ``a = 1`` and ``a=1`` are one filter."""
    if text is None:
        return None
    try:
        return repr(parse(text))
    except CarepathError:  # a definition that does not parse is refused elsewhere
        return text


def _count_spec(count: Count) -> dict:
    """The count as data, its filters as parsed and its related rows in a fixed order (all
    of them must hold, in whatever order they are written)."""
    spec = count.model_dump(mode="json")
    spec["where"] = _canonical_filter(count.where)
    for related in ("require", "exclude"):
        for part, model in zip(spec[related], getattr(count, related), strict=True):
            part["where"] = _canonical_filter(model.where)
            part["among"] = _canonical_filter(model.among)
        spec[related] = sorted(spec[related], key=lambda part: json.dumps(part, sort_keys=True,
                                                                          default=str))
    return spec


def fingerprint(defn: Definition, part: str, *, period: bool = True) -> str | None:
    """What decides ``part``'s count in every cell, as a short hash; None for a part that
    counts nothing (a registered population, a missing denominator). Without ``period``:
    what decides it in any one period, whatever the periods are."""
    count = getattr(defn, part)
    if not isinstance(count, Count):
        return None
    decided_by = {"count": _count_spec(count), "period": defn.period if period else None,
                  "mode": defn.mode,
                  "attributed_by": defn.attribution_col,
                  "population_base": defn.population_base,
                  "suppressed_at_source": defn.suppressed_at_source}
    text = json.dumps(decided_by, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:_FINGERPRINT_CHARS]


def shared_counts(definitions: Mapping[str, Definition]) -> dict[str, tuple[Link, ...]]:
    """Indicator id -> its links to other indicators' parts counting the same, for every
    indicator with any (in a fixed order: ids, then parts)."""
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for ind_id in sorted(definitions):
        for part in COUNT_PARTS:
            found = fingerprint(definitions[ind_id], part)
            if found is not None:
                holders[found].append((ind_id, part))
    links: dict[str, list[Link]] = defaultdict(list)
    for parts in holders.values():
        for ind_id, part in parts:
            links[ind_id] += [Link(part, other, other_part) for other, other_part in parts
                              if other != ind_id]
    return {ind_id: tuple(found) for ind_id, found in sorted(links.items()) if found}


def linked_before(links: Mapping[str, tuple[Link, ...]], indicators: Iterable[str],
                  known: Iterable[str] = ()) -> set[str]:
    """The indicators whose disclosure ``indicators``' depends on when all are disclosed
    in order of their ids (``carepath.engine.containment.disclosed``): those linked to
    each and before it, and theirs in turn, but not those of ``known`` ones (what these
    say is at hand, and holds what theirs say)."""
    known = set(known)
    found: set[str] = set()
    todo = list(indicators)
    while todo:
        ind_id = todo.pop()
        for link in links.get(ind_id, ()):
            if link.other < ind_id and link.other not in found:
                found.add(link.other)
                if link.other not in known:
                    todo.append(link.other)
    return found


# Periods that are whole quarters: their counts are sums of a quarterly twin's.
MADE_OF_QUARTERS = ("financial_year", "calendar_year", "rolling_12_months")


def quarters_of_another(definitions: Mapping[str, Definition]) -> set[str]:
    """Indicators of quarters whose counts another indicator adds up by year (or 12 months):
    emergency presentation by quarter and by financial year. National's headline figures
    are published exactly, so a small quarter hidden there came back as the year less
    the other three; these are rounded at national level too."""
    of_years = {fingerprint(d, part, period=False) for d in definitions.values()
                if d.period in MADE_OF_QUARTERS for part in COUNT_PARTS}
    of_years.discard(None)
    return {ind_id for ind_id, d in definitions.items() if d.period == "quarter" and any(
        fingerprint(d, part, period=False) in of_years for part in COUNT_PARTS)}
