"""OHID Fingertips data export (long format) loaded as external indicator values."""

from __future__ import annotations

import re
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._run import Part, csv_rows, find, header_of, number

FILE = "*.csv"
# The export written by the Fingertips site and API ("Download data" / all_data.csv).
EXPORT = {"id": "Indicator ID", "name": "Indicator Name", "area": "Area Code",
          "area_name": "Area Name", "area_type": "Area Type", "sex": "Sex", "age": "Age",
          "breakdown": "Category Type", "category": "Category", "period": "Time period",
          "value": "Value", "lower95": "Lower CI 95.0 limit",
          "upper95": "Upper CI 95.0 limit", "numerator": "Count",
          "denominator": "Denominator", "note": "Value note",
          "compared": "Compared to England value or percentiles"}
# A trimmed export as fingertipsR users save it (area_code, period, value, indicator ...).
TRIMMED = {"name": "indicator", "area": "area_code", "area_name": "area_name",
           "period": "period", "value": "value", "compared": "significance",
           "unit": "unit"}
SUPPRESSION_WORDS = ("suppress", "disclos")
# fingertipsR (R) writes a missing value as NA.
MISSING_MARKS = ("NA", "N/A")
YEAR = re.compile(r"^(\d{4})$")


def layout(path: Path) -> dict[str, str]:
    header = header_of(path)
    if all(EXPORT[k] in header for k in ("id", "area", "period", "value")):
        return EXPORT
    if all(TRIMMED[k] in header for k in ("area", "period", "value", "name")):
        return TRIMMED
    raise ValidationError("not a Fingertips export: expected 'Indicator ID, Area Code, "
                          "Time period, Value' (or area_code, period, value, indicator)",
                          where=f"{path}, row 1")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def state(value: str | None, note: str | None) -> str:
    if value is not None:
        return "published"
    if note and any(w in note.lower() for w in SUPPRESSION_WORDS):
        return "suppressed"
    return "missing"


def records(path: Path, cols: dict[str, str]):
    def get(rec, key):
        name = cols.get(key)
        v = rec.get(name) if name else None
        v = v.strip() if isinstance(v, str) else None
        return v if v and v not in MISSING_MARKS else None

    for num, rec in csv_rows(path):
        value, note = number(get(rec, "value")), get(rec, "note")
        period = get(rec, "period")
        year = YEAR.match(period or "")
        yield num, {
            "source": "fingertips",
            "indicator_id": get(rec, "id") or slug(get(rec, "name") or "unnamed"),
            "indicator_name": get(rec, "name"), "area_code": get(rec, "area"),
            "area_name": get(rec, "area_name"), "area_type": get(rec, "area_type"),
            "period": period,
            "period_start": f"{year.group(1)}-01-01" if year else None,
            "period_end": f"{year.group(1)}-12-31" if year else None,
            "sex": get(rec, "sex") or "all", "age": get(rec, "age") or "all",
            "breakdown": get(rec, "breakdown") or "all",
            "category": get(rec, "category") or "all",
            "numerator": number(get(rec, "numerator")),
            "denominator": number(get(rec, "denominator")), "value": value,
            "lower95": number(get(rec, "lower95")), "upper95": number(get(rec, "upper95")),
            "unit": get(rec, "unit"), "value_state": state(value, note), "value_note": note,
            "compared_to": get(rec, "compared")}


def parts(path: Path) -> list[Part]:
    files = [path] if path.is_file() else sorted(path.glob(FILE))
    if not files:
        find(path, FILE)
    return [Part("external_indicator_values", f, lambda f=f: records(f, layout(f)))
            for f in files]
