"""Cervical screening coverage by GP practice (PHE / NHS Digital), suppression kept."""

from __future__ import annotations

import re
from calendar import monthrange
from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._run import Part, csv_rows, find, number, require_columns

FILE = "cervical_screening_coverage_gp_*.csv"
# Age groups published: (programme code, eligible column, screened column, flag column).
GROUPS = (
    ("cervical_25_49", "eligible_25_49", "screened_42m_25_49", "suppression_25_49"),
    ("cervical_50_64", "eligible_50_64", "screened_66m_50_64", "suppression_50_64"),
)
# Text the publisher prints in place of a suppressed count.
SUPPRESSED_MARKS = ("<under 6>", "<suppressed>", "*", "..", "c")
NOT_SUPPRESSED = ("", "..")
FILE_DATE = re.compile(r"_(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(\d{4})", re.IGNORECASE)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def period_end(path: Path) -> str:
    m = FILE_DATE.search(path.stem)
    if not m:
        raise ValidationError("cannot tell the date from the file name (expected ..._dec2017)",
                              where=str(path))
    year, month = int(m.group(2)), MONTHS.index(m.group(1).lower()) + 1
    return f"{year}-{month:02d}-{monthrange(year, month)[1]:02d}"  # 29 February in leap years


def count(text: str | None) -> str | None:
    """A count, or None when the publisher suppressed it (suppressed is not zero)."""
    if text is None or text.strip().lower() in SUPPRESSED_MARKS:
        return None
    return number(text)


def records(path: Path, when: str):
    for num, rec in csv_rows(path):
        for programme, elig, scr, flag in GROUPS:
            suppressed = (rec.get(flag) or "").strip() not in NOT_SUPPRESSED
            yield num, {"practice_code": rec.get("practice_code"), "programme": programme,
                        "period_end": when, "eligible": count(rec.get(elig)),
                        "screened": count(rec.get(scr)),
                        "suppressed": "true" if suppressed else "false"}


def parts(path: Path) -> list[Part]:
    file = find(path, FILE)
    require_columns(file, ["practice_code"] + [c for g in GROUPS for c in g[1:]])
    when = period_end(file)
    return [Part("screening", file, lambda: records(file, when))]
