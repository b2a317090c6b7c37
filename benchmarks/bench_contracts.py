"""Contracts: assessing a 10-year contract with 20 outcomes (every year, from one read of a
workspace) and the chance simulation with 10,000 draws for the whole contract.

There is no open peer (domain anchors A9: no open payment-mechanism tool exists), so the
rows carry the issue's targets only: assessment <= 2 s, simulation <= 10 s.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import yaml

from carepath import stats
from carepath.domain.contracts import chance
from carepath.domain.contracts.assessment import assess_all
from carepath.domain.contracts.data import ContractData, read_values
from carepath.domain.contracts.definitions import load_contract
from carepath.indicators.library import load_library
from carepath.workspace import Workspace

OUTCOMES, TERM, FIRST_FY = 20, 10, 2021
ASSESS_TARGET_S, SIMULATE_TARGET_S = 2.0, 10.0
DRAWS = 10_000
SEED = 20_260_401
PROVIDERS = ("RAA", "RBB", "RCC")


def _indicators(library) -> list[str]:
    """Judged proportions; provider-attributed ones exercise the pooling path."""
    ids = [i for i, d in library.items() if d.polarity != "no_judgement"
           and d.statistic == "proportion" and d.period == "financial_year"]
    return (ids * 2)[:OUTCOMES]


def _fy(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _row(ind, code, area_type, year, num, den):
    iv = stats.proportion(num, den, multiplier=100)
    lo, hi = float(iv.lower), float(iv.upper)
    return (ind, "1", "h", code, code, area_type, None, _fy(year), date(year, 4, 1),
            date(year + 1, 3, 31), "all", "all", num, den, float(iv.value), lo, hi, lo - 1,
            hi + 1, "proportion", "Wilson", None, None, None, None, "published", None, "",
            "bench", datetime(2026, 1, 1))


def build(folder: Path) -> tuple[Path, Workspace]:
    library = load_library()
    ids = _indicators(library)
    rng = np.random.default_rng(SEED)
    ws = Workspace.init(folder / "ws")
    rows, outcomes = [], []
    for i, ind in enumerate(ids):
        provider = library[ind].attribution == "provider"
        for year in range(FIRST_FY - 1, FIRST_FY + TERM):
            for code in (PROVIDERS if provider else ("QWX",)):
                den = int(rng.integers(800, 5000))
                num = int(rng.binomial(den, 0.5 + 0.002 * (year - FIRST_FY)))
                rows.append(_row(ind, code, "provider" if provider else "icb", year, num, den))
        outcomes.append({"id": f"o{i:02d}", "title": f"Outcome {i}", "indicator": ind,
                         "baseline_period": _fy(FIRST_FY - 1),
                         "trajectory": {y: 50 + 0.5 * y for y in range(1, TERM + 1)},
                         "weight": 1 / OUTCOMES})
    with ws.transaction() as con:
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})", rows)
    fw = {"id": "bench", "title": "Bench", "term_years": TERM,
          "coproduction": [{"event": "e", "date": "2020-01-01", "groups": ["g"],
                            "agreed": "a"}],
          "domains": [{"id": "d", "statement": "s", "outcomes": outcomes}]}
    contract = {"id": "bench_contract", "title": "Bench", "framework": "fw.yaml",
                "commissioners": [{"code": "QWX", "name": "ICB"}],
                "prime_provider": {"code": PROVIDERS[0], "name": "Prime"},
                "subcontractors": [{"code": c, "name": c, "service_lines": ["x"]}
                                   for c in PROVIDERS[1:]],
                "population": {"area_type": "icb", "area_code": "QWX"},
                "term": {"first_year": _fy(FIRST_FY), "years": TERM},
                "annual_value": 50_000_000,
                "share_at_risk": {y: (0 if y <= 2 else 0.1) for y in range(1, TERM + 1)},
                "payment": {"default": {"cap": 1.2, "gain_share": 0.5}}}
    (folder / "fw.yaml").write_text(yaml.safe_dump(fw))
    path = folder / "contract.yaml"
    path.write_text(yaml.safe_dump(contract))
    return path, ws


def _best(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool) -> list[dict]:
    library = load_library()
    with tempfile.TemporaryDirectory() as tmp:
        path, ws = build(Path(tmp))
        contract, fw = load_contract(path, library)
        with ws.connect(read_only=True) as con:
            assess_all(con, contract, fw, library)  # warm-up
            t_assess = _best(lambda: assess_all(con, contract, fw, library), 1 if quick else 3)
            data = ContractData(read_values(con, contract, fw), contract, library)
        inputs = chance.inputs_from_data(data, fw, TERM)
        t_sim = _best(lambda: chance.simulate(contract, fw, library, inputs, TERM,
                                              draws=DRAWS, seed=SEED), 1 if quick else 3)
    return [
        {"benchmark": f"assess a {TERM}-year contract with {OUTCOMES} outcomes, every year "
                      "(judgement, SPC, attribution, payment; no peer exists)",
         "value": t_assess, "unit": "s", "target": ASSESS_TARGET_S, "peer": None,
         "ratio": None},
        {"benchmark": f"chance simulation, {DRAWS:,} draws x {OUTCOMES} outcomes x 2 "
                      "scenarios (no peer exists)",
         "value": t_sim, "unit": "s", "target": SIMULATE_TARGET_S, "peer": None,
         "ratio": None},
    ]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
