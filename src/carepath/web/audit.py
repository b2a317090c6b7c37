"""Audit events from the web app: logins, person-level views, exports, changes.

Append-only: the web app only ever inserts into ``audit_log``; no route updates or deletes
it (a test checks the source). Details never hold identifiable values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

MAX_AUDIT_ROWS = 500


def record(con: duckdb.DuckDBPyConnection, *, actor: str, action: str, target: str | None,
           detail: dict | None = None) -> None:
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
                [datetime.now(UTC).replace(tzinfo=None), actor, action, target,
                 json.dumps(detail or {}, default=str)])


def recent(con: duckdb.DuckDBPyConnection, *, limit: int = MAX_AUDIT_ROWS,
           action: str | None = None, actor: str | None = None) -> pd.DataFrame:
    where, params = [], []
    if action:
        where.append("action LIKE ?")
        params.append(action.replace("%", "") + "%")
    if actor:
        where.append("actor = ?")
        params.append(actor)
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return con.execute(sql + " ORDER BY audit_log.at DESC LIMIT ?", [*params, limit]).df()
