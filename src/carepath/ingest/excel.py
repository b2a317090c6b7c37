"""Excel workbooks, read with openpyxl (DuckDB's Excel extension downloads itself at run
time, which Carepath does not allow), in batches like the other readers.

A formula's result is read as Excel last saved it. A workbook written by a program and
never opened in Excel holds formulas with no saved result: such a cell is told apart from a
blank one by reading the formulas too, which only sheets holding a formula pay for.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from carepath.errors import ValidationError
from carepath.ingest.line_breaks import line_break_marks
from carepath.ingest.readers import (
    BATCH_ROWS,
    HASH_CHUNK,
    BadRow,
    Batch,
    cell_text,
    check_header,
)
from carepath.ingest.validate import EXCEL_ERROR_NAMED

# How an OLE compound file starts: what Excel writes for a workbook with a password (its
# encrypted package) and for the old .xls format. An .xlsx is a zip file.
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def read_excel(path: Path, sheet: str | None = None) -> tuple[list[str], Iterator[Batch]]:
    import openpyxl  # imported here: only Excel loads pay for it

    with path.open("rb") as f:
        if f.read(len(OLE_MAGIC)) == OLE_MAGIC:
            raise ValidationError("a workbook with a password (or an old .xls kept as "
                                  ".xlsx): save it as .xlsx without a password, or as CSV",
                                  where=str(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise ValidationError(f"not a readable .xlsx workbook ({type(exc).__name__})",
                              where=str(path)) from None
    ws = _sheet(path, wb, sheet)
    ws.reset_dimensions()  # some writers record a wrong sheet size
    rows = ws.iter_rows()  # cells, not values: a cell's type tells an error from text
    header_row, header = 0, None
    for cells in rows:
        header_row += 1
        values = [c.value for c in cells]
        if any(v not in (None, "") for v in values):
            header = [cell_text(v) or "" for v in values]
            break
    if header is None:
        raise ValidationError("the sheet is empty (no header row)", where=f"{path} [{ws.title}]")
    while header and not header[-1]:
        header.pop()
    header = [h.strip() for h in header]
    check_header(path, header)
    books = [wb]
    formulas = None
    if _has_formulas(wb, ws):  # read their text too, to tell an unsaved result from a blank
        books.append(openpyxl.load_workbook(path, read_only=True, data_only=False))
        formulas = books[-1][ws.title]
        formulas.reset_dimensions()
        formulas = itertools.islice(formulas.iter_rows(values_only=True), header_row, None)
    return header, _excel_batches(rows, header, header_row, books, formulas)


def _sheet(path: Path, wb, name: str | None):
    """The sheet named, else the first sheet a person sees: a hidden sheet before it is
    often an old extract kept out of sight (a user test loaded one)."""
    if name is not None:
        if name not in wb.sheetnames:
            raise ValidationError(f"no sheet {name!r}; sheets: {', '.join(wb.sheetnames)}",
                                  where=str(path))
        if name not in [w.title for w in wb.worksheets]:  # a chart sheet raised an
            # AttributeError (a check)
            raise ValidationError(f"sheet {name!r} is a chart, not a sheet of cells; "
                                  f"worksheets: {', '.join(w.title for w in wb.worksheets)}",
                                  where=str(path))
        return wb[name]
    if not wb.worksheets:
        raise ValidationError("the workbook has no worksheet (only charts, or none)",
                              where=str(path))
    shown = [w for w in wb.worksheets if w.sheet_state == "visible"]
    if not shown:
        raise ValidationError("every sheet of the workbook is hidden; name the one to load "
                              f"with --sheet (sheets: {', '.join(wb.sheetnames)})",
                              where=str(path))
    return shown[0]


# A formula's tag in a sheet's XML, with or without a namespace prefix.
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(wb, ws) -> bool:
    """Whether the sheet holds any formula (most extracts hold none: one pass suffices)."""
    tail = b""
    with wb._archive.open(ws._worksheet_path) as src:  # openpyxl keeps the zip open
        while chunk := src.read(HASH_CHUNK):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _excel_batches(rows, header: list[str], header_row: int, books, formulas
                   ) -> Iterator[Batch]:
    try:
        yield from _excel_rows_to_batches(rows, header, header_row, formulas)
    finally:
        for book in books:
            book.close()  # also when the load stops early (--strict, an error)


UNSAVED = ("a formula with no saved result (the workbook was written by a program and "
           "never saved in Excel): open and save it in Excel, or save it as CSV")


def _row_values(cells, texts: tuple, width: int) -> tuple[list, dict[int, str]]:
    """A row's values, and the columns (up to the header's width) whose cell cannot be
    read: an error value, or a formula with no saved result. A formula whose saved
    result is empty text is empty text."""
    values, problems = [], {}
    for i, cell in enumerate(cells):
        value, kind = cell.value, cell.data_type
        if kind == "str" and value is None:
            value = ""
        elif i < width and kind == "e":
            problems[i] = EXCEL_ERROR_NAMED.format(value=value)
        elif i < width and value is None and i < len(texts) and texts[i] is not None:
            problems[i] = UNSAVED
        values.append(value)
    return values, problems


def _excel_rows_to_batches(rows, header: list[str], header_row: int, formulas=None
                           ) -> Iterator[Batch]:
    width = len(header)
    buf: list[list[str | None]] = [[] for _ in header]
    numbers: list[int] = []
    bad: list[BadRow] = []
    problems: dict[str, dict[int, str]] = {}
    blank = 0
    for number, cells in enumerate(rows, start=header_row + 1):
        texts = next(formulas, ()) if formulas is not None else ()
        values, unreadable = _row_values(cells, texts, width)
        cells = [cell_text(v) for v in values]
        if all(c in (None, "") for c in cells) and not unreadable:
            blank += 1
            continue  # blank spreadsheet rows are layout, not records
        extra = [c for c in cells[width:] if c not in (None, "")]
        if extra:
            bad.append(BadRow(number, f"row has {width + len(extra)} or more cells, the "
                              f"header has {width}"))
            continue
        for i, reason in unreadable.items():
            problems.setdefault(header[i], {})[len(numbers)] = reason
        cells += [None] * (width - len(cells))
        for i in range(width):
            buf[i].append(cells[i])
        numbers.append(number)
        if len(numbers) >= BATCH_ROWS:
            yield _excel_batch(header, buf, numbers, bad, problems, blank)
            buf, numbers, bad, problems, blank = [[] for _ in header], [], [], {}, 0
    if numbers or bad or blank:
        yield _excel_batch(header, buf, numbers, bad, problems, blank)


def _excel_batch(header, buf, numbers, bad, problems, blank) -> Batch:
    cols = {h: pa.array(buf[i], pa.string()) for i, h in enumerate(header)}
    return Batch(cols, np.array(numbers, dtype=np.int64), list(bad), blank_rows=blank,
                 line_breaks=line_break_marks(cols), cell_problems=problems)
