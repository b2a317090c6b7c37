"""Read-model caches that follow the data: rebuilt when ``indicator_values`` or the
organisations change.

Pages read the same derived tables (indicator metadata, every practice's profile inputs) on
every request, while the data change only when someone recomputes. A cache entry remembers
the data version it was built from (row counts and latest ``computed_at``); the version is
looked up at most every ``VERSION_CHECK_SECONDS``, and one builder runs at a time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import duckdb

from carepath.disclosure import releases
from carepath.engine.freshness import last_failures

VERSION_CHECK_SECONDS = 5.0
# Entries kept (least recently used dropped first): an England workspace has ~120
# indicator x period pages per level and 210 localities.
MAX_ENTRIES = 1024


def data_version(con: duckdb.DuckDBPyConnection) -> tuple:
    """Indicator values, the organisations they are shown under (names, hierarchy), the
    loads and the failed computes (both make values out of date: pages say so), and the
    releases made (the public pages honour what they said; not the pages' own records of
    what they show, which change nothing they show)."""
    version = con.execute(
        "SELECT count(*), max(computed_at), (SELECT count(*) FROM organisations), "
        "(SELECT count(*) FROM org_hierarchy), (SELECT count(*) FROM load_log), "
        "(SELECT count(*) FROM releases WHERE released_by <> ?) "
        "FROM indicator_values", [releases.PUBLIC_PAGES]).fetchone()
    return (*version, tuple(sorted(last_failures(con))))


class VersionedCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Any, tuple[tuple, Any]] = OrderedDict()
        self._max = max_entries
        self._checked_at = -float("inf")
        self._version: tuple | None = None
        self._lock = threading.Lock()  # guards the table of per-key build locks
        self._building: dict[Any, threading.Lock] = {}
        # Raised by ``invalidate``: a value built from data read before an invalidation
        # is returned to its caller but not kept.
        self._generation: dict[Any, int] = {}
        self._epoch = 0  # raised by ``clear``: the same for every key at once
        self._clock = clock

    def _current_version(self, con: duckdb.DuckDBPyConnection) -> tuple:
        now = self._clock()
        if self._version is None or now - self._checked_at >= VERSION_CHECK_SECONDS:
            self._version = data_version(con)
            self._checked_at = now
        return self._version

    def get(self, key: Any, con: duckdb.DuckDBPyConnection,
            build: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """The cached value for ``key`` (hashable), or ``build(con)`` when the data moved."""
        version = self._current_version(con)
        hit = self._entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        with self._lock:
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:  # one builder per key; others wait for it and reuse its result
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            with self._lock:
                generation = (self._epoch, self._generation.get(key, 0))
            value = build(con)
            with self._lock:
                if (self._epoch, self._generation.get(key, 0)) != generation:
                    return value
                self._entries[key] = (version, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    old, _ = self._entries.popitem(last=False)
                    self._building.pop(old, None)
            return value

    def invalidate(self, key: Any) -> None:
        """Drop one entry now: for data this process changes itself (peer-review records),
        which the data version does not follow."""
        with self._lock:
            self._entries.pop(key, None)
            self._generation[key] = self._generation.get(key, 0) + 1

    def clear(self) -> None:
        """Drop every entry; values being built from before are returned, not kept."""
        with self._lock:
            self._entries.clear()
            # a build under way keeps its lock: another wanting its key waits for it
            self._building = {k: lock for k, lock in self._building.items() if lock.locked()}
            self._version = None
            self._epoch += 1
