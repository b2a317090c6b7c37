"""Cells that a spreadsheet would run as a formula are neutralised in every CSV and Excel
file Carepath writes.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets strip before reading) is prefixed with a single quote in a CSV file, so opening
an export never runs an attacker's formula (OWASP "CSV injection"). In an Excel file such a
cell is stored as text with Excel's own quote prefix (the mark a typed apostrophe leaves,
hidden): it never runs, even once edited, and reads exactly as the data (a visible
apostrophe made names differ from the database's; found by a user test). Numbers are left
alone: a negative number is not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from carepath.errors import REPLACE_FLAG, ValidationError, writing

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE_PREFIX = "'"
EXCEL_SHEET = "Sheet1"  # pandas' own default name, as exports have always had


def formula_like(value: object) -> bool:
    """Text a spreadsheet could run as a formula (a number written as text is not)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def neutralise(value: object) -> object:
    return QUOTE_PREFIX + value if formula_like(value) else value


def write_excel_sheet(writer: pd.ExcelWriter, frame: pd.DataFrame, sheet: str):
    """``frame`` as one sheet of an openpyxl workbook, formula-like text kept as text
    (see the module's note); returns the worksheet."""
    frame.to_excel(writer, sheet_name=sheet, index=False)
    worksheet = writer.sheets[sheet]
    for row in worksheet.iter_rows():
        for cell in row:
            if formula_like(cell.value):
                cell.data_type = "s"  # openpyxl took a leading '=' for a formula
                cell.quotePrefix = True
    return worksheet


# Tables written for spreadsheets: what --out accepts wherever a command writes one.
TABLE_SUFFIXES = (".csv", ".xlsx")


def check_output_path(path: Path, suffixes: tuple[str, ...] = TABLE_SUFFIXES, *,
                      replace: bool = True) -> None:
    """Refuse, before any work, a file that cannot be written or would be misnamed.

    A missing folder is refused rather than made: it is more often a typo than a wish, and
    every command that writes one file given by the user behaves the same way.
    ``replace=False`` (the commands' default) also refuses a file that exists: a name typed
    by mistake would otherwise write over someone's workbook without a word."""
    path = Path(path)
    if path.is_dir():
        raise ValidationError("is a folder; give a file name", where=str(path))
    if not replace and path.exists():
        raise ValidationError(f"already exists; add {REPLACE_FLAG} to write over it "
                              "(nothing was written)", where=str(path))
    if path.suffix.lower() not in suffixes:
        raise ValidationError(f"the file name must end {' or '.join(suffixes)} for what is "
                              "written", where=str(path))
    if not path.parent.is_dir():
        raise ValidationError(f"folder {str(path.parent)!r} does not exist", where=str(path))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised (column names too). Only cells
    starting as a formula may are touched, found with pandas' vectorised string methods:
    other cells keep their types (mapping every cell read a column of whole numbers and
    blanks as floats, 1855 written 1855.0), and a 2.5-million-row export is not walked
    cell by cell in Python."""
    out = frame.rename(columns=neutralise)
    for col in out.columns:
        column = out[col]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        try:  # other cells than text read NaN here, so never match
            starts = column.str[:1].isin(FORMULA_STARTS)
        except AttributeError:  # no text at all (whole numbers kept as objects)
            continue
        if starts.any():
            column = column.copy()
            column[starts] = column[starts].map(neutralise)
            out[col] = column
    return out


def write_table(frame: pd.DataFrame, path: Path,
                suffixes: tuple[str, ...] = TABLE_SUFFIXES, *, named: Path | None = None
                ) -> None:
    """Write ``frame`` by the file's suffix, all or nothing: it is written beside the
    target and moved over it, so a failure leaves no half-written file. CSV and Excel are
    neutralised; Parquet (read by tools, not spreadsheets) keeps text and types as they are.
    ``named``: the file the user asked for, named by an error, where ``path`` is a draft."""
    path = Path(path)
    check_output_path(path, suffixes)
    tmp = path.with_name(f".{path.name}.partial")
    suffix = path.suffix.lower()
    with writing(named or path):
        try:
            if suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            elif suffix == ".csv":
                neutralise_frame(frame).to_csv(tmp, index=False)
            else:
                with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                    write_excel_sheet(writer, frame, EXCEL_SHEET)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a CSV (UTF-8 with BOM so spreadsheets read it right); returns rows written."""
    count = 0
    with writing(path), Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow(["" if v is None else neutralise(v) for v in row])
            count += 1
    return count
