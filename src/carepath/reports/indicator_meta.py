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
from carepath.stats import LEVEL_SAID, level_tag

# How an indicator's areas are judged against national, as a pack says it, and the interval
# shown beside the judgement ("95" or "998": the columns lower95/upper95, lower998/...).
COMPARED_BY = {"ci_overlap": "{level} intervals", "funnel": "{level} funnel limits",
               "quantiles": "quintiles (no judgement against national)"}


def compared_by(defn) -> tuple[str, str]:
    """(how its areas are compared with national, the interval level shown with it)."""
    if defn.statistic == "count":
        return "not compared (a count)", "95"
    level = level_tag(defn.comparator.confidence)
    return COMPARED_BY[defn.comparator.method].format(level=LEVEL_SAID[level]), level


def indicator_meta(con: duckdb.DuckDBPyConnection, workspace_dir: Path | None = None, *,
                   definitions: dict | None = None) -> dict[str, dict]:
    """id -> {"title", "higher_is_better" (True/False/None), "unit", "definition",
    "source", "why", "version", "compared_by", "level"} for every indicator that has values in the workspace.
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
                      "definition": "", "source": "", "why": "", "version": "",
                      "compared_by": "95% intervals", "level": "95"}
            continue
        out[i] = {"title": shown_title(d), "higher_is_better": d.higher_is_better, "unit": d.unit,
                  "definition": f"Numerator: {describe_part(d.numerator)}. Denominator: "
                                f"{describe_part(d.denominator, d.mode)}.",
                  "source": d.governance.source, "why": d.why, "version": d.version,
                  "domain": d.domain, "statistic": d.statistic,
                  **dict(zip(("compared_by", "level"), compared_by(d), strict=True))}
    return out
