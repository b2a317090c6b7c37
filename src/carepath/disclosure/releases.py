"""Once suppressed, always suppressed: the record of the cells public exports have hidden.

The policy's choices are not fixed by the figures alone. A further cell hidden beside a
small one depends on the groups the figures add up in, so a workspace that gains an own
group of practices, a new hierarchy or a changed ``[disclosure]`` table can hide other
cells of the same figures in its next release. Read side by side, the two releases give
back what each hid: the first's published partner less the second's published total.
Each public export therefore records the cells it hid (``released_suppressions``), and
every later public output, the export and the public pages alike, hides them again before
choosing anything else, so a later release's hidden cells hold all of an earlier one's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from carepath.disclosure.rules import SUPPRESSED, cell_key

TABLE = "released_suppressions"
CELL = ("indicator_id", "period", "area_type", "area_code", "breakdown", "category")


def release_key(row: dict) -> tuple:
    """A row's cell as the record keys it: its indicator, then ``cell_key``'s columns."""
    return (str(row.get("indicator_id")), *cell_key(row))


def withheld(con: duckdb.DuckDBPyConnection, indicators: Iterable[str]) -> set[tuple]:
    """The cells of ``indicators`` that an earlier public export suppressed."""
    ids = sorted({str(i) for i in indicators})
    if not ids:
        return set()
    # Ordered as release_key builds its keys, so the two compare equal.
    found = con.execute(
        f"SELECT indicator_id, period, area_type, area_code, breakdown, category FROM {TABLE} "
        "WHERE indicator_id IN (SELECT unnest(?))", [ids]).fetchall()
    return {tuple(str(v) for v in row) for row in found}


def new_release_id(at: datetime) -> str:
    """Sortable by time, unique however close two releases come."""
    return f"{at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def record(con: duckdb.DuckDBPyConnection, published: pd.DataFrame, release_id: str,
           at: datetime) -> int:
    """Add the cells ``published`` suppressed that no earlier release had; returns how many
    were new. The caller's transaction makes it one with writing the release out."""
    hidden = published.loc[published["value_state"] == SUPPRESSED, list(CELL)].astype(str)
    con.register("_newly_hidden", hidden.drop_duplicates())
    try:
        # An INSERT's one row is the number of rows it inserted.
        return con.execute(
            f"INSERT INTO {TABLE} SELECT h.*, ?, ? FROM _newly_hidden h "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} r WHERE "
            + " AND ".join(f"r.{c} = h.{c}" for c in CELL) + ")",
            [release_id, at]).fetchall()[0][0]
    finally:
        con.unregister("_newly_hidden")


def releases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each release that first hid cells: when, how many, of how many indicators."""
    return con.execute(
        f"SELECT release_id, min(released_at) AS released_at, count(*) AS cells_first_hidden, "
        f"count(DISTINCT indicator_id) AS indicators FROM {TABLE} "
        "GROUP BY release_id ORDER BY released_at, release_id").df()
