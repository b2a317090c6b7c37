"""The loads that changed a table's rows: what indicator values and person-column copies
are built from, and so what makes them out of date.

A load that quarantined every row left the table as it was, so it does not count, unless
it came with ``--replace``: that emptied the table (``load``) or removed the rows whose keys
the file reissues (``load-source``) in the same transaction, so its audit entry has the
load's own timestamp.
"""

from __future__ import annotations

import duckdb
import pandas as pd

# The audit action of `load --replace` emptying a table.
REPLACE_ACTION = "replace table"
# The audit action of `load-source --replace` removing the rows a file reissues.
REPLACE_ROWS_ACTION = "replace rows"

_DATA_LOADS = (
    "SELECT table_name, load_id FROM load_log l WHERE rows_loaded > 0 OR EXISTS ("
    "SELECT 1 FROM audit_log a WHERE a.action IN (?, ?) AND a.target = l.table_name "
    "AND a.\"at\" = l.loaded_at)")


def data_loads(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None
               ) -> pd.DataFrame:
    """(table_name, load_id) of every load that changed its table's rows; of ``tables``
    only, when given."""
    if tables is None:
        return con.execute(_DATA_LOADS, [REPLACE_ACTION, REPLACE_ROWS_ACTION]).df()
    return con.execute(f"SELECT * FROM ({_DATA_LOADS}) WHERE list_contains(?, table_name)",
                       [REPLACE_ACTION, REPLACE_ROWS_ACTION, tables]).df()
