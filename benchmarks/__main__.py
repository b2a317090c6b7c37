"""Run every benchmark and print one summary table (``make bench``)."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent


def _modules(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if selected:
        wanted = {f"bench_{s.removeprefix('bench_')}" for s in selected}
        unknown = wanted - set(names)
        if unknown:
            sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return "" if v is None else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("areas", nargs="*", help="e.g. stats synth ingest")
    parser.add_argument("--quick", action="store_true", help="small variants only")
    parser.add_argument("--json", type=Path, help="also write all rows to this JSON file")
    args = parser.parse_args()

    rows: list[dict] = []
    for name in _modules(args.areas):
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            rows += [{"area": name, **r} for r in module.run(quick=args.quick)]
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            traceback.print_exc()
            rows.append({"area": name, "benchmark": "FAILED", "value": None})
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)

    print("\n=== summary ===")
    cols = ["area", "benchmark", "value", "unit", "target", "peer", "ratio"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(_fmt(r.get(c)) for c in cols))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
