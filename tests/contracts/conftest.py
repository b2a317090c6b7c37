"""A tiny workspace with hand-written indicator values and a 7-year contract (known answers).

Year 3 (2023/24): early stage 51.0 (50.5-51.5) against 52 from an agreed baseline of 50:
not met, half way, earns half its pot of 60,000 = 30,000. Faster diagnosis pooled over the
two providers 1090/1400 = 77.9% (Wilson 75.6-79.9) against 76: not distinguishable, so
credited on target and earns its whole pot of 40,000. Year 4 (2024/25): early stage 55.0
(54.5-55.5) against 54: met, achievement capped at 1, 60,000; faster diagnosis has a
suppressed provider row, so its pot is withheld by the data-quality gate.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from carepath import stats
from carepath.workspace import Workspace

FY = {"2020/21": 2020, "2021/22": 2021, "2022/23": 2022, "2023/24": 2023, "2024/25": 2024}


def value_row(ind, code, area_type, period, num, den, value, lo, hi, state="published"):
    y = FY[period]
    return (ind, "1", "h", code, code, area_type, None, period, date(y, 4, 1),
            date(y + 1, 3, 31), "all", "all", num, den, value, lo, hi,
            None if lo is None else lo - 1, None if hi is None else hi + 1,
            "proportion", "Wilson", None, None, None, None, state,
            None if state == "published" else "suppressed: count 1-7", "", "0.1.0",
            datetime(2025, 6, 1))


def provider_row(code, period, num, den, state="published"):
    if state != "published":
        return value_row("fds_28_day_provider", code, "provider", period, None, None, None,
                         None, None, state=state)
    iv = stats.proportion(num, den, multiplier=100)
    return value_row("fds_28_day_provider", code, "provider", period, num, den,
                     float(iv.value), float(iv.lower), float(iv.upper))


ROWS = [
    value_row("early_stage_known", "QWX", "icb", "2021/22", 500, 1000, 50.0, 49.5, 50.5),
    value_row("early_stage_known", "QWX", "icb", "2022/23", 490, 1000, 49.0, 48.5, 49.5),
    value_row("early_stage_known", "QWX", "icb", "2023/24", 510, 1000, 51.0, 50.5, 51.5),
    value_row("early_stage_known", "QWX", "icb", "2024/25", 550, 1000, 55.0, 54.5, 55.5),
    value_row("stage_recorded_pct", "QWX", "icb", "2023/24", 800, 1000, 80.0, 77.0, 83.0),
    value_row("stage_recorded_pct", "QWX", "icb", "2024/25", 800, 1000, 80.0, 77.0, 83.0),
    provider_row("RAA", "2020/21", 700, 1000),
    provider_row("RBB", "2020/21", 300, 400),
    provider_row("RAA", "2023/24", 760, 1000),
    provider_row("RBB", "2023/24", 330, 400),
    provider_row("RAA", "2024/25", None, None, state="suppressed"),
    provider_row("RBB", "2024/25", 330, 400),
]

FRAMEWORK = {
    "id": "test_outcomes", "title": "Test outcomes", "term_years": 7,
    "coproduction": [{"event": "Workshop", "date": "2020-10-01",
                      "groups": ["patients", "carers"], "agreed": "the outcomes"}],
    "domains": [
        {"id": "early", "statement": "I was diagnosed early", "outcomes": [
            {"id": "stage", "title": "Early stage", "indicator": "early_stage_known",
             "baseline_period": "2020/21", "baseline_value": 50.0,
             "trajectory": {1: 50, 2: 50, 3: 52, 4: 54, 5: 56, 6: 58, 7: 60},
             "weight": 0.6,
             "data_quality": {"min_denominator": 100, "indicator": "stage_recorded_pct",
                              "min_value": 70}}]},
        {"id": "quick", "statement": "I was told quickly", "outcomes": [
            {"id": "fds", "title": "Faster diagnosis", "indicator": "fds_28_day_provider",
             "baseline_period": "2020/21",
             "trajectory": {1: 75, 2: 75, 3: 76, 4: 77, 5: 78, 6: 79, 7: 80},
             "weight": 0.4}]},
    ],
}

CONTRACT = {
    "id": "test_contract", "title": "Test contract", "framework": "framework.yaml",
    "commissioners": [{"code": "QWX", "name": "Test ICB"}],
    "prime_provider": {"code": "RAA", "name": "Prime Trust"},
    "subcontractors": [{"code": "RBB", "name": "Sub Trust", "service_lines": ["diagnostics"]},
                       {"code": "HOS", "name": "A Hospice", "service_lines": ["palliative"]}],
    "population": {"area_type": "icb", "area_code": "QWX"},
    "term": {"first_year": "2021/22", "years": 7},
    "annual_value": 1_000_000,
    "share_at_risk": {1: 0, 2: 0, 3: "10%", 4: "10%", 5: "15%", 6: "15%", 7: "15%"},
    "payment": {"default": {"rule": "linear", "cap": 1, "gain_share": 0, "risk_share": 1}},
}


def write_pair(folder: Path, framework: dict | None = None, contract: dict | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "framework.yaml").write_text(yaml.safe_dump(framework or FRAMEWORK))
    path = folder / "contract.yaml"
    path.write_text(yaml.safe_dump(contract or CONTRACT))
    return path


@pytest.fixture
def contract_file(tmp_path) -> Path:
    return write_pair(tmp_path / "defs")


# The network and area as the workspace's organisations know them (HOS has no activity).
ORGANISATIONS = [("QWX", "Test ICB", "icb"), ("RAA", "Prime Trust", "trust"),
                 ("RBB", "Sub Trust", "trust"), ("HOS", "A Hospice", "hospice"),
                 ("L1", "A locality", "locality")]
HASH, LOADS, VERSION = 2, 27, 28  # columns of a value row


def insert_values(ws: Workspace, rows=None) -> None:
    """Rows as a compute of today's definitions on today's data would have left them, so
    they are not out of date; and the organisations they are about."""
    from carepath import __version__
    from carepath.engine.freshness import load_ids, settings_fingerprint
    from carepath.indicators.library import load_library
    from carepath.workspace.loads import data_loads

    library = load_library()
    with ws.transaction() as con:
        loads, settings = data_loads(con), settings_fingerprint(ws.config())
        fresh = []
        for row in rows or ROWS:
            row = list(row)
            defn = library[row[0]]
            row[HASH], row[LOADS] = defn.content_hash(), load_ids(loads, defn, settings)
            row[VERSION] = __version__
            fresh.append(tuple(row))
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})", fresh)
        con.executemany("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, ?, DATE '2013-04-01')", ORGANISATIONS)


@pytest.fixture
def contract_ws(tmp_path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    insert_values(ws)
    return ws


# ----- web: two contracts (primes RAA and RBB) and an account per role -------------------
PASSWORD = "correct-horse-battery"
ACCOUNTS = {"commish": ("commissioner", []), "prime_a": ("provider", ["RAA"]),
            "prime_b": ("provider", ["RBB"]), "lead": ("locality_lead", ["L1"])}


def other_contract() -> dict:
    other = copy.deepcopy(CONTRACT)
    other.update(id="other_contract", title="Other contract",
                 prime_provider={"code": "RBB", "name": "Sub Trust"},
                 subcontractors=[{"code": "RAA", "name": "Prime Trust",
                                  "service_lines": ["diagnostics"]}])
    return other


@contextlib.contextmanager
def cheap_password_hashes():
    """argon2id with minimal cost: these tests are about scopes, not password strength."""
    from argon2 import PasswordHasher

    from carepath.web import users

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                    parallelism=1))
        yield


def build_web_workspace(folder: Path) -> Workspace:
    from carepath.domain.contracts.definitions import load_contract
    from carepath.domain.contracts.registry import register
    from carepath.indicators.library import load_library
    from carepath.web import users

    ws = Workspace.init(folder / "ws")
    insert_values(ws)
    library = load_library()
    for name, data in (("a", CONTRACT), ("b", other_contract())):
        contract, fw = load_contract(write_pair(folder / name, contract=data), library)
        register(ws, contract, fw, actor="test")
    for name, (role, scope) in ACCOUNTS.items():
        users.add_user(ws, by="test", username=name, password=PASSWORD, role=role,
                       scope=scope)
    return ws
