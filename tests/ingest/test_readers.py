"""The reader's cheap test for line breaks inside values (issue 5's ingest speed): it may
send a column to the exact test needlessly, but must never wave one through."""

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from carepath.ingest.readers import _may_hold_line_breaks, _one_line_rows

from .ingest_helpers import rows, write
from .test_bad_input import ORG_HEADER, load

TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"\r\n\u00a0é")), max_size=6)


@given(st.lists(st.one_of(st.none(), TEXT), max_size=30), st.integers(0, 30),
       st.integers(0, 30))
def test_a_column_with_a_line_break_is_never_waved_through(values, start, length):
    column = pa.array(values, pa.string()).slice(start, length)
    holds = any(v is not None and ("\n" in v or "\r" in v) for v in column.to_pylist())
    if holds:
        assert _may_hold_line_breaks(column)
    _, kept, bad = _one_line_rows([column], np.arange(len(column)))
    assert len(bad) == sum(v is not None and ("\n" in v or "\r" in v)
                           for v in column.to_pylist())
    assert len(kept) + len(bad) == len(column)


def test_a_column_without_text_is_tested_exactly():
    assert _may_hold_line_breaks(pa.array([1, 2]))
    assert not _may_hold_line_breaks(pa.array(["a", None, "b c"]))
    assert not _may_hold_line_breaks(pa.array([None, None], pa.string()))


def test_a_value_broken_by_a_carriage_return_alone_is_refused(ws, tmp_path):
    """Old Mac files end lines with CR: a quoted value holding one runs over lines too."""
    text = ORG_HEADER + 'A1,"One\rpractice",practice,2020-01-01\nA2,Two,practice,2020-01-01\n'
    res = load(ws, write(tmp_path / "cr.csv", text))
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (2, 1, 1)
    (reason,) = rows(ws, "SELECT reason FROM quarantine WHERE row_number = 2")[0]
    assert reason.startswith("a value runs over 2 lines of the file")
