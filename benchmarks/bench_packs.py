"""Locality packs (issue 6): all Wessex packs as PDF, target <= 60 s.

Uses the cached Wessex workspace of bench_indicators (computed first if needed). No peer
tool produces these packs, so there is no ratio.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.bench_indicators import _workspace

TARGET_SECONDS = 60


def run(quick: bool) -> list[dict]:
    from carepath.engine.run import compute
    from carepath.indicators.library import builtin
    from carepath.reports.batch import choose_localities, generate
    from carepath.workspace import Workspace

    ws = Workspace.open(_workspace("county"))
    compute(ws, list(builtin().values()))  # skips unchanged indicators
    localities = choose_localities(ws, None)
    out = Path(tempfile.mkdtemp(prefix="carepath-packs-"))
    try:
        started = time.perf_counter()
        if quick:  # one pack
            localities = localities[:1]
            generate(ws, out, pdf=True, locality=localities[0].name)
        else:  # the batch, one process per core
            generate(ws, out, pdf=True)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return [{"benchmark": f"{len(localities)} Wessex locality packs, HTML + PDF",
             "value": seconds, "unit": "s", "target": f"<= {TARGET_SECONDS} s (13 packs)",
             "peer": None, "ratio": None}]
