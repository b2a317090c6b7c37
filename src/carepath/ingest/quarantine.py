"""Reading the quarantine and the load log (for `carepath quarantine` and `carepath loads`)."""

from __future__ import annotations

from pathlib import Path

from carepath.ingest.loader import loadable_table
from carepath.safe_export import check_output_path, write_csv
from carepath.workspace import Workspace

QUARANTINE_COLUMNS = ("load_id", "table_name", "source", "row_number", "column_name",
                      "masked_value", "reason")
LOG_COLUMNS = ("load_id", "table_name", "source", "file_hash", "rows_read", "rows_loaded",
               "rows_quarantined", "loaded_by", "loaded_at")


def _filters(table: str | None, load_id: str | None) -> tuple[str, list]:
    where, params = [], []
    if table:  # an unknown table is an error, not an empty list
        where.append("table_name = ?")
        params.append(loadable_table(table, where="--table").name)
    if load_id:
        where.append("load_id = ?")
        params.append(load_id)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def quarantined(ws: Workspace, *, table: str | None = None, load_id: str | None = None,
                limit: int | None = None) -> list[tuple]:
    where, params = _filters(table, load_id)
    sql = (f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine{where} "
           "ORDER BY source, row_number, column_name")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ws.connect(read_only=True) as con:
        return con.execute(sql, params).fetchall()


def quarantine_summary(ws: Workspace, *, table: str | None = None,
                       load_id: str | None = None) -> list[tuple]:
    """(table, column, reason, rows) most frequent first."""
    where, params = _filters(table, load_id)
    with ws.connect(read_only=True) as con:
        return con.execute(f"SELECT table_name, column_name, reason, count(*) FROM quarantine"
                           f"{where} GROUP BY ALL ORDER BY 4 DESC, 1, 2", params).fetchall()


def export_quarantine(ws: Workspace, path: Path, *, table: str | None = None,
                      load_id: str | None = None) -> int:
    check_output_path(Path(path), (".csv",))
    return write_csv(path, QUARANTINE_COLUMNS, quarantined(ws, table=table, load_id=load_id))


def load_log(ws: Workspace, *, table: str | None = None) -> list[tuple]:
    where, params = _filters(table, None)
    with ws.connect(read_only=True) as con:
        return con.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM load_log{where} "
                           "ORDER BY loaded_at, rowid", params).fetchall()  # files in order
