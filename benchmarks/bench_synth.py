"""Synthetic data generation: the Wessex county (target <= 30 s) and all England with
five years (targets <= 15 min and <= 12 GB peak memory on 2 cores), with rows/s per table.

Each run is a separate Python process so its peak resident memory is its own. There is no
open peer generator for this data model, so rows carry the issue's targets only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

COUNTY_TARGET_S = 30.0
ENGLAND_TARGET_S = 15 * 60.0
ENGLAND_TARGET_GB = 12.0
YEARS = 5
SEED = 42

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from carepath.synth.generator import SynthOptions, synthesise
started = time.perf_counter()
r = synthesise(Path(sys.argv[1]), SynthOptions(seed=int(sys.argv[2]), scale=sys.argv[3],
                                               years=int(sys.argv[4])))
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "rows": r.rows,
                  "cpu_seconds": use.ru_utime + use.ru_stime,
                  "insert_seconds": r.insert_seconds,
                  "peak_kb": use.ru_maxrss}))
"""


def _run(scale: str, years: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(Path(tmp) / "ws"), str(SEED),
                              scale, str(years)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rows(name: str, res: dict, target_s: float, target_gb: float | None) -> list[dict]:
    total = sum(res["rows"].values())
    gb = res["peak_kb"] / 1024 ** 2
    rows = [
        {"benchmark": f"{name}: generate", "value": res["seconds"], "unit": "s",
         "target": target_s, "peer": None, "ratio": res["seconds"] / target_s},
        {"benchmark": f"{name}: CPU time", "value": res["cpu_seconds"], "unit": "s",
         "target": target_s, "peer": None, "ratio": res["cpu_seconds"] / target_s},
        {"benchmark": f"{name}: rows", "value": float(total), "unit": "rows", "target": None,
         "peer": None, "ratio": None},
        {"benchmark": f"{name}: overall rows/s", "value": total / res["seconds"],
         "unit": "rows/s", "target": None, "peer": None, "ratio": None},
        {"benchmark": f"{name}: peak memory", "value": gb, "unit": "GB",
         "target": target_gb, "peer": None, "ratio": gb / target_gb if target_gb else None},
    ]
    for table, n in sorted(res["rows"].items(), key=lambda kv: -kv[1]):
        secs = max(res["insert_seconds"].get(table, 0.0), 1e-6)
        rows.append({"benchmark": f"{name}: insert {table} ({n:,} rows)", "value": n / secs,
                     "unit": "rows/s", "target": None, "peer": None, "ratio": None})
    return rows


def run(quick: bool) -> list[dict]:
    out = _rows(f"county {YEARS}y", _run("county", YEARS), COUNTY_TARGET_S, None)
    if quick:
        out += _rows("england 1y", _run("england", 1), ENGLAND_TARGET_S / YEARS,
                     ENGLAND_TARGET_GB)
    else:
        out += _rows(f"england {YEARS}y", _run("england", YEARS), ENGLAND_TARGET_S,
                     ENGLAND_TARGET_GB)
    for r in out:
        print(f"{r['benchmark']}: {r['value']:,.2f} {r['unit']}", flush=True)
    return out


