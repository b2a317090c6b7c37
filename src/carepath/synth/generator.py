"""`carepath synth`: build a complete synthetic workspace, atomically.

The workspace is made in a temporary sibling directory and renamed into place only when
every table is filled, so a failure (or Ctrl-C) leaves nothing behind. Practices are
simulated in chunks (the county is one chunk; England one chunk per ICB), each with its
own numpy Generator seeded from (seed, chunk), so memory stays bounded and the same seed
always gives the same rows in the same order.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from carepath.errors import ValidationError, WorkspaceError
from carepath.model.schema import TABLES_BY_NAME
from carepath.synth import anchors
from carepath.synth.aggregates import patients, registered_population, screening
from carepath.synth.calibration import TARGETS
from carepath.synth.cancer import simulate_cancer
from carepath.synth.care import simulate_care
from carepath.synth.context import Chunk, People, Window
from carepath.synth.coproduction import coproduction_rows, deprivation_rows
from carepath.synth.eol import simulate_eol
from carepath.synth.experience import services, surveys
from carepath.synth.geography import (
    COUNTY_PARTIAL_AREAS,
    SCALES,
    build_geography,
    organisation_rows,
)
from carepath.synth.planted import MANIFEST_NAME, plant
from carepath.synth.writer import TableWriter
from carepath.workspace.workspace import Workspace

MAX_YEARS = 10
DEFAULT_YEARS = 5
DEFAULT_SEED = 42
GENERATOR_ACTOR = "carepath synth"
MEMORY_LIMIT = "4GB"
COPRODUCTION_STREAM = 1_000_000  # a Generator stream apart from the chunks
ID_COUNTERS = ("referral", "tumour", "treatment", "event", "admission", "respondent")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SynthOptions:
    seed: int = DEFAULT_SEED
    scale: str = "county"
    years: int = DEFAULT_YEARS

    def validate(self) -> None:
        if self.scale not in SCALES:
            raise ValidationError(f"unknown scale {self.scale!r}; choose one of "
                                  f"{', '.join(SCALES)}", where="--scale")
        if not 1 <= self.years <= MAX_YEARS:
            raise ValidationError(f"years must be between 1 and {MAX_YEARS}, got {self.years}",
                                  where="--years")
        if self.seed < 0:
            raise ValidationError(f"seed must be >= 0, got {self.seed}", where="--seed")


@dataclass
class SynthResult:
    workspace: Workspace
    rows: dict[str, int] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    insert_seconds: dict[str, float] = field(default_factory=dict)


def synthesise(directory: Path, options: SynthOptions,
               progress: Progress | None = None) -> SynthResult:
    """Create a workspace at `directory` filled with synthetic data."""
    options.validate()
    directory = Path(directory)
    _check_target(directory)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-synth-", dir=directory.parent))
    except OSError as exc:
        raise WorkspaceError(f"cannot write here: {exc.strerror}", where=str(directory.parent)
                             ) from None
    try:
        # The England scale covers every practice, so its total is England; a county's
        # total is only the county's.
        england = options.scale == "england"
        ws = Workspace.init(tmp / "ws", name=directory.name,
                            national_name="England" if england else None,
                            partial_areas=() if england else COUNTY_PARTIAL_AREAS,
                            national_exempt=england)
        rows, manifest, seconds = fill(ws, options, progress)
        (ws.path / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        if directory.exists():
            directory.rmdir()
        (tmp / "ws").rename(directory)
    except (OSError, duckdb.IOException) as exc:
        # Disk full, permissions changed mid-way: one clear line, nothing left behind.
        raise WorkspaceError(f"could not write the workspace: {exc}", where=str(directory)
                             ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SynthResult(Workspace(directory), rows, manifest, seconds)


def _check_target(directory: Path) -> None:
    if directory.exists():
        if not directory.is_dir():
            raise WorkspaceError("exists and is not a directory", where=str(directory))
        if any(directory.iterdir()):
            raise WorkspaceError("directory is not empty; synth makes a new workspace, so "
                                 "choose a new or empty directory", where=str(directory))
    parent = directory.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot create the parent directory: {exc.strerror}",
                             where=str(parent)) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WorkspaceError("directory is not writable", where=str(parent))


def fill(ws: Workspace, options: SynthOptions,
         progress: Progress | None = None) -> tuple[dict[str, int], dict, dict[str, float]]:
    """Fill an empty workspace; returns rows per table, the planted manifest and the
    seconds spent inserting each table."""
    window = Window(options.years)
    geo = build_geography(options.scale, np.random.default_rng([options.seed, 0]))
    planted = plant(geo, np.random.default_rng([options.seed, 1]),
                    anchors.PREFERRED_PLACE_ACHIEVED)
    chunks = _chunks(geo)
    ids = dict.fromkeys(ID_COUNTERS, 1)
    next_patient = 1
    with ws.connect() as con:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        writer = TableWriter(con, options.seed)
        con.execute("BEGIN TRANSACTION")
        orgs, hier = organisation_rows(geo)
        writer.append_rows("organisations", orgs)
        writer.append_rows("org_hierarchy", hier)
        service_rows, payer_rows = services(geo, window)
        writer.append_rows("services", service_rows)
        writer.append_rows("service_payers", payer_rows)
        _optional_tables(writer, geo, window, options.seed)
        con.execute("COMMIT")
        for k, idx in enumerate(chunks):
            rng = np.random.default_rng([options.seed, 2 + k])
            ch = Chunk(rng, geo, planted, window, idx, People(next_patient))

            def step(stage: str, k: int = k) -> None:
                if progress:
                    progress(f"{_chunk_label(geo, k)}: {stage}", k, len(chunks))

            batches = _simulate(ch, ids, step)
            con.execute("BEGIN TRANSACTION")
            for table, parts in batches.items():
                for cols in parts:
                    writer.append(table, cols)
            con.execute("COMMIT")
            next_patient += ch.people.count
        if progress:
            progress("done", len(chunks), len(chunks))
        con.execute("BEGIN TRANSACTION")
        _published(writer, window)
        _log(ws, con, writer.rows, options)
        con.execute("COMMIT")
    manifest = planted.manifest(seed=options.seed, scale=options.scale, years=options.years,
                                first_fy=window.first_fy)
    return dict(writer.rows), manifest, dict(writer.seconds)


def _optional_tables(writer: TableWriter, geo, window: Window, seed: int) -> None:
    """Tables added to the model by other capabilities (co-production, published
    deprivation); filled when the schema has them."""
    rows = coproduction_rows(geo, np.random.default_rng([seed, COPRODUCTION_STREAM]),
                             window.first_fy, window.end.astype(date))
    rows["area_deprivation"] = deprivation_rows(geo)
    for name, table_rows in rows.items():
        if name in TABLES_BY_NAME:
            writer.append_rows(name, table_rows)


def _published(writer: TableWriter, window: Window) -> None:
    """What a publisher would show beside the local data: the national figures the data
    is calibrated to, and registered population summed to sub-ICB, ICB and region."""
    if "external_indicator_values" in TABLES_BY_NAME:
        fy = window.first_fy + window.years - 1
        rows = [("synth:anchors", t.key, t.label, "ENG", "England", "england",
                 f"{fy}/{(fy + 1) % 100:02d}", date(fy, 4, 1), window.end.astype(date), "all",
                 "all", "all", "all", None, None, float(t.target), None, None, t.unit,
                 "published", t.source, None) for t in TARGETS]
        writer.append_rows("external_indicator_values", rows)
    if "published_population" in TABLES_BY_NAME:
        before = writer.con.execute("SELECT count(*) FROM published_population").fetchone()[0]
        writer.con.execute(PUBLISHED_POPULATION_SQL)
        after = writer.con.execute("SELECT count(*) FROM published_population").fetchone()[0]
        writer.rows["published_population"] = after - before


# Registered population on the last quarter, by sex and band and in total, at the levels
# NHS England publishes (sub-ICB, ICB, region).
PUBLISHED_POPULATION_SQL = """
INSERT INTO published_population
SELECT 'synth', h.parent_code, arg_max(o.name, o.valid_from), h.parent_type, r.quarter_start,
       coalesce(r.sex, 'all'), coalesce(r.age_band, 'all'),
       CASE WHEN r.age_band IS NULL THEN NULL ELSE CAST(split_part(replace(r.age_band, '+', ''),
            '-', 1) AS BIGINT) END,
       CASE WHEN r.age_band IS NULL OR r.age_band = '90+' THEN NULL
            ELSE CAST(split_part(r.age_band, '-', 2) AS BIGINT) END,
       sum(r.population)
FROM registered_population r
JOIN org_hierarchy h ON h.child_code = r.practice_code AND h.valid_to IS NULL
     AND h.parent_type IN ('sub_icb', 'icb', 'region')
JOIN organisations o ON o.org_code = h.parent_code
WHERE r.quarter_start = (SELECT max(quarter_start) FROM registered_population)
GROUP BY GROUPING SETS ((h.parent_code, h.parent_type, r.quarter_start, r.sex, r.age_band),
                        (h.parent_code, h.parent_type, r.quarter_start))
ORDER BY 4, 2, 6, 7
"""


def _chunk_label(geo, k: int) -> str:
    return geo.icbs[k][1] if len(geo.icbs) == 1 else f"ICB {k + 1} of {len(geo.icbs)}"


def _chunks(geo) -> list[np.ndarray]:
    icb = geo.practices.icb
    return [np.flatnonzero(icb == i) for i in range(len(geo.icbs))]


def _simulate(ch: Chunk, ids: dict[str, int],
              step: Callable[[str], None]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    step("registered population")
    registered_population(ch, out)
    step("referrals, tumours and treatments")
    cancer_out, tumours = simulate_cancer(ch, ids)
    for k, v in cancer_out.items():
        out.setdefault(k, []).extend(v)
    step("personalised care")
    simulate_care(ch, out, ids, tumours)
    step("deaths and end of life")
    deaths = simulate_eol(ch, out, ids, tumours)
    step("screening and surveys")
    screening(ch, out)
    surveys(ch, out, ids, tumours)
    step("patients")
    patients(ch, out, deaths)
    step("writing")
    return out


def _log(ws: Workspace, con, rows: dict[str, int], options: SynthOptions) -> None:
    source = f"synth:{options.seed}"
    for table, n in sorted(rows.items()):
        con.execute(
            "INSERT INTO load_log VALUES (?, ?, ?, NULL, ?, ?, 0, ?, now()::TIMESTAMP)",
            [f"synth-{options.seed}-{table}", table, source, n, n, GENERATOR_ACTOR])
    ws.audit(con, actor=GENERATOR_ACTOR, action="synth", target=options.scale,
             detail=json.dumps({"seed": options.seed, "scale": options.scale,
                                "years": options.years, "rows": rows}, sort_keys=True))
