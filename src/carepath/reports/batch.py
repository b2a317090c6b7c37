"""Batch generation of locality packs with a progress bar."""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from carepath.domain.benchmarking import profiles, spread
from carepath.engine.freshness import out_of_date
from carepath.errors import CarepathError
from carepath.indicators.library import read_library
from carepath.reports import locality_pack
from carepath.reports.indicator_meta import indicator_meta
from carepath.workspace import Workspace


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "locality"


def choose_localities(ws: Workspace, name: str | None) -> list[profiles.Area]:
    with ws.connect(read_only=True) as con:
        all_localities = profiles.localities(con)
        if name is None:
            if not all_localities:
                raise CarepathError("the workspace has no localities", where=str(ws.path))
            return all_localities
        found = profiles.find_locality(con, name)
    if found is None:
        valid = ", ".join(a.name for a in all_localities) or "(none)"
        raise CarepathError(f"unknown locality {name!r}; valid localities: {valid}")
    return [found]


# Packs are independent and chart drawing is single-threaded, so a batch uses one process
# per core (read-only workspace connections may be shared between processes).
MAX_WORKERS = os.cpu_count() or 1


def _out_of_date(ws: Workspace) -> dict[str, str]:
    """Indicator id -> why its values are out of date: once per batch, not per pack (it
    reads every indicator's provenance)."""
    definitions, unreadable = read_library(ws.definitions_dir("indicators"))
    with ws.connect(read_only=True) as con:
        stale = out_of_date(con, definitions, ws.config(), unreadable)
    return {k: v.reason for k, v in stale.items()}


def _spreads_by_locality(ws: Workspace, targets: list[profiles.Area]) -> dict[str, dict]:
    """Each locality's slice of the practices' spreads: worked out once per batch, not
    per pack (every practice in the workspace is read for it)."""
    definitions, _ = read_library(ws.definitions_dir("indicators"))
    with ws.connect(read_only=True) as con:
        widened = profiles.practice_spreads(con, indicator_meta(con, definitions=definitions))
        return {a.code: spread.for_practices(
            widened, {p.code for p in profiles.practices_in(con, a.code)}) for a in targets}


def _one_pack(ws_path: str, area: profiles.Area, out_dir: Path, pdf: bool,
              stale: dict[str, str], widened: dict | None = None) -> list[Path]:
    ws = Workspace(Path(ws_path))
    definitions, _ = read_library(ws.definitions_dir("indicators"))  # its own too
    with ws.connect(read_only=True) as con:
        pack = locality_pack.build(con, area, stale, definitions=definitions,
                                   widened=widened)
    html = locality_pack.render_html(pack)
    base = out_dir / _slug(area.name)
    html_path = base.with_suffix(".html")
    html_path.write_text(html, encoding="utf-8")
    written = [html_path]
    if pdf:
        locality_pack.write_pdf(html, base.with_suffix(".pdf"))
        written.append(base.with_suffix(".pdf"))
    return written


def generate(
    ws: Workspace,
    out_dir: Path,
    *,
    pdf: bool = False,
    locality: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Write one HTML (and optionally PDF) pack per locality; returns the files written."""
    targets = choose_localities(ws, locality)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CarepathError(f"cannot create the output folder ({exc.strerror})",
                            where=str(out_dir)) from None
    workers = min(workers or MAX_WORKERS, len(targets))
    stale = _out_of_date(ws)
    spreads = _spreads_by_locality(ws, targets)
    if workers <= 1:
        written = []
        for area in targets:
            written += _one_pack(str(ws.path), area, out_dir, pdf, stale, spreads[area.code])
            if progress:
                progress(area.name)
        return written
    # 'spawn': a fresh interpreter per worker, so no DuckDB or chart-engine state is forked.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [(area, pool.submit(_one_pack, str(ws.path), area, out_dir, pdf, stale,
                                      spreads[area.code])) for area in targets]
        written = []
        for area, future in futures:
            written += future.result()
            if progress:
                progress(area.name)
    return written
