"""Economics benchmark: a 10,000-draw probabilistic (Monte Carlo) analysis of a 30-service
model (issue target: <= 5 s), side by side with a plain-Python loop that evaluates the same
model one draw at a time (carepath.domain.economics.reference)."""

from __future__ import annotations

import time

import numpy as np

from carepath.domain.economics import reference
from carepath.domain.economics.definitions import CBAModel
from carepath.domain.economics.sensitivity import monte_carlo, sample_parameters, tornado

SERVICES = 30
BENEFITS_PER_SERVICE = 3
HORIZON_YEARS = 10
DRAWS = 10_000
TARGET_SECONDS = 5.0
# The loop peer is timed on fewer draws and scaled: it is linear in draws.
PEER_DRAWS = {True: 200, False: 1_000}
ORGS = ["icb", "acute_trust", "community", "social_care", "primary_care", "patient_carer"]
SEED = 9


def synthetic_model(services: int = SERVICES) -> CBAModel:
    rng = np.random.default_rng(SEED)
    svc, ben, unc = [], [], []
    for i in range(services):
        cost, activity = float(rng.uniform(50, 3000)), float(rng.uniform(100, 5000))
        svc.append({"id": f"s{i}", "name": f"Service {i}", "unit_cost": cost,
                    "activity": activity, "payers": {"icb": 0.7, "community": 0.3},
                    "confidence": int(rng.integers(1, 7))})
        unc += [{"parameter": f"services.s{i}.unit_cost",
                 "distribution": {"kind": "gamma", "mean": cost, "sd": cost * 0.15}},
                {"parameter": f"services.s{i}.activity",
                 "distribution": {"kind": "triangular", "low": activity * 0.8,
                                  "mode": activity, "high": activity * 1.1}}]
        for j in range(BENEFITS_PER_SERVICE):
            bid = f"b{i}_{j}"
            qty = float(rng.uniform(10, 500))
            ben.append({"id": bid, "outcome": "o", "quantity": qty, "unit_value": f"v{j}",
                        "beneficiary": ORGS[int(rng.integers(1, len(ORGS)))],
                        "service": f"s{i}", "deadweight": 0.2, "attribution": 0.7,
                        "drop_off": 0.05, "health": j == 2})
            unc += [{"parameter": f"benefits.{bid}.quantity",
                     "distribution": {"kind": "triangular", "low": qty * 0.5, "mode": qty,
                                      "high": qty * 1.3}},
                    {"parameter": f"benefits.{bid}.deadweight",
                     "distribution": {"kind": "beta", "alpha": 4, "beta": 16}}]
    values = [{"id": f"v{j}", "value": v, "unit": "u", "source": "benchmark"}
              for j, v in enumerate((3000.0, 420.0, 70000.0))]
    return CBAModel.model_validate({
        "id": "bench", "title": "Benchmark", "base_year": 2025, "horizon_years": HORIZON_YEARS,
        "organisations": {o: o for o in ORGS}, "unit_values": values, "services": svc,
        "benefits": ben, "uncertainty": unc})


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(quick: bool) -> list[dict]:
    model = synthetic_model()
    monte_carlo(model, draws=100, seed=1)  # warm-up (imports, caches)
    ours = min(_time(lambda: monte_carlo(model, draws=DRAWS, seed=1)) for _ in range(3))
    n_peer = PEER_DRAWS[quick]
    draws = {k: v.tolist() for k, v in
             sample_parameters(model, n_peer, np.random.default_rng(1)).items()}
    peer = _time(lambda: reference.monte_carlo_loop(model, draws, n_peer)) * DRAWS / n_peer
    label = (f"Monte Carlo {DRAWS:,} draws, {SERVICES} services, "
             f"{len(model.uncertainty)} uncertain parameters (peer: plain-Python loop, "
             f"timed on {n_peer:,} draws and scaled; ratio = peer / ours)")
    one_way = _time(lambda: tornado(model))
    return [{"benchmark": label, "value": ours, "unit": "s", "target": TARGET_SECONDS,
             "peer": peer, "ratio": peer / ours},
            {"benchmark": f"Tornado with switching values, {len(model.uncertainty)} "
                          "parameters", "value": one_way, "unit": "s", "target": None,
             "peer": None, "ratio": None}]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
