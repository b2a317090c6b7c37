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


# Levels where an area of the first kind sits in one of the second: a practice of the first
# whose own area of the second kind is another is a crossing (a PCN may take practices of
# two localities). Each level's figures are still the sum of its own practices; the larger
# area is then not the sum of the smaller ones under it.
NESTED_LEVELS = (("pcn", "locality"), ("locality", "sub_icb"), ("sub_icb", "icb"))


def crossings(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(area type, area, practice, the practice's own parent, the area's parent, from) for
    every practice in an area whose parent is not the practice's own at the same date."""
    out: list[tuple] = []
    for mid, top in NESTED_LEVELS:
        out += con.execute(f"""
            SELECT ?, m.parent_code, m.child_code, own.parent_code, up.parent_code,
                   min(greatest(m.valid_from, up.valid_from, own.valid_from))
            FROM {TABLE} m
            JOIN {TABLE} up ON up.child_code = m.parent_code AND up.parent_type = ?
            JOIN {TABLE} own ON own.child_code = m.child_code AND own.parent_type = ?
            JOIN organisations o ON o.org_code = m.child_code AND o.org_type = 'practice'
            WHERE m.parent_type = ? AND own.parent_code <> up.parent_code
              AND greatest(m.valid_from, up.valid_from, own.valid_from)
                  <= least(coalesce(m.valid_to, DATE '9999-12-31'),
                           coalesce(up.valid_to, DATE '9999-12-31'),
                           coalesce(own.valid_to, DATE '9999-12-31'))
            GROUP BY ALL ORDER BY 2, 3""", [mid, top, top, mid]).fetchall()
    return out
