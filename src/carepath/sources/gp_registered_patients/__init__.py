"""NHS Digital "Patients Registered at a GP Practice" (monthly, 2023 on)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._orgs import Level, org_parts
from carepath.sources._run import Part, csv_rows, find_optional, number, require_columns

MAP_FILE = "gp-reg-pat-prac-map*.csv"
SINGLE_AGE_FILE = "gp-reg-pat-sing-age*.csv"
QUINARY_FILE = "gp-reg-pat-*quin-age*.csv"
MAP_COLUMNS = ("EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "PCN_CODE",
               "SUB_ICB_LOCATION_CODE", "ICB_CODE", "COMM_REGION_CODE")
POP_COLUMNS = ("EXTRACT_DATE", "ORG_TYPE", "ORG_CODE", "SEX", "NUMBER_OF_PATIENTS")
LEVELS = [
    Level("practice", "PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE"),
    Level("pcn", "PCN_CODE", "PCN_NAME"),
    Level("sub_icb", "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME"),
    Level("icb", "ICB_CODE", "ICB_NAME"),
    Level("region", "COMM_REGION_CODE", "COMM_REGION_NAME"),
]
ORG_TYPES = {"comm region": "region", "icb": "icb", "sub_icb_location_code": "sub_icb",
             "sub_icb_location": "sub_icb", "pcn": "pcn", "gp": "practice"}
SEXES = {"MALE": "M", "FEMALE": "F", "ALL": "all"}
EXTRACT_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y", "%d/%m/%Y")


def extract_date(text: str, where: str) -> str:
    for fmt in EXTRACT_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    raise ValidationError(f"EXTRACT_DATE {text!r} is not a date", where=where)


def first_extract_date(path: Path) -> str:
    for number_, rec in csv_rows(path):
        return extract_date(rec["EXTRACT_DATE"], f"{path}, row {number_}")
    raise ValidationError("no data rows", where=str(path))


def age_band(text: str) -> tuple[str, int | None, int | None]:
    """'ALL' -> all; '37' -> single year; '0_4' -> 0-4; '95+' -> open-ended."""
    t = text.strip().upper()
    if t == "ALL":
        return "all", None, None
    if t.endswith("+"):
        lo = int(t[:-1])
        return f"{lo}+", lo, None
    if "_" in t or "-" in t:
        lo, hi = (int(x) for x in t.replace("_", "-").split("-"))
        return f"{lo}-{hi}", lo, hi
    return t, int(t), int(t)


def population_records(path: Path, age_column: str):
    for num, rec in csv_rows(path):
        try:
            band, lo, hi = age_band(rec.get(age_column) or "")
        except ValueError:
            band, lo, hi = (rec.get(age_column) or "").strip(), None, None  # quarantined
        org_type = (rec.get("ORG_TYPE") or "").strip()
        yield num, {
            "source": "gp_registered_patients", "area_code": rec.get("ORG_CODE"),
            "area_type": ORG_TYPES.get(org_type.lower(), org_type),
            "reference_date": rec.get("EXTRACT_DATE"),
            "sex": SEXES.get((rec.get("SEX") or "").strip().upper(), rec.get("SEX")),
            "age_band": band, "age_from": lo, "age_to": hi,
            "population": number(rec.get("NUMBER_OF_PATIENTS")),
        }


def parts(path: Path) -> list[Part]:
    out: list[Part] = []
    map_file = find_optional(path, MAP_FILE)
    if map_file:
        require_columns(map_file, MAP_COLUMNS)
        valid_from = first_extract_date(map_file)
        out += org_parts(map_file, None, LEVELS, valid_from,
                         rows_fn=lambda: csv_rows(map_file))
    for pattern, age_col in ((SINGLE_AGE_FILE, "AGE"), (QUINARY_FILE, "AGE_GROUP_5")):
        pop = find_optional(path, pattern)
        if pop:
            require_columns(pop, POP_COLUMNS + (age_col,))
            out.append(Part("published_population", pop,
                            lambda p=pop, a=age_col: population_records(p, a)))
    if not out:
        raise ValidationError(f"none of this source's files ({MAP_FILE}, {SINGLE_AGE_FILE}, "
                              f"{QUINARY_FILE}; unzip the download first)", where=str(path))
    return out
