"""One version, one way of counting.

The first compute of each indicator version records the hash of the fields that decide its
figures. A later compute whose definition counts differently under the same version is
warned of whatever the data did meanwhile: compared figure by figure (``run._same_version_note``)
a change was missed when new data had been loaded too (a review).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from carepath.indicators.definition import Definition

# What decides the figures. Not the words (title, why, unit, governance, references), nor
# how values are judged (polarity, comparator, targets) or published (disclosure).
COUNTING_FIELDS = frozenset({
    "statistic", "multiplier", "numerator", "denominator", "period", "mode",
    "follow_up_days", "population_base", "attribution", "attribution_column", "breakdowns",
    "confidence", "suppressed_at_source"})


def counting_hash(defn: Definition) -> str:
    return defn.content_hash(COUNTING_FIELDS)


def same_version_counting(con: duckdb.DuckDBPyConnection, defn: Definition,
                          computed_at: datetime) -> tuple[str, bool]:
    """(a warning when this version counts otherwise than when first computed, whether it
    counts as at its latest compute). The first compute of a version records its counting."""
    now = counting_hash(defn)
    row = con.execute("SELECT counting_hash, first_computed_at, last_counting_hash FROM "
                      "definition_versions WHERE indicator_id = ? AND indicator_version = ?",
                      [defn.id, defn.version]).fetchone()
    if row is None:
        con.execute("INSERT INTO definition_versions VALUES (?, ?, ?, ?, ?)",
                    [defn.id, defn.version, now, computed_at, now])
        return "", True
    first, when, last = row
    con.execute("UPDATE definition_versions SET last_counting_hash = ? WHERE indicator_id = ? "
                "AND indicator_version = ?", [now, defn.id, defn.version])
    if first == now:
        return "", last == now
    warning = (f"warning: the definition counts otherwise than version {defn.version!r} did "
               f"when first computed ({when:%Y-%m-%d %H:%M}) but its version is still "
               f"{defn.version!r}; raise it, so that one version means one way of counting")
    return warning, last == now
