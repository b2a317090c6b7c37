"""Schema migrations. ``MIGRATIONS[n]`` upgrades a workspace from version n-1 to n.

A migration runs inside the transaction that opens an older workspace, so a failed upgrade
leaves it as it was. After the migrations, every table of the current schema is created if
it is missing (``CREATE TABLE IF NOT EXISTS``), which is all version 1 needs.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from carepath.model.schema import ALL_TABLES


def _create_missing_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL_TABLES:
        con.execute(table.ddl())


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    1: _create_missing_tables,
    2: _create_missing_tables,  # releases, released_cells (carepath.disclosure.releases)
}


def upgrade(con: duckdb.DuckDBPyConnection, from_version: int, to_version: int) -> None:
    for version in range(from_version + 1, to_version + 1):
        MIGRATIONS[version](con)
    _create_missing_tables(con)
