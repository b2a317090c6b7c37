"""Secondary suppression: where one member of a group adding up to a published total is
hidden, hide another, so the hidden one cannot be worked out by subtraction."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping

from carepath.disclosure.rules import (
    PRACTICE,
    PUBLISHED,
    Within,
    cell_key,
    suppress,
)

# What is worked out from a containment, kept for the last few used: an export discloses
# indicator after indicator with one containment, and the pages use one per data version
# (worked out again for each indicator, the leftovers took 2.5 s of each large England one).
_WORKED_OUT: dict[int, tuple[Within, dict, dict]] = {}
_KEEP = 4
_LOCK = threading.Lock()  # the web discloses in threads


def worked_out(within: Within) -> tuple[dict[tuple, set[str]], dict[tuple, list[tuple]]]:
    """(``levels_inside(within)``, a cache for ``_leftover_keys``), the same objects for
    the same containment (by identity: it is never changed once built)."""
    with _LOCK:
        found = _WORKED_OUT.get(id(within))
        if found is None or found[0] is not within:
            found = (within, levels_inside(within), {})
            _WORKED_OUT[id(within)] = found
            while len(_WORKED_OUT) > _KEEP:
                _WORKED_OUT.pop(next(iter(_WORKED_OUT)))
    return found[1], found[2]


def levels_inside(within: Within) -> dict[tuple, set[str]]:
    """(period, area type, code) -> the levels with an area wholly inside that area."""
    inside: dict[tuple, set[str]] = defaultdict(set)
    for (period, area_type, _), outers in within.items():
        if area_type != PRACTICE:
            for outer in outers:
                inside[(period, *outer)].add(area_type)
    return inside


def _leftover_keys(row: dict, within: Within, inside: Mapping[tuple, set[str]],
                   cache: dict[tuple, list[tuple]]) -> list[tuple]:
    """A practice in none of an area's areas of some level (its PCN straddles the
    locality, or it is in none of the own groups inside it) joins that level's group
    there: the area's total less those areas is the practice's own figure (a code review
    found a practice that moved PCN given back as locality less its one PCN)."""
    period, practice = str(row.get("period")), row.get("area_code")
    if (period, practice) in cache:
        return cache[(period, practice)]
    mine = within.get((period, PRACTICE, practice), ())
    keys = []
    for outer in mine:
        for level in inside.get((period, *outer), ()):
            held = any(area[0] == level and outer in within.get((period, *area), ())
                       for area in mine)
            if not held:
                keys.append((*outer, level))
    cache[(period, practice)] = keys
    return keys


def group_keys(row: dict, member_of: Mapping[str, list[str]], within: Within,
               inside: Mapping[tuple, set[str]], leftovers: dict[tuple, list[tuple]]
               ) -> list[tuple]:
    """Groups whose members add up to a published total: siblings under one parent, the
    areas of one level inside each area containing them (with the area's practices in
    none of them), an area's breakdown categories, and the practices of a workspace's own
    group."""
    base = (row.get("indicator_id"), row.get("period"))
    cell = (row.get("breakdown"), row.get("category"))
    keys = [("siblings", *base, row.get("area_type"), row.get("parent_code"), *cell)]
    outer = within.get((str(row.get("period")), row.get("area_type"), row.get("area_code")), ())
    keys += [("within", *base, *area, row.get("area_type"), *cell) for area in outer]
    if row.get("area_type") == PRACTICE and inside:
        keys += [("within", *base, *area_level, *cell)
                 for area_level in _leftover_keys(row, within, inside, leftovers)]
    if row.get("area_type") == PRACTICE:
        keys += [("own group", *base, group, *cell)
                 for group in member_of.get(str(row.get("area_code")), ())]
    if row.get("breakdown") not in (None, "all"):
        keys.append(("categories", *base, row.get("area_type"), row.get("area_code"),
                     row.get("breakdown")))
    return keys


class Groups:
    """The rows of one indicator, each with the groups it belongs to, and how many of each
    group's members are hidden. In one fixed order whatever order the rows came in: the
    choices follow the order groups are met, and two outputs of the same figures choosing
    differently give back together what each hid (the web's unordered query and the
    export's sorted one did)."""

    def __init__(self, rows: list[dict], keys_of: Callable[[dict], list[tuple]],
                 note: str) -> None:
        self.rows = sorted(rows, key=cell_key)
        self.note = note  # the primary's note: no note tells the cells hidden apart
        self.keys = [keys_of(row) for row in self.rows]
        self.members: dict[tuple, list[dict]] = defaultdict(list)
        self.hidden: dict[tuple, int] = defaultdict(int)
        for row, keys in zip(self.rows, self.keys, strict=True):
            for key in keys:  # national's too: its categories add up to its total
                self.members[key].append(row)
                self.hidden[key] += "_count" in row
        self._position = {id(row): i for i, row in enumerate(self.rows)}
        self.cache: dict = {}  # what the audit works out once (carepath.disclosure.audit)
        self._todo = deque(key for key in self.members if self.hidden[key] == 1)

    def position(self, row: dict) -> int:
        return self._position[id(row)]

    def hide(self, row: dict) -> None:
        suppress(row, self.note)
        for key in self.keys[self._position[id(row)]]:
            self.hidden[key] += 1
            if self.hidden[key] == 1:
                self._todo.append(key)

    def complete(self) -> None:
        """Until no group has a lone hidden cell. A worklist: a group is looked at again
        only when one of its members is newly hidden, and one with two hidden is done for
        good (hiding only ever grows), so the cost follows the rows, not rows x rounds."""
        while self._todo:
            key = self._todo.popleft()
            victim = victim_in(self.members[key]) if self.hidden[key] == 1 else None
            if victim is not None:
                self.hide(victim)


def victim_in(members: list[dict]) -> dict | None:
    """The cell to hide beside a group's lone hidden one: the smallest published count."""
    return smallest_published(members) if len(members) >= 2 else None


def smallest_published(rows: list[dict]) -> dict | None:
    """The published row with the smallest count, not a zero while another will do."""
    # Not a zero while another will do: a hidden cell is known to be 0 or at least the
    # threshold, so with a zero the total less the others is the suppressed count itself
    # (found by a code review). A zero only when nothing else is left to hide.
    published = [r for r in rows if r.get("value_state") == PUBLISHED
                 and r.get("numerator") is not None]
    candidates = [r for r in published if r["numerator"]] or published
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r["numerator"], cell_key(r)))
