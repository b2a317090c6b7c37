"""Published NHS and ONS files as named sources, one package per published format.

Each package turns the publisher's layout into rows of the data model and hands them to
the generic loader, so every row is validated, quarantined with its file row number when
bad, reconciled in the load log and written in one transaction with the rest of the
source. Each package has a README.md about the data: publisher, licence, layout, and how
suppressed, missing and zero values are kept apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from carepath.errors import ValidationError, did_you_mean


@dataclass(frozen=True)
class SourceInfo:
    name: str
    module: str
    summary: str


SOURCES = {s.name: s for s in (
    SourceInfo("gp_registered_patients", "carepath.sources.gp_registered_patients",
               "NHS Digital Patients Registered at a GP Practice (2023 on): practice -> PCN "
               "-> sub-ICB -> ICB -> region map, population by age and sex"),
    SourceInfo("gp_list_size", "carepath.sources.gp_list_size",
               "NHS Digital practice list size by sex and 9 age bands (CCG era, to 2017)"),
    SourceInfo("qof", "carepath.sources.qof",
               "QOF prevalence registers by practice, with the NHS geographies map"),
    SourceInfo("fingertips", "carepath.sources.fingertips",
               "OHID Fingertips data export (long format) as external indicator values"),
    SourceInfo("cervical_screening", "carepath.sources.cervical_screening",
               "Cervical screening coverage by practice, suppression kept as suppressed"),
    SourceInfo("cwt", "carepath.sources.cwt",
               "NHS England Cancer Waiting Times commissioner workbooks (.xlsx)"),
    SourceInfo("imd", "carepath.sources.imd",
               "Indices of Deprivation: LSOA ranks and deciles, LA summaries, practice scores"),
    SourceInfo("ons_population", "carepath.sources.ons_population",
               "ONS mid-year population estimates by area, sex and single year of age"),
)}


def load_source(ws, name: str, path: Path, *, replace: bool = False,
                actor: str | None = None) -> list:
    """Load a published file (or folder of files) by its source name."""
    if name not in SOURCES:
        raise ValidationError(f"unknown source {name!r}{did_you_mean(name, SOURCES)}; "
                              f"sources: {', '.join(sorted(SOURCES))}",
                              where="SOURCE")
    path = Path(path)
    if not path.exists():
        raise ValidationError("no such file or folder", where=str(path))
    module = importlib.import_module(SOURCES[name].module)
    from carepath.sources._run import run_parts

    return run_parts(ws, name, module.parts(path), replace=replace, actor=actor)
