"""Schema migrations. ``MIGRATIONS[n]`` upgrades a workspace from version n-1 to n.

A migration runs inside the transaction that opens an older workspace, so a failed upgrade
leaves it as it was. After the migrations, every table of the current schema is created if
it is missing (``CREATE TABLE IF NOT EXISTS``), which is all version 1 needs.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from carepath.model.schema import ALL_TABLES, SERVICE_PAYERS


def _create_missing_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL_TABLES:
        con.execute(table.ddl())


def _payers_by_year(con: duckdb.DuckDBPyConnection) -> None:
    """service_payers gains a year: one set of payers per service added one year's shares to
    another's (an economics audit). Each service's stored payers are given to every year it
    has; a workspace whose catalogue had payers changing by year should load it again."""
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = "
        "'service_payers'").fetchall()}
    if not columns or "year" in columns:
        return
    con.execute("CREATE TEMP TABLE _payers_before AS SELECT * FROM service_payers")
    con.execute("DROP TABLE service_payers")
    con.execute(SERVICE_PAYERS.ddl())
    con.execute("INSERT INTO service_payers (service_id, year, payer_code, share) "
                "SELECT p.service_id, s.year, p.payer_code, p.share FROM _payers_before p "
                "JOIN (SELECT DISTINCT service_id, year FROM services) s USING (service_id)")
    con.execute("DROP TABLE _payers_before")


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    1: _create_missing_tables,
    2: _create_missing_tables,  # releases, released_cells (carepath.disclosure.releases)
    3: _payers_by_year,
    4: _create_missing_tables,  # definition_versions (carepath.engine.versions)
}


def upgrade(con: duckdb.DuckDBPyConnection, from_version: int, to_version: int) -> None:
    for version in range(from_version + 1, to_version + 1):
        MIGRATIONS[version](con)
    _create_missing_tables(con)
