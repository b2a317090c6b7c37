"""ONS mid-year population estimates by area, sex and single year of age."""

from __future__ import annotations

import re
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._run import Part, csv_rows, header_of, number

FILE = "ons_mye_mid*.csv"
MID_YEAR = re.compile(r"mid(\d{4})")
MID_YEAR_DAY = "06-30"
SEXES = {"persons": "all", "males": "M", "females": "F", "male": "M", "female": "F",
         "all": "all"}
OPEN_AGE = "90+"
OPEN_AGE_FROM = 90


def reference_date(path: Path) -> str:
    m = MID_YEAR.search(path.name)
    if not m:
        raise ValidationError("cannot tell the year from the file name (expected ..._midYYYY_"
                              "...)", where=str(path))
    return f"{m.group(1)}-{MID_YEAR_DAY}"


def band(age: str) -> tuple[str, int | None, int | None]:
    a = age.strip()
    if a.lower() in ("all_ages", "all"):
        return "all", None, None
    if a.endswith("+"):
        return a, int(a[:-1]), None
    return a, int(a), int(a)


WIDE_IDS = ("code", "name", "geography", "sex")


def wide_ages(path: Path, header: list[str]) -> list[str]:
    """The wide layout's age columns: every column but the identifiers is an age, and
    every age from 0 to 90+ is there (another year's layout is refused, not half read)."""
    ages = [c for c in header if c not in WIDE_IDS]
    bad = []
    for c in ages:
        try:
            band(c)
        except ValueError:
            bad.append(c)
    if bad:
        raise ValidationError(f"columns that are not ages: {', '.join(bad)} (expected "
                              f"{', '.join(WIDE_IDS)}, all_ages, 0 ... {OPEN_AGE})",
                              where=f"{path}, row 1")
    missing = [a for a in [*map(str, range(OPEN_AGE_FROM)), OPEN_AGE] if a not in ages]
    if missing:
        raise ValidationError(f"ages missing from the header: {', '.join(missing[:5])}",
                              where=f"{path}, row 1")
    return ages


def wide_records(path: Path, when: str):
    """mid-2020 layout: code, name, geography, sex, all_ages, 0, 1, ..., 90+."""
    ages = wide_ages(path, header_of(path))
    for num, rec in csv_rows(path):
        for col in ages:
            label, lo, hi = band(col)
            yield num, {"source": "ons_population", "area_code": rec.get("code"),
                        "area_name": rec.get("name"), "area_type": _geo(rec.get("geography")),
                        "reference_date": when, "sex": SEXES.get((rec.get("sex") or "").lower(),
                                                                 rec.get("sex")),
                        "age_band": label, "age_from": lo, "age_to": hi,
                        "population": number(rec.get(col))}


def long_records(path: Path, when: str):
    """mid-2023 layout: sex, Code, Name, Geography, age, count."""
    for num, rec in csv_rows(path):
        try:
            label, lo, hi = band(rec.get("age") or "")
        except ValueError:
            label, lo, hi = rec.get("age"), None, None
        count = number(rec.get("count"))
        if count and count.endswith(".0"):
            count = count[:-2]  # published as 324854.0
        yield num, {"source": "ons_population", "area_code": rec.get("Code"),
                    "area_name": rec.get("Name"), "area_type": _geo(rec.get("Geography")),
                    "reference_date": when,
                    "sex": SEXES.get((rec.get("sex") or "").lower(), rec.get("sex")),
                    "age_band": label, "age_from": lo, "age_to": hi, "population": count}


def _geo(text: str | None) -> str:
    return (text or "").strip().lower().replace(" ", "_") or "unknown"


def parts(path: Path) -> list[Part]:
    files = [path] if path.is_file() else sorted(path.glob(FILE))
    if not files:
        raise ValidationError(f"no file matching {FILE}", where=str(path))
    out = []
    for f in files:
        header = header_of(f)
        when = reference_date(f)
        if "all_ages" in header:
            wide_ages(f, header)  # checked before anything is loaded
            out.append(Part("published_population", f, lambda f=f, w=when: wide_records(f, w)))
        elif {"age", "count"} <= set(header):
            out.append(Part("published_population", f, lambda f=f, w=when: long_records(f, w)))
        else:
            raise ValidationError("not an ONS mid-year estimates layout (wide with all_ages, "
                                  "or long with age and count)", where=f"{f}, row 1")
    return out
