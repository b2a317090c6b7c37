"""Reading the quarantine and the load log (for `carepath quarantine` and `carepath loads`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from carepath.ingest.loader import loadable_table
from carepath.safe_export import check_output_path, write_csv
from carepath.workspace import Workspace
from carepath.workspace.loads import REPLACE_ACTION

QUARANTINE_COLUMNS = ("load_id", "table_name", "source", "row_number", "column_name",
                      "masked_value", "reason")
LOG_COLUMNS = ("load_id", "table_name", "source", "file_hash", "rows_read", "rows_loaded",
               "rows_quarantined", "loaded_by", "loaded_at")


# A load whose rows are still the table's: no later load of the same file into the same
# table (load-source --replace of a reissue), and none since the table was emptied (load
# --replace; a load and its replace share the transaction's time). The quarantine of a
# superseded load lists rows of a file as it no longer stands (a user test counted 15,750
# quarantined rows of a file that has 306).
CURRENT_LOADS = f"""SELECT l.load_id FROM load_log l
    WHERE NOT EXISTS (SELECT 1 FROM load_log later WHERE later.table_name = l.table_name
                      AND later.source = l.source AND later.loaded_at > l.loaded_at)
      AND l.loaded_at >= coalesce((SELECT max("at") FROM audit_log
                                   WHERE action = '{REPLACE_ACTION}'
                                   AND target = l.table_name), TIMESTAMP '-infinity')"""


def _filters(table: str | None, load_id: str | None, everything: bool = True
             ) -> tuple[str, list]:
    """``everything``: the rows of superseded loads too (an asked-for load is shown)."""
    where, params = [], []
    if table:  # an unknown table is an error, not an empty list
        where.append("table_name = ?")
        params.append(loadable_table(table, where="--table").name)
    if load_id:
        where.append("load_id = ?")
        params.append(load_id)
    elif not everything:
        where.append(f"load_id IN ({CURRENT_LOADS})")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def quarantined(ws: Workspace, *, table: str | None = None, load_id: str | None = None,
                limit: int | None = None, everything: bool = True) -> list[tuple]:
    where, params = _filters(table, load_id, everything)
    sql = (f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine{where} "
           "ORDER BY source, row_number, column_name")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ws.connect(read_only=True) as con:
        return con.execute(sql, params).fetchall()


def quarantine_summary(ws: Workspace, *, table: str | None = None,
                       load_id: str | None = None, everything: bool = True) -> list[tuple]:
    """(table, column, reason, rows) most frequent first."""
    where, params = _filters(table, load_id, everything)
    with ws.connect(read_only=True) as con:
        return con.execute(f"SELECT table_name, column_name, reason, count(*) FROM quarantine"
                           f"{where} GROUP BY ALL ORDER BY 4 DESC, 1, 2", params).fetchall()


def quarantined_file_rows(ws: Workspace, tables: Iterable[str]) -> dict[str, int]:
    """File rows of the current loads into ``tables`` that were quarantined, by table: rows
    in no figure computed from the table (140 cervical screening practices no loaded map
    held were left out of the national figure without a word: a walkthrough)."""
    wanted = sorted(set(tables))
    if not wanted:
        return {}
    with ws.connect(read_only=True) as con:
        return dict(con.execute(
            "SELECT table_name, count(DISTINCT (load_id, row_number)) FROM quarantine "
            f"WHERE table_name IN (SELECT unnest(?)) AND load_id IN ({CURRENT_LOADS}) "
            "GROUP BY 1 ORDER BY 1", [wanted]).fetchall())


def superseded_rows(ws: Workspace, *, table: str | None = None) -> int:
    """Quarantined rows of loads since superseded (left out unless asked for)."""
    where, params = _filters(table, None)
    clause = f"{where} AND" if where else " WHERE"
    with ws.connect(read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM quarantine{clause} load_id NOT IN "
                           f"({CURRENT_LOADS})", params).fetchone()[0]


def export_quarantine(ws: Workspace, path: Path, *, table: str | None = None,
                      load_id: str | None = None, everything: bool = True) -> int:
    """The quarantine as a CSV, a line per file row and problem with the table rows it
    stopped (``table_rows``): a published practice's row is a table row per programme,
    and two identical lines read as two bad practices (a walkthrough)."""
    check_output_path(Path(path), (".csv",))
    where, params = _filters(table, load_id, everything)
    with ws.connect(read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(QUARANTINE_COLUMNS)}, count(*) FROM quarantine"
                           f"{where} GROUP BY ALL ORDER BY source, row_number, column_name, "
                           "reason", params).fetchall()
    return write_csv(path, (*QUARANTINE_COLUMNS, "table_rows"), rows)


def load_log(ws: Workspace, *, table: str | None = None) -> list[tuple]:
    """The log's rows (``LOG_COLUMNS``) and whether each load's rows are still the
    table's: a load since superseded still read 'loaded N' (a check)."""
    where, params = _filters(table, None)
    with ws.connect(read_only=True) as con:
        return con.execute(f"SELECT {', '.join(LOG_COLUMNS)}, load_id IN ({CURRENT_LOADS}) "
                           f"FROM load_log{where} ORDER BY loaded_at, rowid",
                           params).fetchall()  # files in order
