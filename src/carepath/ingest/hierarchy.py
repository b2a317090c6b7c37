"""The organisation hierarchy over time: one parent of each type at a time."""

from __future__ import annotations

import duckdb

TABLE = "org_hierarchy"


def close_superseded_links(con: duckdb.DuckDBPyConnection) -> int:
    """End every open link (no valid_to) the day before a later link of the same
    organisation and parent type starts; returns how many were closed. A map published
    each year gives links from its own date and closes none, so without this a practice
    loaded from two maps sat in two sub-ICBs at once and was counted in both."""
    return con.execute(f"""
        UPDATE {TABLE} AS h SET valid_to = n.next_from - 1
        FROM (SELECT child_code, parent_type, valid_from, lead(valid_from) OVER (
                     PARTITION BY child_code, parent_type ORDER BY valid_from) AS next_from
              FROM {TABLE}) AS n
        WHERE h.child_code = n.child_code AND h.parent_type = n.parent_type
          AND h.valid_from = n.valid_from AND h.valid_to IS NULL AND n.next_from IS NOT NULL
        """).fetchall()[0][0]
