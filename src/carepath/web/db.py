"""The web app's database access: one DuckDB connection per server, a cursor per request.

DuckDB allows one writing process per file. The server keeps a read-write connection for its
lifetime (writes: logins to the audit log, peer-review records) and hands each request its
own cursor (pooled: reused by later requests, never by two at once), safe across threads.
Business-logic functions that open ``ws.transaction()`` in the same process share the same
database instance. While the server runs, other processes (``carepath compute``) cannot
write: stop the server first.

For page authors: inside the server use the request's connection (``Depends(get_con)``), never
``ws.connect(read_only=True)``: DuckDB refuses a second connection to the same file with a
different configuration in one process. ``ws.transaction()`` (read-write) is fine for writes.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import duckdb
from fastapi import Request

from carepath.workspace import Workspace

# Idle cursors kept for reuse: making one costs about a millisecond (it is a new connection
# to the same database instance), a visible share of a cached page's time.
MAX_IDLE_CURSORS = 64


class Database:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._con: duckdb.DuckDBPyConnection | None = None
        self._idle: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        if self._con is None:
            self._con = duckdb.connect(str(self.ws.db_path))

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.open()
            return self._con.cursor()

    def release(self, cur: duckdb.DuckDBPyConnection, *, clean: bool) -> None:
        """Give a request's cursor back: kept for the next request if the request ended
        cleanly, closed otherwise (it might hold an unfinished transaction)."""
        with self._lock:
            if clean and self._con is not None and len(self._idle) < MAX_IDLE_CURSORS:
                self._idle.append(cur)
                return
        cur.close()

    def close(self) -> None:
        with self._lock:
            for cur in self._idle:
                cur.close()
            self._idle.clear()
            if self._con is not None:
                self._con.close()
                self._con = None


async def get_con(request: Request) -> AsyncIterator[duckdb.DuckDBPyConnection]:
    """FastAPI caches a dependency per request, so every user of it shares one cursor.
    (async: taking a cursor does not block, and it saves a hop to the thread pool.)"""
    db = request.app.state.db
    cur = db.cursor()
    try:
        yield cur
    except BaseException:
        db.release(cur, clean=False)
        raise
    db.release(cur, clean=True)
