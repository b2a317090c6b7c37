"""NHS Digital practice list size by sex and age band (quarterly, CCG era to 2017)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._orgs import Level, org_parts
from carepath.sources._run import Part, csv_rows, find, header_of, number, require_columns

FILE = "Patient_List_Size_*.csv"
REQUIRED = ("Practice Code", "Practice Name", "PCO Code", "Regional Office Code")
# Patient_List_Size_2016_01-03.csv: year and the quarter's first and last month.
FILE_QUARTER = re.compile(r"(\d{4})_(\d{2})-(\d{2})")
BAND_COLUMN = re.compile(r"^(Male|Female) (\d+)(?:-(\d+)|\+)$")
LEVELS = [
    Level("practice", "Practice Code", "Practice Name"),
    # Clinical commissioning groups were the sub-ICB locations' predecessors.
    Level("sub_icb", "PCO Code", "PCO Name"),
    Level("region", "Regional Office Code", "Regional Office Name"),
]


def quarter_start(path: Path) -> str:
    m = FILE_QUARTER.search(path.name)
    if not m:
        raise ValidationError("cannot tell the quarter from the file name (expected "
                              "Patient_List_Size_YYYY_MM-MM.csv)", where=str(path))
    return f"{m.group(1)}-{m.group(2)}-01"


def band_columns(path: Path) -> list[tuple[str, str, int, int | None]]:
    header = header_of(path)
    out = []
    for col in header:
        m = BAND_COLUMN.match(col.strip())
        if m:
            lo = int(m.group(2))
            hi = int(m.group(3)) if m.group(3) else None
            band = f"{lo}-{hi}" if hi is not None else f"{lo}+"
            out.append((col, "M" if m.group(1) == "Male" else "F", lo, hi, band))
    if not out:
        raise ValidationError("no 'Male 0-4'-style columns in the header", where=f"{path}, row 1")
    unread = [c for c in header if c.startswith(("Male", "Female")) and
              not BAND_COLUMN.match(c)]
    if unread:
        raise ValidationError(f"columns not read as age bands: {', '.join(unread)} (another "
                              "year's layout?); nothing was loaded", where=f"{path}, row 1")
    for sex in ("M", "F"):
        _check_bands(path, sorted((lo, hi) for _, s, lo, hi, _ in out if s == sex), sex)
    return out


def _check_bands(path: Path, bands: list[tuple[int, int | None]], sex: str) -> None:
    """A sex's bands run from 0 without gap to an open band ('75+'): none lost."""
    joined = all(hi is not None and next_lo == hi + 1
                 for (_, hi), (next_lo, _) in itertools.pairwise(bands))
    if not (bands and bands[0][0] == 0 and bands[-1][1] is None and joined):
        raise ValidationError(f"the {'male' if sex == 'M' else 'female'} age bands do not "
                              "run from 0 to an open band like '75+': a band is missing",
                              where=f"{path}, row 1")


def population_records(path: Path, when: str):
    bands = band_columns(path)
    for num, rec in csv_rows(path):
        for col, sex, lo, hi, band in bands:
            yield num, {"source": "gp_list_size", "area_code": rec.get("Practice Code"),
                        "area_name": rec.get("Practice Name"), "area_type": "practice",
                        "reference_date": when, "sex": sex, "age_band": band,
                        "age_from": lo, "age_to": hi, "population": number(rec.get(col))}


# The file gives a CCG as its headquarters site code, the organisation's code and "00"
# ("07L00"); ODS, QOF and the later practice maps use the organisation's code ("07L"), so a
# CCG whose code carried on as a sub-ICB location's is one organisation across the years.
SITE_SUFFIX = "00"
ORG_CODE_LENGTH = 3


def ods_code(site_code: str | None) -> str | None:
    code = (site_code or "").strip()
    if len(code) == ORG_CODE_LENGTH + len(SITE_SUFFIX) and code.endswith(SITE_SUFFIX):
        return code[:ORG_CODE_LENGTH]
    return code or None


# A CCG's code is two digits and a letter ("07L"). A few practices' PCO is instead a
# council ("11200"), an NHS trust ("RY600") or an area team ("Q5900") that commissioned
# them directly: no sub-ICB location's predecessor, and no area of one practice to publish.
CCG_CODE = re.compile(r"^\d{2}[A-Z]$")


def _org_rows(file: Path, not_ccg: dict[str, str]):
    """The file's rows with each PCO's ODS code; a PCO that is not a CCG is left out (its
    practice keeps its region) and named in ``not_ccg`` (code -> name)."""
    for num, rec in csv_rows(file):
        code = ods_code(rec.get("PCO Code"))
        if code and not CCG_CODE.match(code):
            not_ccg[rec["PCO Code"].strip()] = (rec.get("PCO Name") or "").strip()
            code = None
        yield num, {**rec, "PCO Code": code}


def _not_ccg_note(not_ccg: dict[str, str]) -> list[str]:
    if not not_ccg:
        return []
    named = ", ".join(f"{code} {name}" for code, name in sorted(not_ccg.items()))
    return [(f"{len(not_ccg)} PCOs are not clinical commissioning groups ({named}): their "
             "practices were loaded without a sub-ICB location, so they count in their "
             "region's and national figures but in no sub-ICB's")]


def parts(path: Path) -> list[Part]:
    file = find(path, FILE)
    require_columns(file, REQUIRED)
    when = quarter_start(file)
    not_ccg: dict[str, str] = {}
    orgs, links = org_parts(file, None, LEVELS, when, rows_fn=lambda: _org_rows(file, not_ccg))
    return [orgs, Part(links.table, file, links.records, lambda: _not_ccg_note(not_ccg)),
            Part("published_population", file, lambda: population_records(file, when))]
