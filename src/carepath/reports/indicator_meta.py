"""Indicator metadata that pages and packs need (title, polarity, unit, definition).

Read from the indicator definitions (built-in library, then the workspace's own), so a
pack describes the definition it shows. Ids with values but no definition (for example
external values loaded from a Fingertips export) get a plain description.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from carepath.indicators.catalogue import describe_part
from carepath.indicators.library import read_library, shown_title


def indicator_meta(con: duckdb.DuckDBPyConnection, workspace_dir: Path | None = None, *,
                   definitions: dict | None = None) -> dict[str, dict]:
    """id -> {"title", "higher_is_better" (True/False/None), "unit", "definition",
    "source", "why", "version"} for every indicator that has values in the workspace.
    ``definitions``: the library already read (the workspace's own with the built-ins);
    else read from ``workspace_dir``, the built-ins only without it."""
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT indicator_id FROM indicator_values ORDER BY 1").fetchall()]
    library = definitions if definitions is not None else read_library(
        Path(workspace_dir) / "indicators" if workspace_dir else None)[0]
    out = {}
    for i in ids:
        d = library.get(i)
        if d is None:
            out[i] = {"title": i.replace("_", " "), "higher_is_better": None, "unit": "",
                      "definition": "", "source": "", "why": "", "version": ""}
            continue
        out[i] = {"title": shown_title(d), "higher_is_better": d.higher_is_better, "unit": d.unit,
                  "definition": f"Numerator: {describe_part(d.numerator)}. Denominator: "
                                f"{describe_part(d.denominator, d.mode)}.",
                  "source": d.governance.source, "why": d.why, "version": d.version,
                  "domain": d.domain, "statistic": d.statistic}
    return out
