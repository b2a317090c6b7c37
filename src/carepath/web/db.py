"""The web app's database access: one DuckDB connection per server, a cursor per request.

DuckDB allows one writing process per file. The server keeps a read-write connection for its
lifetime (writes: logins to the audit log, peer-review records) and hands each request its
own cursor, which is cheap and safe across threads. Business-logic functions that open
``ws.transaction()`` in the same process share the same database instance. While the server
runs, other processes (``carepath compute``) cannot write: stop the server first.

For page authors: inside the server use the request's connection (``Depends(get_con)``), never
``ws.connect(read_only=True)``: DuckDB refuses a second connection to the same file with a
different configuration in one process. ``ws.transaction()`` (read-write) is fine for writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import duckdb
from fastapi import Request

from carepath.workspace import Workspace


class Database:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._con: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        if self._con is None:
            self._con = duckdb.connect(str(self.ws.db_path))

    def cursor(self) -> duckdb.DuckDBPyConnection:
        self.open()
        return self._con.cursor()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


async def get_con(request: Request) -> AsyncIterator[duckdb.DuckDBPyConnection]:
    """FastAPI caches a dependency per request, so every user of it shares one cursor.
    (async: making a cursor does not block, and it saves a hop to the thread pool.)"""
    cur = request.app.state.db.cursor()
    try:
        yield cur
    finally:
        cur.close()
