"""Write generated columns (numpy arrays) into workspace tables through Arrow.

No Python row loops: each batch becomes one Arrow table that DuckDB scans in an
``INSERT ... SELECT``. Integer identifiers are turned into text identifiers in SQL, so
the same integer always gives the same identifier, whichever table it appears in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from carepath.model.schema import table as schema_table

# Prefix of each text identifier made from an integer. patient_id is special: a keyed
# pseudonym (first 16 hex digits of an MD5 of seed and number) so it looks like the
# pseudonyms ingest makes and carries no order.
ID_PREFIX = {
    "referral_id": "R",
    "tumour_id": "T",
    "treatment_id": "X",
    "event_id": "E",
    "admission_id": "A",
    "respondent_id": "V",
}
ID_WIDTH = 9
ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(),
               "date": pa.date32(), "bool": pa.bool_(), "timestamp": pa.timestamp("us")}


def coded(index: np.ndarray, codes: tuple, mask: np.ndarray | None = None) -> pa.Array:
    """A dictionary-encoded text column from integer positions in a code list."""
    idx = pa.array(np.asarray(index, dtype=np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array([str(c) for c in codes]))


def dates(values: np.ndarray) -> pa.Array:
    """A date column; NaT becomes NULL (missing)."""
    values = np.asarray(values, dtype="datetime64[D]")
    return pa.array(values, mask=np.isnat(values))


def ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=mask)


@dataclass
class TableWriter:
    """Appends batches to data tables on one connection and counts rows per table."""

    con: duckdb.DuckDBPyConnection
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent inserting

    def _expr(self, name: str, batch: pa.Table) -> str:
        if name not in batch.column_names:
            return "NULL"
        col = f'b."{name}"'
        kind = batch.schema.field(name).type
        if pa.types.is_integer(kind) and (name == "patient_id" or name in ID_PREFIX):
            if name == "patient_id":
                return f"substr(md5('synth-{self.seed}-' || {col}::VARCHAR), 1, 16)"
            return f"'{ID_PREFIX[name]}' || lpad({col}::VARCHAR, {ID_WIDTH}, '0')"
        return col

    def append(self, table_name: str, columns: dict[str, pa.Array | np.ndarray]) -> None:
        spec = schema_table(table_name)
        unknown = set(columns) - set(spec.column_names)
        if unknown:
            raise ValueError(f"{table_name}: generator produced unknown columns {sorted(unknown)}")
        batch = pa.table({k: v if isinstance(v, pa.Array) else pa.array(v)
                          for k, v in columns.items()})
        if batch.num_rows == 0:
            return
        select = ", ".join(f'{self._expr(c, batch)} AS "{c}"' for c in spec.column_names)
        started = time.perf_counter()
        self.con.register("synth_batch", batch)
        try:
            self.con.execute(f'INSERT INTO "{table_name}" SELECT {select} FROM synth_batch b')
        finally:
            self.con.unregister("synth_batch")
        self.seconds[table_name] = (self.seconds.get(table_name, 0.0)
                                    + time.perf_counter() - started)
        self.rows[table_name] = self.rows.get(table_name, 0) + batch.num_rows

    def append_rows(self, table_name: str, rows: list[tuple]) -> None:
        """Small tables (organisations, services) given as tuples in schema order."""
        if not rows:
            return
        spec = schema_table(table_name)
        columns = list(zip(*rows, strict=True))
        self.append(table_name, {c.name: pa.array(list(values), type=ARROW_TYPES[c.type])
                                 for c, values in zip(spec.columns, columns, strict=True)})
