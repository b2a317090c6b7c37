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
from carepath.ingest.readers import (
    BATCH_ROWS,
    HASH_CHUNK,
    BadRow,
    Batch,
    cell_text,
    check_header,
    line_break_marks,
)


def read_excel(path: Path, sheet: str | None = None) -> tuple[list[str], Iterator[Batch]]:
    import openpyxl  # imported here: only Excel loads pay for it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise ValidationError(f"not a readable .xlsx workbook ({type(exc).__name__})",
                              where=str(path)) from None
    if sheet is not None and sheet not in wb.sheetnames:
        raise ValidationError(f"no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}",
                              where=str(path))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    ws.reset_dimensions()  # some writers record a wrong sheet size
    rows = ws.iter_rows(values_only=True)
    header_row, header = 0, None
    for values in rows:
        header_row += 1
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


def _unsaved_formula(values: tuple, texts: tuple, width: int) -> int | None:
    """The first column whose cell is a formula with no saved result, if any."""
    for i in range(min(width, len(values), len(texts))):
        if values[i] is None and texts[i] is not None:
            return i
    return None


def _excel_rows_to_batches(rows, header: list[str], header_row: int, formulas=None
                           ) -> Iterator[Batch]:
    width = len(header)
    buf: list[list[str | None]] = [[] for _ in header]
    numbers: list[int] = []
    bad: list[BadRow] = []
    for number, values in enumerate(rows, start=header_row + 1):
        texts = next(formulas, ()) if formulas is not None else ()
        if texts and (col := _unsaved_formula(values, texts, width)) is not None:
            bad.append(BadRow(number, f"column {header[col]!r} is a formula with no saved "
                              "result (the workbook was written by a program and never "
                              "saved in Excel): open and save it in Excel, or save it as CSV"))
            continue
        cells = [cell_text(v) for v in values]
        if all(c in (None, "") for c in cells):
            continue  # blank spreadsheet rows are layout, not records
        extra = [c for c in cells[width:] if c not in (None, "")]
        if extra:
            bad.append(BadRow(number, f"row has {width + len(extra)} or more cells, the "
                              f"header has {width}"))
            continue
        cells += [None] * (width - len(cells))
        for i in range(width):
            buf[i].append(cells[i])
        numbers.append(number)
        if len(numbers) >= BATCH_ROWS:
            yield _excel_batch(header, buf, numbers, bad)
            buf, numbers, bad = [[] for _ in header], [], []
    if numbers or bad:
        yield _excel_batch(header, buf, numbers, bad)


def _excel_batch(header, buf, numbers, bad) -> Batch:
    cols = {h: pa.array(buf[i], pa.string()) for i, h in enumerate(header)}
    return Batch(cols, np.array(numbers, dtype=np.int64), list(bad),
                 line_breaks=line_break_marks(cols))
