"""Person columns kept beside an event table: a derived copy, rebuilt when its inputs change.

Indicators broken down by sex, age or deprivation need columns of ``patients`` on rows of
``referrals``, ``tumours``, ``deaths`` ... On England (22 million people, 18.6 million
referrals) that join costs 5-8 s of one core for every scan that needs it, and a library
run needs it many times. So the join is done once per (event table, loads) and kept as
``_with_person__<table>``: the columns the definitions use, the person's among them, one
row per event row (a left join, as the engine's own join). The engine reads it instead of
joining; ``tests/indicators/test_derived.py`` checks the values are the same.

Only the columns in use are copied (writing an 18-million-row copy of every column,
identifiers included, costs more than it saves); a definition needing another column
widens the copy at its next compute, and until then joins as before.

A copy is only trusted while the loads and row counts of both tables are the ones it was
built from (``_derived_tables.built_from``). Loading either table drops it in the load's own
transaction, so no copy of a person's data outlives the load that replaced it.
"""

from __future__ import annotations

import json

import duckdb

from carepath.model.schema import TABLES_BY_NAME
from carepath.workspace.loads import data_loads

PREFIX = "_with_person__"
BOOKKEEPING = "_derived_tables"
PERSON_TABLE = "patients"
PERSON_KEY = "patient_id"
# Person columns an event table can borrow (the definition language's person scope).
PERSON_COLUMNS = ("practice_code", "sex", "year_of_birth", "imd_quintile", "ethnic_group")


def derived_name(table: str) -> str:
    return f"{PREFIX}{table}"


def borrowable(table: str) -> tuple[str, ...]:
    """The person columns ``table`` lacks and could borrow through ``patient_id``."""
    spec = TABLES_BY_NAME.get(table)
    if spec is None or table == PERSON_TABLE or PERSON_KEY not in spec.column_names:
        return ()
    return tuple(c for c in PERSON_COLUMNS if c not in spec.column_names)


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f'CREATE TABLE IF NOT EXISTS "{BOOKKEEPING}" (table_name VARCHAR PRIMARY KEY, '
                "built_from VARCHAR, columns VARCHAR[], built_at TIMESTAMP)")


def _inputs(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """What a copy of ``table`` was built from: both tables' loads and row counts."""
    ids = data_loads(con, [table, PERSON_TABLE])
    loads = [[name, ",".join(sorted(group.load_id))]
             for name, group in sorted(ids.groupby("table_name"))]
    counts = [con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in (table, PERSON_TABLE)]
    return json.dumps([loads, counts])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = "
        "'main'", [table]).fetchall()}


def _present(con: duckdb.DuckDBPyConnection, table: str, columns: set[str],
             person_columns: set[str]) -> bool:
    """Whether both tables exist with the columns wanted (checked first: a failed statement
    would abort the caller's transaction)."""
    return (columns | {PERSON_KEY}) <= _columns(con, table) and \
        (person_columns | {PERSON_KEY}) <= _columns(con, PERSON_TABLE)


def _built(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str | None, set[str]]:
    """(inputs, columns) of the current copy of ``table``; (None, set()) when none."""
    row = con.execute(f'SELECT built_from, columns FROM "{BOOKKEEPING}" WHERE table_name = ?',
                      [table]).fetchall()
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                         [derived_name(table)]).fetchone()[0]
    return (row[0][0], set(row[0][1])) if row and exists else (None, set())


def _build(con: duckdb.DuckDBPyConnection, table: str, columns: set[str], inputs: str) -> None:
    lacks = set(borrowable(table))
    select = ", ".join(f'{"p" if c in lacks else "t"}."{c}"' for c in sorted(columns))
    con.execute(f'CREATE OR REPLACE TABLE "{derived_name(table)}" AS SELECT {select} '
                f'FROM "{table}" t LEFT JOIN "{PERSON_TABLE}" p '
                f'ON t."{PERSON_KEY}" = p."{PERSON_KEY}"')
    con.execute(f'INSERT OR REPLACE INTO "{BOOKKEEPING}" VALUES (?, ?, ?, now()::TIMESTAMP)',
                [table, inputs, sorted(columns)])


def refresh(con: duckdb.DuckDBPyConnection, needs: dict[str, set[str]]
            ) -> dict[str, frozenset[str]]:
    """Bring the copies up to date on the caller's transaction: ``needs`` maps an event
    table to the columns wanted from it (its own and borrowed). A copy missing, stale or
    lacking a column is (re)built with the columns it had and those wanted. Returns each
    table's columns available from its copy."""
    _ensure_bookkeeping(con)
    ready = {}
    for table in sorted(needs):
        lacks = set(borrowable(table))
        if not lacks:
            continue
        own = set(TABLES_BY_NAME[table].column_names)
        if not _present(con, table, needs[table] & own, needs[table] & lacks):
            continue  # the engine names what is missing for each indicator that needs it
        inputs = _inputs(con, table)
        built_from, columns = _built(con, table)
        wanted = {c for c in needs[table] | columns if c in own | lacks}
        if built_from != inputs or not wanted <= columns:
            _build(con, table, wanted, inputs)
            columns = wanted
        ready[table] = frozenset(columns)
    return ready


def drop_for(con: duckdb.DuckDBPyConnection, loaded_table: str) -> None:
    """Drop every copy that ``loaded_table`` feeds (all of them when people are loaded)."""
    if loaded_table != PERSON_TABLE and not borrowable(loaded_table):
        return  # it feeds no copy
    _ensure_bookkeeping(con)
    if loaded_table == PERSON_TABLE:
        affected = [r[0][len(PREFIX):] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
            [PREFIX]).fetchall()]
        affected += [r[0] for r in con.execute(f'SELECT table_name FROM "{BOOKKEEPING}"'
                                               ).fetchall()]
    else:
        affected = [loaded_table]
    for table in affected:
        con.execute(f'DROP TABLE IF EXISTS "{derived_name(table)}"')
        con.execute(f'DELETE FROM "{BOOKKEEPING}" WHERE table_name = ?', [table])
