"""Excel and Parquet cells whose text is not their value (a bad-input hunt): an Excel error,
a formula never saved, a hidden sheet, a duration, a float too narrow for its number.
Each is refused where it would be loaded, naming the column; nothing is stored wrong."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import NHS_A, rows, snapshot, write

from carepath.errors import ValidationError
from carepath.ingest import load_files

ORG_COLUMNS = ["org_code", "name", "org_type", "valid_from"]


def load(ws, path, table="organisations", **kw):
    return load_files(ws, table, [path], **kw)[0]


def _edit_part(path, part: str, edit) -> None:
    """Rewrite one part of an .xlsx (a zip of XML files) with ``edit(bytes) -> bytes``, as
    Excel would have saved it where openpyxl will not (cached results, hidden sheets)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _edit_sheet(path, *replacements: tuple[bytes, bytes]) -> None:
    def edit(xml: bytes) -> bytes:
        for old, new in replacements:
            assert old in xml, old
            xml = xml.replace(old, new)
        return xml

    _edit_part(path, "xl/worksheets/sheet1.xml", edit)


def _workbook(path, *data_rows, header=ORG_COLUMNS):
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for row in data_rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_excel_error_values_are_quarantined_not_stored(ws, tmp_path):
    """A failed VLOOKUP's #N/A was stored as a name and an id."""
    path = _workbook(tmp_path / "e.xlsx", ["A1", "One", "practice", "2020-01-01"],
                     ["A2", "=VLOOKUP(1,Z1:Z2,1,0)", "practice", "2020-01-01"],
                     ["=1/0", "Three", "practice", "2020-01-01"])
    _edit_sheet(path, (b'<c r="B3"><f>VLOOKUP(1,Z1:Z2,1,0)</f><v /></c>',
                       b'<c r="B3" t="e"><f>VLOOKUP(1,Z1:Z2,1,0)</f><v>#N/A</v></c>'),
                (b'<c r="A4"><f>1/0</f><v /></c>',
                 b'<c r="A4" t="e"><f>1/0</f><v>#DIV/0!</v></c>'))
    res = load(ws, path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (3, 1, 2)
    assert rows(ws, "SELECT org_code, name FROM organisations") == [("A1", "One")]
    assert rows(ws, "SELECT row_number, column_name, masked_value, reason FROM quarantine "
                    "ORDER BY 1") == [
        (3, "name", "#N/A", "Excel's error value #N/A (the formula behind it failed)"),
        (4, "org_code", "#DIV/0!",
         "Excel's error value #DIV/0! (the formula behind it failed)")]


def test_an_excel_error_saved_in_a_csv_is_quarantined_too(ws, tmp_path):
    res = load(ws, write(tmp_path / "e.csv", ",".join(ORG_COLUMNS) + "\n"
                         "#N/A,One,practice,2020-01-01\nA2,#REF!,practice,2020-01-01\n"
                         "A3,#hashtag surgery,practice,2020-01-01\n"))
    assert (res.rows_loaded, res.rows_quarantined) == (1, 2)
    assert rows(ws, "SELECT column_name, reason FROM quarantine ORDER BY row_number") == [
        ("org_code", "Excel's error value (the formula behind it failed)"),
        ("name", "Excel's error value (the formula behind it failed)")]


def test_a_formula_saved_with_an_empty_result_is_empty_not_unsaved(ws_orgs, tmp_path):
    """=IF(x="","",x) in an optional column was refused as 'never saved in Excel', which
    saving in Excel could not fix."""
    path = _workbook(tmp_path / "p.xlsx", [NHS_A, "F", 1960, "A81001", '=IF(1,"","")'],
                     header=["nhs_number", "sex", "year_of_birth", "practice_code",
                             "registered_from"])
    _edit_sheet(path, (b'<c r="E2"><f>IF(1,"","")</f><v /></c>',
                       b'<c r="E2" t="str"><f>IF(1,"","")</f><v></v></c>'))
    res = load(ws_orgs, path, "patients")
    assert (res.rows_loaded, res.rows_quarantined) == (1, 0)
    assert rows(ws_orgs, "SELECT registered_from FROM patients") == [(None,)]


def test_an_unsaved_formula_refuses_its_row_only_in_a_column_that_is_loaded(ws, tmp_path):
    path = _workbook(tmp_path / "f.xlsx", ["A1", "One", "practice", "2020-01-01", "=1+1"],
                     ["A2", '="Tw"&"o"', "practice", "2020-01-01", "x"],
                     header=[*ORG_COLUMNS, "age_calc"])
    res = load(ws, path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (2, 1, 1)
    [(row, column, reason)] = rows(ws, "SELECT row_number, column_name, reason FROM "
                                       "quarantine")
    assert (row, column) == (3, "name") and reason.startswith("a formula with no saved")


def test_a_hidden_first_sheet_is_passed_over_for_the_first_one_shown(ws, tmp_path):
    """An old extract kept on a hidden first sheet was loaded instead of the visible one."""
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Extract (old)"
    old.append(ORG_COLUMNS)
    old.append(["OLD", "Stale", "practice", "2001-01-01"])
    old.sheet_state = "hidden"
    new = wb.create_sheet("Extract")
    new.append(ORG_COLUMNS)
    new.append(["A1", "Current", "practice", "2020-01-01"])
    wb.active = 1
    wb.save(tmp_path / "h.xlsx")
    assert load(ws, tmp_path / "h.xlsx").rows_loaded == 1
    assert rows(ws, "SELECT org_code FROM organisations") == [("A1",)]
    _hide_every_sheet(tmp_path / "h.xlsx")
    with pytest.raises(ValidationError, match="every sheet of the workbook is hidden.*--sheet"):
        load(ws, tmp_path / "h.xlsx")


def _hide_every_sheet(path) -> None:
    _edit_part(path, "xl/workbook.xml",
               lambda xml: xml.replace(b'state="visible"', b'state="hidden"'))


def test_a_workbook_without_a_worksheet_is_one_line(ws, tmp_path):
    path = _workbook(tmp_path / "n.xlsx", ["A1", "One", "practice", "2020-01-01"])
    # A workbook listing no sheet (only a chart, say).
    _edit_part(path, "xl/workbook.xml", lambda xml: re.sub(rb"<sheets>.*</sheets>",
                                                          b"<sheets/>", xml, flags=re.DOTALL))
    before = snapshot(ws)
    with pytest.raises(ValidationError, match="the workbook has no worksheet"):
        load(ws, path)
    assert snapshot(ws) == before


def test_excel_blank_rows_are_counted_as_csv_blank_rows_are(ws, tmp_path):
    path = _workbook(tmp_path / "b.xlsx", ["A1", "One", "practice", "2020-01-01"],
                     [None, None, None, None], ["A2", "Two", "practice", "2020-01-01"])
    res = load(ws, path)
    assert res.rows_loaded == 2 and any("1 blank row" in n for n in res.warnings)


def test_a_parquet_duration_is_refused_not_stored_as_microseconds(ws_orgs, tmp_path):
    """pandas' discharge - admission (a timedelta) loaded bed_days as 259200000000."""
    frame = pd.DataFrame({"admission_id": ["a1"], "patient_id": ["p1"],
                          "bed_days": pd.to_timedelta([3], unit="D")})
    frame.to_parquet(tmp_path / "a.parquet")
    with pytest.raises(ValidationError, match="durations cannot be loaded: bed_days"):
        load(ws_orgs, tmp_path / "a.parquet", "admissions")


def test_parquet_names_differing_only_by_spaces_are_a_repeated_header(ws, tmp_path):
    """'sex' and 'Sex ' loaded silently from the second."""
    pq.write_table(pa.table({"org_code": ["A1"], "name": ["x"], "Name ": ["y"],
                             "org_type": ["practice"], "valid_from": ["2020-01-01"]}),
                   tmp_path / "n.parquet")
    with pytest.raises(ValidationError, match="header repeats column 'Name"):
        load(ws, tmp_path / "n.parquet")


def test_a_float32_nhs_number_is_refused_as_imprecise(ws_orgs, tmp_path):
    """float32(9665377752) is exactly 9665377280, another valid NHS number: a man born in
    1950 was joined to a woman born in 1990."""
    assert float(np.float32(9665377752)) == 9665377280
    table = pa.table({"nhs_number": np.array([9665377752, 9434765919], np.float32),
                      "sex": ["M", "F"], "year_of_birth": [1950, 1960],
                      "practice_code": ["A81001", "A81001"],
                      "bmi": np.array([23.45, 20.0], np.float32)})
    pq.write_table(table, tmp_path / "p.parquet")
    res = load(ws_orgs, tmp_path / "p.parquet", "patients")
    assert (res.rows_loaded, res.rows_quarantined) == (0, 2)
    [reason] = {r for (r,) in rows(ws_orgs, "SELECT reason FROM quarantine")}
    assert reason.startswith("a 32-bit float cannot hold this whole number exactly")
    assert rows(ws_orgs, "SELECT DISTINCT column_name FROM quarantine") == [("nhs_number",)]
    assert not any("9665377" in v for (v,) in rows(ws_orgs, "SELECT masked_value FROM "
                                                            "quarantine"))


def test_a_float32_fraction_is_read_as_written(tmp_path):
    from carepath.ingest.parquet import _float_text

    values = pa.array(np.array([23.45, 1960.0, 0, 16777216.0, 16777218.0], np.float32),
                      mask=np.array([False, False, True, False, False]))
    texts, (beyond, _) = _float_text(values)
    assert texts.to_pylist() == ["23.45", "1960", None, "16777216", "16777218"]
    assert beyond.tolist() == [4]  # beyond 2**24 a float32 holds every other number only


def test_a_date_of_seven_digits_is_not_a_date(ws, tmp_path):
    """2024111 was stored as 1 November 2024 (or was it 11 January?)."""
    res = load(ws, write(tmp_path / "d.csv", ",".join(ORG_COLUMNS) + "\n"
                         "A1,One,practice,2024111\nA2,Two,practice,20241101\n"))
    assert (res.rows_loaded, res.rows_quarantined) == (1, 1)
    assert rows(ws, "SELECT column_name, masked_value FROM quarantine") == [("valid_from",
                                                                     "2024111")]


def test_unreadable_parquet_data_is_one_line_and_changes_nothing(ws, tmp_path):
    pq.write_table(pa.table({"org_code": pa.array([b"A1", b"\xff\xfe"], pa.binary()),
                             "name": ["x", "y"], "org_type": ["practice"] * 2,
                             "valid_from": ["2020-01-01"] * 2}), tmp_path / "b.parquet")
    before = snapshot(ws)
    with pytest.raises(ValidationError, match="cannot be read past row 1.*UTF8"):
        load(ws, tmp_path / "b.parquet")
    assert snapshot(ws) == before


def test_a_workbook_with_a_password_is_named_as_such(ws, tmp_path):
    """Excel keeps a workbook with a password in an OLE file: it was 'not a readable
    .xlsx workbook (BadZipFile)'."""
    path = tmp_path / "locked.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(ValidationError, match="a workbook with a password"):
        load(ws, path)


def test_thousands_of_ignored_columns_are_named_up_to_a_limit(ws, tmp_path):
    extra = [f"spare{i}" for i in range(500)]
    path = write(tmp_path / "w.csv", ",".join([*ORG_COLUMNS, *extra]) + "\n" +
                 ",".join(["A1", "One", "practice", "2020-01-01", *[""] * 500]) + "\n")
    [note] = [w for w in load(ws, path).warnings if "ignored" in w]
    assert note.endswith("spare19 and 480 more") and "spare20" not in note
