"""QOF prevalence registers by practice (NHS Digital), with the NHS geographies map."""

from __future__ import annotations

import re
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._orgs import Level, org_parts
from carepath.sources._run import Part, csv_rows, find, find_optional, number, require_columns

PREVALENCE_FILE = "PREVALENCE_*.csv"
MAPPING_FILE = "MAPPING_NHS_GEOGRAPHIES_*.csv"
PREV_COLUMNS = ("PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE",
                "PRACTICE_LIST_SIZE")
LEVELS = [
    Level("practice", "PRACTICE_CODE", "PRACTICE_NAME"),
    Level("pcn", "PCN_ODS_CODE", "PCN_NAME"),
    Level("sub_icb", "SUB_ICB_ODS_CODE", "SUB_ICB_NAME"),
    Level("icb", "ICB_ODS_CODE", "ICB_NAME"),
    Level("region", "REGION_ODS_CODE", "REGION_NAME"),
]
# PREVALENCE_2223.csv -> financial year 2022/23.
FILE_YEAR = re.compile(r"_(\d{2})(\d{2})\.csv$", re.IGNORECASE)
PERCENT = 100
LIST_TYPES = {"TOTAL": "all"}  # others are like 18OV (aged 18 and over)
AGE_OVER = re.compile(r"^(\d+)OV$")


def year(path: Path) -> tuple[str, str, str]:
    m = FILE_YEAR.search(path.name)
    if not m:
        raise ValidationError("cannot tell the QOF year from the file name (expected "
                              "..._YYZZ.csv, e.g. PREVALENCE_2223.csv)", where=str(path))
    start = 2000 + int(m.group(1))
    return f"{start}/{m.group(2)}", f"{start}-04-01", f"{start + 1}-03-31"


def age(list_type: str) -> str:
    t = list_type.strip().upper()
    m = AGE_OVER.match(t)
    return f"{int(m.group(1))}+" if m else LIST_TYPES.get(t, t.lower())


def prevalence_records(path: Path):
    period, start, end = year(path)
    for num, rec in csv_rows(path):
        group = (rec.get("GROUP_CODE") or "").strip()
        register, size = number(rec.get("REGISTER")), number(rec.get("PRACTICE_LIST_SIZE"))
        value, state = None, "missing"
        try:
            if register is not None and size is not None and float(size) > 0:
                value, state = PERCENT * float(register) / float(size), "published"
        except ValueError:
            state = "published"  # let validation name the bad number
        yield num, {
            "source": "qof", "indicator_id": f"QOF_{group}_PREV",
            "indicator_name": f"QOF {group} register as % of practice list",
            "area_code": rec.get("PRACTICE_CODE"), "area_type": "practice",
            "period": period, "period_start": start, "period_end": end, "sex": "all",
            "age": age(rec.get("PATIENT_LIST_TYPE") or ""), "breakdown": "all",
            "category": "all", "numerator": register, "denominator": size, "value": value,
            "unit": "%", "value_state": state}


def parts(path: Path) -> list[Part]:
    prev = find(path, PREVALENCE_FILE)
    require_columns(prev, PREV_COLUMNS)
    out: list[Part] = []
    mapping = find_optional(path.parent if path.is_file() else path, MAPPING_FILE)
    if mapping:
        # An older map (CCG_*, STP_* columns) would load practices with no sub-ICB or ICB.
        require_columns(mapping, [c for lv in LEVELS for c in (lv.code, lv.name) if c])
        _period, _start, end = year(mapping)
        out += org_parts(mapping, None, LEVELS, end, rows_fn=lambda: csv_rows(mapping))
    return out + [Part("external_indicator_values", prev, lambda: prevalence_records(prev))]
