"""NHS England Cancer Waiting Times, commissioner-based monthly workbooks (.xlsx)."""

from __future__ import annotations

import re
from calendar import monthrange
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._run import Part

FILE = "*.xlsx"
CODE_COLUMN = re.compile(r"^(ODS|CCG) CODE")
ENGLAND_NAME = "ALL ENGLISH COMMISSIONERS"
ENGLAND_CODE = "E92000001"
TOTAL = "TOTAL"
WITHIN = re.compile(r"^(WITHIN|TREATED WITHIN|SEEN WITHIN|TOLD WITHIN) (\d+) DAYS$")
MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
# "Jul-24" (2023 on) or "PERIOD: JUL 2022/23" (financial year; Jan-Mar in the later year).
SHORT_PERIOD = re.compile(r"^([A-Za-z]{3})-(\d{2})$")
FY_PERIOD = re.compile(r"PERIOD:\s*([A-Za-z]{3})\w*\s+(\d{4})/(\d{2})", re.IGNORECASE)
FIRST_FY_MONTH = 4
# Sheets without a commissioner table.
SKIP_SHEETS = ("FRONTPAGE", "CONTENTS", "NOTES")
# Standards published under a sheet name a later standard took over, by the start of the
# sheet's title: kept apart. Until September 2023 "62-DAY (ALL CANCER)" was the urgent GP
# referral standard; from October 2023 the sheet of that name is the combined standard
# (urgent suspected cancer, breast symptomatic, screening and consultant upgrade), a
# different measure that a series must not run on from the first (a walkthrough).
FORMER_STANDARDS = {"62-DAY (URGENT GP REFERRAL TO TREATMENT)": "CWT_62_DAY_GP_REFERRAL"}
TITLE_ROWS = 3  # the title is the first text of a sheet, before its period


def period(rows: list[tuple]) -> tuple[int, int]:
    for row in rows:
        for cell in row:
            text = str(cell).strip() if cell is not None else ""
            m = SHORT_PERIOD.match(text)
            if m and m.group(1).upper() in MONTHS:
                return 2000 + int(m.group(2)), MONTHS[m.group(1).upper()]
            m = FY_PERIOD.search(text)
            if m and m.group(1).upper()[:3] in MONTHS:
                month = MONTHS[m.group(1).upper()[:3]]
                start = int(m.group(2))
                return (start if month >= FIRST_FY_MONTH else start + 1), month
    raise ValidationError("no reporting period (like 'Jul-24') in the sheet's first rows",
                          where="sheet")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def sheet_records(path: Path, sheet: str, rows: list[tuple]):
    """One record per commissioner x breakdown: numerator 'within N days', denominator total."""
    try:
        year, month = period(rows[:10])
    except ValidationError as exc:
        raise ValidationError(exc.message, where=f"{path} [{sheet}]") from None
    start = f"{year}-{month:02d}-01"
    end = f"{year}-{month:02d}-{monthrange(year, month)[1]:02d}"
    measure = _measure(sheet, rows[:TITLE_ROWS])
    header: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        cells = ["" if c is None else str(c).strip() for c in row]
        if any(CODE_COLUMN.match(c.upper()) for c in cells):
            header = [c.upper() for c in cells]
            continue
        if header is None or not any(cells):
            continue
        rec = yield_record(path, measure, header, cells, start, end)
        if rec is not None:
            yield number, rec


def _measure(sheet: str, rows: list[tuple]) -> tuple[str, str]:
    """(indicator id, name) of a sheet: CWT_<SHEET> and the sheet's name, or a former
    standard's own id (``FORMER_STANDARDS``) and its title."""
    texts = [str(c).strip() for row in rows for c in row if c is not None and str(c).strip()]
    title = texts[0].upper() if texts else ""
    for start, former in FORMER_STANDARDS.items():
        if title.startswith(start):
            return former, texts[0]
    return f"CWT_{slug(sheet).upper()}", sheet


def yield_record(path, measure, header, cells, start, end):
    idx = {h: i for i, h in enumerate(header) if h}
    code_i = next(i for h, i in idx.items() if CODE_COLUMN.match(h))
    name_i = code_i + 1
    code = cells[code_i] if code_i < len(cells) else ""
    england = not code and name_i < len(cells) and cells[name_i].upper() == ENGLAND_NAME
    if not code and not england:
        return None
    if TOTAL not in idx:
        return None
    within = [(h, i, int(WITHIN.match(h).group(2))) for h, i in idx.items() if WITHIN.match(h)
              and not h.startswith(("TREATED", "SEEN", "TOLD"))]
    if not within:
        return None
    _h, w_i, days = within[0]
    dims = [cells[i] for i in range(name_i + 1, idx[TOTAL]) if i < len(cells) and cells[i]]
    dim_names = [header[i] for i in range(name_i + 1, idx[TOTAL]) if header[i]]

    def cell(i):
        return cells[i] if i < len(cells) and cells[i] not in ("", "-") else None

    total, num = cell(idx[TOTAL]), cell(w_i)
    try:
        value = float(num) / float(total) if total and num and float(total) > 0 else None
    except ValueError:
        value = None
    return {
        "source": "cwt", "indicator_id": measure[0],
        "indicator_name": f"{measure[1]}: proportion within {days} days",
        "area_code": ENGLAND_CODE if england else code, "area_name": cell(name_i),
        "area_type": "england" if england else "commissioner",
        "period": start[:7], "period_start": start, "period_end": end, "sex": "all",
        "age": "all", "breakdown": " / ".join(dim_names) or "all",
        "category": " / ".join(dims) or "all", "numerator": num, "denominator": total,
        "value": value, "unit": "proportion",
        "value_state": "published" if value is not None else "missing",
        "value_note": None if value is not None else "no patients in the month"}


def workbook_records(path: Path):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise ValidationError(f"not a readable .xlsx workbook ({type(exc).__name__})",
                              where=str(path)) from None
    found = 0
    try:
        for ws in wb.worksheets:
            if ws.title.strip().upper() in SKIP_SHEETS:
                continue
            ws.reset_dimensions()
            rows = list(ws.iter_rows(values_only=True))
            if len(rows) < 2:
                continue
            for record in sheet_records(path, ws.title, rows):
                found += 1
                yield record
    finally:
        wb.close()
    if not found:  # a changed layout must not pass as an empty month
        raise ValidationError("no commissioner rows in any sheet: no header row with a code "
                              "column ('ODS CODE' or 'CCG CODE'), a TOTAL column "
                              "and a 'WITHIN N DAYS' column; is this a CWT commissioner "
                              "workbook?", where=str(path))


def parts(path: Path) -> list[Part]:
    # The folder given, as every source reads (not its subfolders: a downloads folder).
    files = [path] if path.is_file() else sorted(path.glob(FILE))
    if not files:
        raise ValidationError("no .xlsx workbook found", where=str(path))
    return [Part("external_indicator_values", f, lambda f=f: workbook_records(f))
            for f in files]
