"""OHID Fingertips data export (long format) loaded as external indicator values."""

from __future__ import annotations

import hashlib
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
TRIMMED_MEASURE = "measure"
SUPPRESSION_WORDS = ("suppress", "disclos")
# fingertipsR (R) writes a missing value as NA; hand-made extracts use the ONS marks.
MISSING_MARKS = ("NA", "N/A", "-", ":", "..")
YEAR = re.compile(r"^(\d{4})$")
FINANCIAL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")  # 2019/20: April to March
YEARS = re.compile(r"^(\d{4})\s*-\s*(\d{2})$")  # 2017 - 19: three calendar years pooled
# Fingertips' words for sexes and all ages, stored as the other sources store them.
SEXES = {"persons": "all", "male": "M", "female": "F"}
ALL_AGES = "all ages"
ID_CHARS = 60  # an id made from a name: cut, with a hash of the whole name to stay unique
NAME_HASH_CHARS = 8


def layout(path: Path) -> dict[str, str]:
    header = header_of(path)
    if all(EXPORT[k] in header for k in ("id", "area", "period", "value")):
        return EXPORT
    if all(TRIMMED[k] in header for k in ("area", "period", "value", "name")):
        # fingertipsR's `unit` is what is counted ("Deaths"), its `measure` what the value
        # is ("Percentage"): a percentage read as "48.0 Deaths" (a walkthrough).
        return {**TRIMMED, "unit": TRIMMED_MEASURE} if TRIMMED_MEASURE in header else TRIMMED
    raise ValidationError("not a Fingertips export: expected 'Indicator ID, Area Code, "
                          "Time period, Value' (or area_code, period, value, indicator)",
                          where=f"{path}, row 1")


def slug(text: str) -> str:
    """An id from an indicator's name. Long names share their first words ('% of deaths in
    usual place of residence among people aged 65+' and '... 85+'), so a cut name ends with
    a hash of the whole."""
    whole = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if len(whole) <= ID_CHARS:
        return whole
    digest = hashlib.sha256(text.encode()).hexdigest()[:NAME_HASH_CHARS]
    return f"{whole[:ID_CHARS - NAME_HASH_CHARS - 1].rstrip('_')}_{digest}"


def period_bounds(period: str | None) -> tuple[str | None, str | None]:
    """First and last day of a Fingertips time period: 2019, 2019/20 or 2017 - 19."""
    text = (period or "").strip()
    if m := YEAR.match(text):
        return f"{m.group(1)}-01-01", f"{m.group(1)}-12-31"
    if m := FINANCIAL_YEAR.match(text):
        start = int(m.group(1))
        return f"{start}-04-01", f"{start + 1}-03-31"
    if m := YEARS.match(text):
        start = int(m.group(1))
        end = start // 100 * 100 + int(m.group(2))
        return f"{start}-01-01", f"{end}-12-31"
    return None, None


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
        start, end = period_bounds(period)
        sex, age = get(rec, "sex"), get(rec, "age")
        yield num, {
            "source": "fingertips",
            "indicator_id": get(rec, "id") or slug(get(rec, "name") or "unnamed"),
            "indicator_name": get(rec, "name"), "area_code": get(rec, "area"),
            "area_name": get(rec, "area_name"), "area_type": get(rec, "area_type"),
            "period": period,
            "period_start": start, "period_end": end,
            "sex": SEXES.get((sex or "persons").lower(), sex),
            "age": "all" if (age or ALL_AGES).lower() == ALL_AGES else age,
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
