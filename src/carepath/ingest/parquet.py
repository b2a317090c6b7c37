"""Parquet files, read in batches with pyarrow and turned into text columns like the
other readers, so one validation types every format the same way.

Arrow types that text would misread are refused or marked here: a duration would be its
raw count of microseconds, a 32-bit float cannot hold a ten-digit number (an NHS number
read as another person's), bytes may not be text at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from carepath.errors import ValidationError
from carepath.ingest.line_breaks import line_break_marks
from carepath.ingest.readers import (
    BATCH_ROWS,
    HEADER_ROW,
    Batch,
    cell_text,
    check_header,
)

# The largest whole number a float of each width holds exactly, with every number below
# it: beyond, a stored 9665377752 may come back as 9665377280.
EXACT_WHOLE = {16: 2**11, 32: 2**24, 64: 2**53}
IMPRECISE = ("a {bits}-bit float cannot hold this whole number exactly (beyond "
             "{limit:,} it rounds, and may become another valid number): store whole "
             "numbers as integers or text")


def read_parquet(path: Path) -> tuple[list[str], Iterator[Batch]]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError(f"not a readable Parquet file ({exc})", where=str(path)) from None
    names = list(pf.schema_arrow.names)
    check_header(path, [n.strip() for n in names])  # as they are matched: trimmed
    _refuse_types(path, pf.schema_arrow)
    return names, _parquet_batches(path, pf, names)


def _refuse_types(path: Path, schema: pa.Schema) -> None:
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise ValidationError(f"columns holding lists or structures cannot be loaded: "
                              f"{', '.join(nested)}; flatten them to one value per cell",
                              where=str(path))
    spans = [f.name for f in schema if pa.types.is_duration(f.type) or
             pa.types.is_interval(f.type)]
    if spans:
        raise ValidationError(f"columns holding durations cannot be loaded: "
                              f"{', '.join(spans)} (as text they would be counts of "
                              "micro- or nanoseconds); store them as whole days",
                              where=str(path))


def _parquet_batches(path: Path, pf: pq.ParquetFile, names: list[str]) -> Iterator[Batch]:
    start = HEADER_ROW + 1
    batches = pf.iter_batches(batch_size=BATCH_ROWS)
    while True:
        try:
            rb = next(batches, None)
            if rb is None:
                return
            texts = {n: _as_text(rb.column(i)) for i, n in enumerate(names)}
        except (pa.ArrowInvalid, OSError) as exc:
            raise ValidationError(f"the Parquet file cannot be read past row {start - 1:,} "
                                  f"({_first_line(exc)})", where=str(path)) from None
        cols = {n: text for n, (text, _) in texts.items()}
        problems = {n: {int(i): reason for i in rows}
                    for n, (_, (rows, reason)) in texts.items() if len(rows)}
        yield Batch(cols, np.arange(start, start + rb.num_rows, dtype=np.int64),
                    line_breaks=line_break_marks(cols), cell_problems=problems)
        start += rb.num_rows


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


NO_PROBLEMS = (np.array([], dtype=np.int64), "")


def _as_text(arr: pa.Array) -> tuple[pa.Array, tuple[np.ndarray, str]]:
    """The column as text, and the rows whose value the text cannot be trusted for (with
    why). Bytes that are not UTF-8 raise ArrowInvalid (the caller names the file)."""
    if pa.types.is_string(arr.type):
        return arr, NO_PROBLEMS
    if pa.types.is_floating(arr.type):
        return _float_text(arr)
    return arr.cast(pa.string()), NO_PROBLEMS


def _float_text(arr: pa.Array) -> tuple[pa.Array, tuple[np.ndarray, str]]:
    """Whole floats without '.0' (integer columns stored as float still load); a narrow
    float's fraction as written (23.45, not 23.450000762939453); whole numbers beyond
    what the float holds exactly marked."""
    bits = arr.type.bit_width
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    values = arr.fill_null(0).to_numpy(zero_copy_only=False)
    wide = values.astype(np.float64)
    whole = np.isfinite(wide) & (np.mod(wide, 1) == 0)
    texts = [None if not ok else cell_text(float(w)) if is_whole or bits == 64 else str(v)
             for ok, v, w, is_whole in zip(valid, values, wide, whole, strict=True)]
    beyond = np.flatnonzero(valid & whole & (np.abs(wide) > EXACT_WHOLE[bits]))
    return pa.array(texts, pa.string()), (beyond, IMPRECISE.format(bits=bits,
                                                                   limit=EXACT_WHOLE[bits]))
