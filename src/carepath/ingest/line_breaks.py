"""Values running over lines of a file: a quote left open that swallowed the rows after it
(refused), or a line break typed in a cell (kept where Carepath does not load the column)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPANNING_LINES = ("a value runs over {lines:,} lines of the file: a quote left open joins the "
                  "lines after it into this row; close the quote and load the file again")
# A value over several lines that holds no rows of the file: a line break typed in a cell.
# Fine in a column Carepath does not load (free-text notes); refused in one it does.
# (In a Parquet or Excel file, where no quote can be left open, every such value is one.)
VALUE_OVER_LINES = ("a value runs over {lines:,} lines: no column of the data model holds "
                    "more than one line (a line break typed in the cell?)")
# A line break as any file writes one.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_break_marks(columns: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """Name -> which rows' values hold a line break, for the columns with any."""
    hits = {}
    for name, col in columns.items():
        if may_hold_line_breaks(col):
            hit = pc.fill_null(pc.match_substring_regex(col, "[\r\n]"), False).to_numpy(
                zero_copy_only=False)
            if hit.any():
                hits[name] = hit
    return hits


def swallows_rows(text: str, delim: str, fields: int) -> bool:
    """Whether text running over lines holds rows of the file: a later line with as many
    delimiters as a row of ``fields`` fields has (free text seldom has)."""
    row_like = max(1, fields - 1)
    return any(line.count(delim) >= row_like
               for line in LINE_BREAK.split(text.rstrip("\r\n"))[1:])


def lines_of(value: str) -> int:
    """Lines of the file a value took (its last line break, ending the file, aside)."""
    return len(LINE_BREAK.findall(value.rstrip("\r\n"))) + 1


LINE_BREAK_BYTES = (ord("\n"), ord("\r"))


def may_hold_line_breaks(col: pa.Array) -> bool:
    """Whether any byte of the column's text is a line break: one pass over its data
    buffer, far cheaper than a regular expression per value. A sliced column's buffer
    may hold text outside the slice; that only sends it to the exact test."""
    if not pa.types.is_string(col.type):
        return True
    data = col.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    return any(bool((raw == b).any()) for b in LINE_BREAK_BYTES)
