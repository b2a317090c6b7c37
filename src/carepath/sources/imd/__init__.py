"""English Indices of Deprivation (MHCLG): LSOA ranks and deciles, local-authority
summaries, and registration-weighted practice / PCN scores."""

from __future__ import annotations

from pathlib import Path

from carepath.errors import ValidationError
from carepath.sources._run import Part, csv_rows, number, require_columns

LSOA_FILE = "imd*_lsoa_rank_decile.csv"
LA_2019_FILE = "iod2019_lad_summaries.csv"
LA_2025_FILE = "iod2025_lad_summaries.csv"
PRACTICE_FILE = "practice_imd*_score*.csv"
PCN_FILE = "pcn_imd*_score*.csv"
LA_MEASURES = ("average_rank", "rank_average_rank", "average_score", "rank_average_score",
               "proportion_bottom_decile", "rank_proportion_bottom_decile")
IMD_DOMAIN = "Index of Multiple Deprivation"
EDITION_2019 = 2019


def domain(name: str) -> str:
    n = (name or "").strip()
    return "imd" if n.lower() == IMD_DOMAIN.lower() else n.lower().replace(" ", "_")


def lsoa_records(path: Path):
    for num, rec in csv_rows(path):
        base = {"source": "imd", "area_code": rec.get("lsoa11cd"), "area_name": rec.get("lsoa11nm"),
                "area_type": "lsoa", "index_year": EDITION_2019, "domain": "imd",
                "decile": rec.get("imd_decile")}
        yield num, {**base, "measure": "rank", "value": number(rec.get("imd_rank"))}


def la_records(path: Path, year_column: str | None, code: str, name: str):
    for num, rec in csv_rows(path):
        year = rec.get(year_column) if year_column else None
        for measure in LA_MEASURES:
            yield num, {"source": "imd", "area_code": rec.get(code), "area_name": rec.get(name),
                        "area_type": "la", "index_year": year,
                        "domain": domain(rec.get("index_domain")), "measure": measure,
                        "value": number(rec.get(measure))}


def score_records(path: Path, area_type: str, code: str):
    for num, rec in csv_rows(path):
        yield num, {"source": "imd", "area_code": rec.get(code), "area_name": rec.get(
            f"{area_type}_name"), "area_type": area_type, "index_year": EDITION_2019,
            "domain": "imd", "measure": "score", "value": number(rec.get("imd_score")),
            "decile": rec.get("imd_decile")}


def _columns_needed(f: Path) -> tuple[str, ...]:
    if f.match(LSOA_FILE):
        return ("lsoa11cd", "lsoa11nm", "imd_rank", "imd_decile")
    if f.name == LA_2019_FILE:
        return ("year", "lad19cd", "lad19nm", "index_domain", *LA_MEASURES)
    if f.name == LA_2025_FILE:
        return ("deprivation_data_year", "area_code", "area_name", "index_domain",
                *LA_MEASURES)
    if f.match(PRACTICE_FILE):
        return ("practice_code", "practice_name", "imd_score", "imd_decile")
    if f.match(PCN_FILE):
        return ("pcn_code", "pcn_name", "imd_score", "imd_decile")
    return ()


def parts(path: Path) -> list[Part]:
    folder = path.parent if path.is_file() else path
    chosen = [path] if path.is_file() else sorted(folder.glob("*.csv"))
    out: list[Part] = []
    for f in chosen:
        if needed := _columns_needed(f):
            require_columns(f, needed)  # a renamed column would load as missing values
        if f.match(LSOA_FILE):
            out.append(Part("area_deprivation", f, lambda f=f: lsoa_records(f)))
        elif f.name == LA_2019_FILE:
            out.append(Part("area_deprivation", f,
                            lambda f=f: la_records(f, "year", "lad19cd", "lad19nm")))
        elif f.name == LA_2025_FILE:
            out.append(Part("area_deprivation", f, lambda f=f: la_records(
                f, "deprivation_data_year", "area_code", "area_name")))
        elif f.match(PRACTICE_FILE):
            out.append(Part("area_deprivation", f,
                            lambda f=f: score_records(f, "practice", "practice_code")))
        elif f.match(PCN_FILE):
            out.append(Part("area_deprivation", f,
                            lambda f=f: score_records(f, "pcn", "pcn_code")))
    if not out:
        raise ValidationError("no Indices of Deprivation file recognised (imd2019_lsoa_rank_"
                              "decile.csv, iod20xx_lad_summaries.csv, practice_imd*_score*.csv)",
                              where=str(path))
    return out
