"""How much the published figures together say about each hidden count, and more cells
hidden where they say too much.

Secondary suppression keeps any group from having a lone hidden cell, but the groups cross
(a practice is in its locality, its PCN, its own groups...), and every published figure
bounds the hidden ones: a rounded count of 10 is 8 to 12, a published 0 is 0, national's
exact total is exact. Put together, they narrowed some suppressed counts to within one (a
privacy review of a county). This module works out each hidden count's feasible range the
way such an attacker would, by tightening every group's bounds until nothing moves
(interval propagation over the sums: what subtraction can prove), and hides a further cell
that pins down any small count left narrower than the note itself (1 to k).

Propagation is an audit of subtraction, not of every linear argument: an integer
programme can be tighter where many groups cross.
tests/indicators/test_disclosure_audit.py checks it against one (scipy's HiGHS) on small
cases, and measures what the programme still narrows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np

from carepath.disclosure.releases import Said, release_key
from carepath.disclosure.rules import (
    COUNT_DENOMINATORS,
    EXEMPT_TEXT,
    GROUP,
    MISSING,
    NATIONAL,
    PUBLISHED,
    ROUNDED_DENOMINATORS,
    DisclosurePolicy,
)
from carepath.disclosure.secondary import Groups, smallest_published
from carepath.stats.standardise import DSR_MIN_EVENTS, DSR_TOO_FEW_NOTE

# Rounds of tightening before stopping short of a fixed point (each round tightens every
# group once; whole-number bounds that only ever narrow settle, England's indicators in
# eleven rounds at most; stopped short, a range is left wider than proven, so this is
# generous).
MAX_SWEEPS = 100
# How near a group's sum must come to a bound to be what gives it (figures that are not
# whole numbers add up only to within floating-point error).
TOLERANCE = 1e-9
# Rounds of hiding more before stopping: each hides at least one more cell per narrow count.
MAX_PROTECTION_ROUNDS = 20


# The two counts a row can hide, and where the policy keeps each one's exact figure.
COUNTS = {"numerator": "_exact", "denominator": "_exact_den"}


def published_bounds(rows: Sequence[dict], policy: DisclosurePolicy,
                     column: str = "numerator") -> tuple[np.ndarray, np.ndarray]:
    """What each row's published form says its count (``column``) is: a rounded count r
    is one of the whole numbers that round to it (and at least the suppression threshold,
    or exactly 0, where small ones are suppressed), an exempt national or unrounded
    figure is itself, a hidden or uncounted one anything from 0, within what its state
    says (``state_says``)."""
    low, high = states_say(rows, column)
    half = policy.round_to / 2
    for i, row in enumerate(rows):
        count = row.get(column)
        if row.get("value_state") != PUBLISHED or count is None:
            continue
        if row.get("disclosure") == EXEMPT_TEXT or policy.round_to == 1 or not _rounded(
                row, column):
            lowest = highest = count
        elif float(row.get(COUNTS[column]) or 0).is_integer():  # a count: whole numbers
            lowest, highest = _whole_numbers_rounding_to(count, policy, row, column)
        else:  # a mean list size, say: anything that rounds to it
            lowest, highest = count - half, count + half
        low[i], high[i] = max(low[i], lowest), min(high[i], highest)
    return low, high


def states_say(rows: Sequence[dict], column: str = "numerator"
               ) -> tuple[np.ndarray, np.ndarray]:
    """``state_says`` of each row: what its state alone says of its count, hidden or not."""
    low, high = np.zeros(len(rows)), np.full(len(rows), np.inf)
    for i, row in enumerate(rows):
        if row.get("statistic") == "dsr" and column == "numerator":
            low[i], high[i] = state_says(row.get("statistic"), row.get("value_state"),
                                         row.get("value_note"), row.get(COUNTS[column]))
    return low, high


def state_says(statistic: str | None, state: str | None, note: str | None,
               exact: float | None) -> tuple[float, float]:
    """What a row's state alone says of its count (its numerator), whether or not the
    count is hidden. A DSR is calculated from 10 events up and below that noted as
    "fewer than 10 events" (``DSR_TOO_FEW_NOTE``): the note says at most 9, and any other
    state of a DSR of 10 or more (published, or suppressed beside a small one: a small
    one would have had the note) at least 10. Anyone knowing the rule reads both off
    the public figures, so every indicator sharing the count must know them too
    (``carepath.engine.containment``). Other statistics' states say nothing."""
    if statistic != "dsr":
        return 0.0, math.inf
    if state == MISSING and note == DSR_TOO_FEW_NOTE:
        return 0.0, DSR_MIN_EVENTS - 1.0
    if state != MISSING and exact is not None and exact >= DSR_MIN_EVENTS:
        return float(DSR_MIN_EVENTS), math.inf
    return 0.0, math.inf


def what_is_said(rows: Sequence[dict], policy: DisclosurePolicy) -> dict[tuple, Said]:
    """What the published rows say of their counts (``published_bounds``), by release key:
    for the record of a release (``carepath.disclosure.releases``)."""
    shown = [row for row in rows
             if row.get("value_state") == PUBLISHED and row.get("numerator") is not None]
    num_low, num_high = published_bounds(shown, policy, "numerator")
    den_low, den_high = published_bounds(shown, policy, "denominator")
    return {release_key(row): (num_low[i], num_high[i], den_low[i], den_high[i])
            for i, row in enumerate(shown)}


def still_holding(said: Sequence[Said], exact: float | None, exact_den: float | None
                  ) -> dict[str, tuple[float, float]]:
    """What earlier releases' ranges for a cell still say of its counts: each range that
    holds the count as it is now (one from figures since revised proves nothing of these),
    intersected. Column -> (lowest, highest), for the counts they narrow."""
    out = {}
    for column, truth, at in (("numerator", exact, 0), ("denominator", exact_den, 2)):
        if truth is None:
            continue
        low, high = 0.0, math.inf
        for bounds in said:
            lo = bounds[at] or 0.0
            hi = math.inf if bounds[at + 1] is None else bounds[at + 1]
            if lo - TOLERANCE <= truth <= hi + TOLERANCE:
                low, high = max(low, lo), min(high, hi)
        if low > 0 or math.isfinite(high):
            out[column] = (low, high)
    return out


def _whole_numbers_rounding_to(count: float, policy: DisclosurePolicy, row: dict,
                               column: str) -> tuple[float, float]:
    """The counts that round to ``count``, less the small ones the policy would have
    suppressed (1 to k): a published 0 is 0 unless the threshold is below what rounds
    to 0 (2 rounds to 0 to the nearest 5), a published 10 is 8 to 12."""
    half = policy.round_to / 2
    low, high = max(math.ceil(count - half), 0), math.ceil(count + half) - 1
    if _small_suppressed(row, column):
        if low > 0:  # not 0, so not 1 to k either
            low = max(low, policy.suppress_below)
        elif high < policy.suppress_below:  # 0 or a small count: 0
            high = 0
    return low, high


def _rounded(row: dict, column: str) -> bool:
    return column == "numerator" or row.get("statistic") in ROUNDED_DENOMINATORS


def _small_suppressed(row: dict, column: str) -> bool:
    return column == "numerator" or row.get("statistic") in COUNT_DENOMINATORS


def _totals(groups: Groups) -> dict[tuple, int]:
    """Each group's total: the row whose published figure its members add up to."""
    if "totals" not in groups.cache:
        groups.cache["totals"] = _find_totals(groups)
    return groups.cache["totals"]


def _find_totals(groups: Groups) -> dict[tuple, int]:
    # By area type as well as code: an own group may share a code with an area (a code
    # review). A parent is found by code among the areas: no row's parent is an own group.
    typed = {(str(r.get("period")), r.get("area_type"), r.get("area_code"), r.get("breakdown"),
              r.get("category")): i for i, r in enumerate(groups.rows)}
    areas = {(p, code, *cell): i for (p, area_type, code, *cell), i in typed.items()
             if area_type != GROUP}
    totals = {}
    for key in groups.members:
        kind, _, period = key[:3]
        if kind == "siblings":
            total = areas.get((str(period), key[4], *key[5:7]))
        elif kind == "within":
            total = typed.get((str(period), key[3], key[4], *key[6:8]))
        elif kind == "own group":
            total = typed.get((str(period), GROUP, key[3], *key[4:6]))
        else:  # an area's breakdown categories add up to its figure for everyone
            total = typed.get((str(period), key[3], key[4], "all", "all"))
        if total is not None:
            totals[key] = total
    return totals


def _memberships(groups: Groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each membership, row of each membership, total row of each group) for
    every group with a total among the rows. Worked out once: the groups never change."""
    if "memberships" not in groups.cache:
        totals = _totals(groups)
        number = {key: n for n, key in enumerate(totals)}
        member_group, member_row = [], []
        for i, keys in enumerate(groups.keys):
            for key in keys:
                if key in number:
                    member_group.append(number[key])
                    member_row.append(i)
        groups.cache["memberships"] = (np.array(member_group, dtype=np.int64),
                                       np.array(member_row, dtype=np.int64),
                                       np.array(list(totals.values()), dtype=np.int64))
    return groups.cache["memberships"]


def constraints(groups: Groups, column: str = "numerator"
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The memberships (as ``_memberships``) of the groups whose members' exact counts
    add up to their total's, as anyone who knows how the figures are made would assume.
    A group that does not (a practice unattributed, a category unknown) is left out: it
    proves nothing."""
    if ("constraints", column) not in groups.cache:
        member_group, member_row, total_row = _memberships(groups)
        exact = np.array([r.get(COUNTS[column]) or 0 for r in groups.rows], dtype=float)
        sums = np.bincount(member_group, weights=exact[member_row], minlength=len(total_row))
        holds = np.isclose(sums, exact[total_row], rtol=1e-9, atol=1e-9)
        renumbered = np.cumsum(holds) - 1
        kept = holds[member_group]
        groups.cache[("constraints", column)] = (
            renumbered[member_group[kept]], member_row[kept], total_row[holds])
        groups.cache[("holding", column)] = {
            key for key, ok in zip(_totals(groups), holds, strict=True) if ok}
    return groups.cache[("constraints", column)]


def feasible_ranges(groups: Groups, policy: DisclosurePolicy, column: str = "numerator"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest count (``column``) each row (``groups.rows``) could have,
    given every published figure and every group's sum."""
    low, high = _bounds(groups, policy, column)
    member_group, member_row, total_row = constraints(groups, column)
    if len(total_row) == 0:
        return low, high
    for _ in range(MAX_SWEEPS):
        if not _tighten(low, high, member_group, member_row, total_row):
            break
    return low, high


def _bounds(groups: Groups, policy: DisclosurePolicy, column: str
            ) -> tuple[np.ndarray, np.ndarray]:
    """``published_bounds`` of the rows as they stand: worked out once, then only the
    rows hidden since are opened up (rows are only ever hidden, never shown again)."""
    if ("bounds", column) not in groups.cache:
        groups.cache[("bounds", column)] = (*published_bounds(groups.rows, policy, column),
                                            _states(groups, PUBLISHED))
    low, high, shown = groups.cache[("bounds", column)]
    low, high = low.copy(), high.copy()
    hidden_since = shown & ~_states(groups, PUBLISHED)
    if hidden_since.any():  # what their states say still holds (a DSR's 10 or more)
        if ("states", column) not in groups.cache:
            groups.cache[("states", column)] = states_say(groups.rows, column)
        state_low, state_high = groups.cache[("states", column)]
        low[hidden_since], high[hidden_since] = state_low[hidden_since], state_high[hidden_since]
    earlier_low, earlier_high = _earlier_bounds(groups, column)
    np.maximum(low, earlier_low, out=low)  # hidden here or not, published before
    np.minimum(high, earlier_high, out=high)
    return low, high


def _earlier_bounds(groups: Groups, column: str) -> tuple[np.ndarray, np.ndarray]:
    """What earlier releases published of each row's count (``_earlier``, set by the
    policy where they still hold it): 0 to no limit where nothing."""
    if ("earlier", column) not in groups.cache:
        low, high = np.zeros(len(groups.rows)), np.full(len(groups.rows), np.inf)
        for i, row in enumerate(groups.rows):
            known: Mapping = row.get("_earlier") or {}
            if column in known:
                low[i], high[i] = known[column]
        groups.cache[("earlier", column)] = (low, high)
    return groups.cache[("earlier", column)]


def _states(groups: Groups, state: str) -> np.ndarray:
    return np.fromiter((r.get("value_state") == state for r in groups.rows), bool,
                       count=len(groups.rows))


def _tighten(low: np.ndarray, high: np.ndarray, member_group: np.ndarray,
             member_row: np.ndarray, total_row: np.ndarray) -> bool:
    """One round over every group: a member is at most the total's highest less the other
    members' lowest, at least the total's lowest less their highest; the total lies
    between its members' sums. True if any bound moved."""
    before = (low.copy(), high.copy())
    n = len(total_row)
    m_low, m_high = low[member_row], high[member_row]
    finite = np.isfinite(m_high)
    sum_low = np.bincount(member_group, weights=m_low, minlength=n)
    sum_high = np.bincount(member_group, weights=np.where(finite, m_high, 0), minlength=n)
    unbounded = np.bincount(member_group, weights=~finite, minlength=n)
    others_low = sum_low[member_group] - m_low
    others_unbounded = unbounded[member_group] - ~finite > 0
    others_high = np.where(others_unbounded, np.inf,
                           sum_high[member_group] - np.where(finite, m_high, 0))
    with np.errstate(invalid="ignore"):
        np.minimum.at(high, member_row, high[total_row][member_group] - others_low)
        np.maximum.at(low, member_row, low[total_row][member_group] - others_high)
    np.maximum.at(low, total_row, sum_low)
    np.minimum.at(high, total_row, np.where(unbounded > 0, np.inf, sum_high))
    np.maximum(low, 0, out=low)
    # Figures that are not whole numbers (a mean list size at national level) add up only
    # to within floating-point error: a bound crossing its other by that much would feed
    # on itself from sweep to sweep.
    np.minimum(low, high, out=low)
    return not (np.array_equal(before[0], low) and np.array_equal(before[1], high))


def too_narrow(groups: Groups, policy: DisclosurePolicy) -> list[int]:
    """Rows holding a small count (1 to k: a numerator, or a denominator counting people)
    hidden here whose feasible range is narrower than the note's own: the published
    figures say more about them than "1 to k"."""
    return sorted({i for rows, _, _ in _narrow(groups, policy).values() for i in rows})


def _narrow(groups: Groups, policy: DisclosurePolicy
            ) -> dict[str, tuple[list[int], np.ndarray, np.ndarray]]:
    """For each count: the rows too narrow, with every row's range."""
    width = policy.suppress_below - 1
    found = {}
    counts_people = any(row.get("statistic") in COUNT_DENOMINATORS for row in groups.rows)
    for column, exact in COUNTS.items():
        if column == "denominator" and not counts_people:
            continue  # an expected count, a population: no one to protect
        small = [i for i, row in enumerate(groups.rows)
                 if "_count" in row and _small_suppressed(row, column)
                 and 0 < (row.get(exact) or 0) < policy.suppress_below]
        if small:  # most indicators' denominators (list sizes) are never small
            low, high = feasible_ranges(groups, policy, column)
            found[column] = ([i for i in small if high[i] - low[i] < width], low, high)
    return found


def protect(groups: Groups, policy: DisclosurePolicy) -> int:
    """Hide a further cell that pins down each small count the published figures narrow
    more than its note (``_binding``), until none is left or nothing that pins one can be
    hidden; each round, give no group a lone hidden cell again. Hiding a cell that pins
    nothing would change no range, so nothing else is hidden. Returns how many cells were
    hidden."""
    hidden = 0
    for _ in range(MAX_PROTECTION_ROUNDS):
        chosen = [victim for column, (rows, low, high) in _narrow(groups, policy).items()
                  for i in rows
                  if (victim := _binding(groups, i, column, low, high)) is not None]
        if not chosen:
            break
        for victim in chosen:
            if "_count" not in victim:
                groups.hide(victim)
                hidden += 1
        groups.complete()
    return hidden


def _binding(groups: Groups, i: int, column: str, low: np.ndarray, high: np.ndarray
             ) -> dict | None:
    """A published figure that pins row i down: in a group whose sum, with the others'
    ranges, gives row i's lowest or highest (hiding anything else would leave that group
    saying the same: an England DSR's two sex cells of under 10 events under their PCN's
    15 were 4 to 9 while twenty rounds hid cells elsewhere). Its smallest member left to
    hide, or else its total; where all of them are hidden already, what pins those down,
    and so on. None if nothing is left."""
    seen, todo = {i}, deque([i])
    while todo:
        j = todo.popleft()
        for key in _pinning(groups, j, column, low, high):
            members, total = groups.members[key], groups.rows[_totals(groups)[key]]
            # Not a cell already known as well as its figure says (an earlier release
            # published it): hidden now, it stays known.
            victim = smallest_published([m for m in members
                                         if not _known(groups, m, column)])
            if victim is None and _may_hide(total) and not _known(groups, total, column):
                victim = total
            if victim is not None:
                return victim
            for row in (*members, total):
                if (k := groups.position(row)) not in seen:
                    seen.add(k)
                    todo.append(k)
    return None


def _pinning(groups: Groups, i: int, column: str, low: np.ndarray, high: np.ndarray
             ) -> list[tuple]:
    """The groups (row i a member or their total) whose sum gives row i's bound: its
    highest, or its lowest where that is above 0 (0 is every count's floor, no group's)."""
    holding, totals = groups.cache.get(("holding", column), set()), _totals(groups)
    keys = [k for k in (*groups.keys[i], *_groups_totalled(groups).get(i, ())) if k in holding]
    pinning = []
    for key in sorted(keys, key=str):
        members = [groups.position(r) for r in groups.members[key]]
        if totals[key] == i:
            lowest, highest = low[members].sum(), high[members].sum()
        else:
            others = [m for m in members if m != i]
            lowest = low[totals[key]] - high[others].sum()
            highest = high[totals[key]] - low[others].sum()
        if (math.isfinite(high[i]) and highest <= high[i] + TOLERANCE) or \
                (low[i] > 0 and lowest >= low[i] - TOLERANCE):
            pinning.append(key)
    return pinning


def _groups_totalled(groups: Groups) -> dict[int, list[tuple]]:
    """Row -> the groups whose total it is."""
    if "totalled" not in groups.cache:
        totalled: dict[int, list[tuple]] = {}
        for key, total in _totals(groups).items():
            totalled.setdefault(total, []).append(key)
        groups.cache["totalled"] = totalled
    return groups.cache["totalled"]


def _known(groups: Groups, row: dict, column: str) -> bool:
    """Whether earlier releases (this indicator's or a linked one's) said of ``row``'s
    count in ``column`` all that its published figure here says: hiding it now would
    leave it as known. (Not merely something: a linked indicator's published range of
    the count narrows it only where it holds more than this one's.)"""
    known = (row.get("_earlier") or {}).get(column)
    if known is None:
        return False
    low, high, _ = groups.cache[("bounds", column)]
    i = groups.position(row)
    return low[i] - TOLERANCE <= known[0] and known[1] <= high[i] + TOLERANCE


def _may_hide(row: dict) -> bool:
    return row.get("value_state") == PUBLISHED and row.get("numerator") is not None and \
        row.get("area_type") != NATIONAL
