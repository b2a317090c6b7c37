"""What one compute shares: the source of tables, the hierarchy and names of areas, the
loads, the groups, and the scans already run (each once, whichever indicator needs it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from carepath.engine import compile as cp
from carepath.engine.freshness import (
    area_names,
    names_by_date,
    practice_groups,
    settings_fingerprint,
)
from carepath.workspace.loads import data_loads


@dataclass
class Context:
    source: cp.Source
    hierarchy: pd.DataFrame
    names: dict[str, str]
    loads: pd.DataFrame
    groups: pd.DataFrame
    mem: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)
    scans: dict = field(default_factory=dict)  # shared part scans within one compute
    # One lock per scan key: a thread wanting a scan another is running waits for it
    # rather than running the same query again.
    scan_locks: dict = field(default_factory=dict)
    locks_lock: threading.Lock = field(default_factory=threading.Lock)
    computed_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    # event table -> columns of its derived copy with the person's columns (DuckDB only)
    copies: dict = field(default_factory=dict)
    settings: str = ""  # fingerprint of the settings that shape the areas (_settings)
    # The values counted over the same rows by the indicators of this compute (see
    # values_counted): one scan gives them all.
    values: dict = field(default_factory=dict)
    # Tables of the workspace with no rows (a table not there at all is named when read).
    empty_tables: frozenset[str] = frozenset()
    # Areas named differently by maps of different dates (freshness.names_by_date).
    dated_names: pd.DataFrame | None = None


def read_hierarchy(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every practice's links to its areas, with the dates each is valid."""
    hierarchy = con.execute("SELECT child_code, parent_code, parent_type, valid_from, "
                            "valid_to FROM org_hierarchy").df()
    for col in ("valid_from", "valid_to"):
        hierarchy[col] = pd.to_datetime(hierarchy[col])
    return hierarchy


def context(con: duckdb.DuckDBPyConnection, source: cp.Source, config: dict) -> Context:
    hierarchy = read_hierarchy(con)
    names = area_names(con, config)
    loads = data_loads(con)
    return Context(source, hierarchy, names, loads, practice_groups(config),
                   settings=settings_fingerprint(config), empty_tables=empty_tables(con),
                   dated_names=names_by_date(con, config))


def empty_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The workspace's tables with no rows: one EXISTS probe each, in one query."""
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE "
                                        "schema_name = 'main' AND NOT internal").fetchall()]
    if not tables:
        return frozenset()
    probes = " UNION ALL ".join(f"SELECT {i} AS i, EXISTS (SELECT 1 FROM \"{t}\") AS has_rows"
                                for i, t in enumerate(tables))
    return frozenset(tables[i] for i, has in con.execute(probes).fetchall() if not has)


# ----- one indicator --------------------------------------------------------------------
def dates_by_month(ctx: Context, table: str, column: str) -> pd.DataFrame:
    """(month, first, last) of a table's dates: one scan per date column and compute, for
    every indicator (see compile.dates_by_month)."""
    return once(ctx, ("months", table, column),
                lambda: cp.dates_by_month(ctx.source, table, column).to_pyarrow().to_pandas())


def date_range(ctx: Context, table: str, column: str) -> pd.DataFrame:
    """One row: the first and last date of a table's ``column`` (NaT when it has none)."""
    def build() -> pd.DataFrame:
        months = dates_by_month(ctx, table, column)
        return pd.DataFrame({"first": [pd.to_datetime(months["first"]).min()],
                             "last": [pd.to_datetime(months["last"]).max()]})
    return once(ctx, ("dates", table, column), build)


def once(ctx: Context, key, build):
    """``build()`` once per compute for ``key``, shared by every indicator and worker: a
    thread wanting a value another is building waits for it rather than building it too."""
    with ctx.locks_lock:
        key_lock = ctx.scan_locks.setdefault(key, threading.Lock())
    with key_lock:
        if key not in ctx.scans:
            ctx.scans[key] = build()
        return ctx.scans[key]
