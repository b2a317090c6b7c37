"""The reader's cheap test for line breaks inside values (issue 5's ingest speed): it may
send a column to the exact test needlessly, but must never wave one through."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepath.ingest.line_breaks import may_hold_line_breaks
from carepath.ingest.readers import _rows_over_lines

from .ingest_helpers import rows, write
from .test_bad_input import ORG_HEADER, load

TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"\r\n\u00a0é")), max_size=6)


@given(st.lists(st.one_of(st.none(), TEXT), max_size=30), st.integers(0, 30),
       st.integers(0, 30))
def test_a_column_with_a_line_break_is_never_waved_through(values, start, length):
    column = pa.array(values, pa.string()).slice(start, length)
    holds = any(v is not None and ("\n" in v or "\r" in v) for v in column.to_pylist())
    if holds:
        assert may_hold_line_breaks(column)
    _, kept, bad, marks = _rows_over_lines([column], np.arange(len(column)), ["c"], ",")
    # Every value over lines is refused here or marked for the loader, never waved through.
    marked = int(marks["c"].sum()) if "c" in marks else 0
    assert len(bad) + marked == sum(v is not None and ("\n" in v or "\r" in v)
                                    for v in column.to_pylist())
    assert len(kept) + len(bad) == len(column)


def test_a_column_without_text_is_tested_exactly():
    assert may_hold_line_breaks(pa.array([1, 2]))
    assert not may_hold_line_breaks(pa.array(["a", None, "b c"]))
    assert not may_hold_line_breaks(pa.array([None, None], pa.string()))


def test_a_value_broken_by_a_carriage_return_alone_is_refused(ws, tmp_path):
    """Old Mac files end lines with CR: a quoted value holding one runs over lines too."""
    text = ORG_HEADER + 'A1,"One\rpractice",practice,2020-01-01\nA2,Two,practice,2020-01-01\n'
    res = load(ws, write(tmp_path / "cr.csv", text))
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (2, 1, 1)
    reason = ("a value runs over 2 lines: no column of the data model holds "
              "more than one line (a line break typed in the cell?)")
    assert rows(ws, "SELECT column_name, masked_value, reason FROM quarantine") == [
        ("name", "One / practice", reason)]


NOTES_HEADER = "org_code,name,org_type,valid_from,notes\n"


def test_free_text_over_lines_in_a_column_not_loaded_keeps_its_row(ws, tmp_path):
    """An extract's notes column with line breaks typed in it quarantined every such row
    as 'a quote left open' (found by a user test): the column is not loaded."""
    text = NOTES_HEADER + 'A1,One,practice,2020-01-01,"Seen by Dr X.\nCall back, Tuesday."\n' \
        'A2,Two,practice,2020-01-01,"one line"\nA3,Three,practice,2020-01-01,"a\r\nb\r\nc"\n'
    res = load(ws, write(tmp_path / "notes.csv", text))
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (3, 3, 0)
    assert rows(ws, "SELECT org_code FROM organisations ORDER BY 1") == [
        ("A1",), ("A2",), ("A3",)]


@pytest.mark.parametrize(("text", "reason"), [
    # closed in a column not loaded: the rows it swallowed are not free text
    (NOTES_HEADER + 'A1,One,practice,2020-01-01,"note\nA2,Two,practice,2020-01-01,x\n'
     'A3,Three,practice,2020-01-01,end"\nA4,Four,practice,2020-01-01,\n',
     "a value runs over 3 lines of the file: a quote left open"),
    # closed with too many fields: the parser refuses the row, which says what it took
    (ORG_HEADER + 'A1,"One,practice\n2020-01-01,x",practice,2020-01-01,extra\n'
     'A4,Four,practice,2020-01-01\n',
     "row has 5 fields, the header has 4 and 2 lines of the file read as this one row"),
])
def test_a_quote_left_open_and_closed_later_quarantines_the_rows_it_joined(ws, tmp_path, text,
                                                                            reason):
    res = load(ws, write(tmp_path / "joined.csv", text))
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (2, 1, 1)
    assert rows(ws, "SELECT reason FROM quarantine")[0][0].startswith(reason)
    assert rows(ws, "SELECT org_code FROM organisations") == [("A4",)]


def test_free_text_over_lines_in_the_last_row_does_not_refuse_the_file(ws, tmp_path):
    text = NOTES_HEADER + "A1,One,practice,2020-01-01,x\n" \
        'A2,Two,practice,2020-01-01,"last note\nover two lines"\n'
    res = load(ws, write(tmp_path / "last.csv", text))
    assert (res.rows_read, res.rows_loaded) == (2, 2)
