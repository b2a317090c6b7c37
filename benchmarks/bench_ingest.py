"""Ingest benchmark: load a large generated care-events CSV with full validation
(types, required fields, code lists, future dates, references to patients, tumours and
organisations, duplicate keys) into a workspace, in rows per second and peak memory, side
by side with the peer named by the issue: pandas ``read_csv`` plus equivalent pandas
validation (which only validates; it does not write a database).

Each measurement runs in a fresh process so its peak resident memory (ru_maxrss) is its
own. Target (issue 5): >= 1 million rows/s on 2 cores with bounded memory, on 20 million
rows (quick: 1 million)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = {True: 1_000_000, False: 20_000_000}
TARGET_ROWS_PER_S = 1_000_000
PATIENTS = 200_000
TUMOURS = 150_000
PRACTICES = 100
# About one row in a thousand is planted bad (code, date, or reference) so the
# quarantine path is exercised too.
BAD_EVERY = 1000
KB_PER_MB = 1024

_GENERATE = """
COPY (
  SELECT 'e' || i AS event_id,
         'p' || (hash(i) % {patients}) AS patient_id,
         CASE WHEN i % 3 = 0 THEN '' ELSE 't' || (hash(i + 1) % {tumours}) END AS tumour_id,
         CASE WHEN i % {bad} = 7 THEN 'telepathy'
              ELSE ['hna', 'care_plan', 'treatment_summary', 'cancer_care_review',
                    'health_wellbeing', 'follow_up_pathway'][1 + i % 6] END AS event_type,
         CASE WHEN i % {bad} = 11 THEN '2021-02-30'
              ELSE strftime(DATE '2019-01-01' + INTERVAL (hash(i + 2) % 2000) DAY, '%Y-%m-%d')
         END AS event_date,
         CASE WHEN i % {bad} = 13 THEN 'NOPE' ELSE 'P' || (i % {practices}) END
           AS provider_code,
         ['offered_accepted', 'offered_declined', 'not_offered'][1 + i % 3] AS cosd_status,
         CASE WHEN i % 6 = 5 THEN 'supported_self_management' ELSE '' END AS follow_up_pathway
  FROM range({rows}) r(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

_REFERENCES = [
    """INSERT INTO organisations (org_code, name, org_type, valid_from)
       SELECT 'P' || i, 'Practice ' || i, 'practice', DATE '2000-01-01' FROM range({practices}) r(i)""",
    """INSERT INTO patients (patient_id, sex, year_of_birth, practice_code)
       SELECT 'p' || i, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END, 1930 + i % 60,
              'P' || i % {practices} FROM range({patients}) r(i)""",
    """INSERT INTO tumours (tumour_id, patient_id, practice_code, icd10, tumour_group, stage,
              route, diagnosis_date)
       SELECT 't' || i, 'p' || i % {patients}, 'P' || i % {practices}, 'C50', 'breast', '2',
              'gp_referral', DATE '2018-06-01' FROM range({tumours}) r(i)""",
]

_CAREPATH_CHILD = """
import json, resource, sys, time
from carepath.ingest import load_files
from carepath.workspace import Workspace
ws = Workspace.open(sys.argv[1])
t0 = time.perf_counter()
(res,) = load_files(ws, "care_events", [sys.argv[2]])
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "read": res.rows_read, "loaded": res.rows_loaded,
                  "quarantined": res.rows_quarantined,
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# The ceiling on this machine: DuckDB's own parallel CSV reader inserting straight into the
# same table, no validation, no row numbers, no quarantine. No loader into this database can
# beat it; it shows how much of the time validation takes.
_FLOOR_CHILD = """
import json, resource, sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
con.execute("BEGIN")
n = con.execute("INSERT INTO care_events SELECT * REPLACE (CAST(TRY_STRPTIME(event_date, "
                "'%Y-%m-%d') AS DATE) AS event_date) FROM read_csv(?, all_varchar = true)",
                [sys.argv[2]]).fetchall()[0][0]
con.execute("ROLLBACK")
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "read": n, "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# Equivalent checks in pandas: required, codes, date type and future, references, keys.
_PANDAS_CHILD = """
import json, resource, sys, time
import duckdb, pandas as pd
con = duckdb.connect(sys.argv[1], read_only=True)
patients = set(con.execute("SELECT patient_id FROM patients").fetchnumpy()["patient_id"])
tumours = set(con.execute("SELECT tumour_id FROM tumours").fetchnumpy()["tumour_id"])
orgs = set(con.execute("SELECT org_code FROM organisations").fetchnumpy()["org_code"])
con.close()
codes = json.loads(sys.argv[3])
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
bad = pd.Series(False, index=df.index)
for col in ("event_id", "patient_id", "event_type", "event_date"):
    bad |= df[col].str.strip() == ""
for col, allowed in codes.items():
    v = df[col].str.strip()
    bad |= (v != "") & ~v.str.lower().isin(allowed)
dates = pd.to_datetime(df["event_date"], format="%Y-%m-%d", errors="coerce")
bad |= dates.isna() | (dates > pd.Timestamp.today())
bad |= ~df["patient_id"].isin(patients)
bad |= (df["tumour_id"] != "") & ~df["tumour_id"].isin(tumours)
bad |= (df["provider_code"] != "") & ~df["provider_code"].isin(orgs)
bad |= df["event_id"].duplicated()
good = df[~bad]
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "read": len(df), "loaded": len(good),
                  "quarantined": int(bad.sum()),
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", "import json\n" + code, *args],
                         capture_output=True, text=True, check=True)
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def _care_event_codes() -> dict[str, list[str]]:
    from carepath.model import codes

    return {"event_type": list(codes.CARE_EVENT_TYPES), "cosd_status": list(codes.COSD_STATUS),
            "follow_up_pathway": list(codes.FOLLOW_UP_PATHWAYS)}


def _prepare(root: Path, rows: int) -> tuple[Path, Path]:
    import duckdb

    from carepath.workspace import Workspace

    sizes = {"rows": rows, "patients": PATIENTS, "tumours": TUMOURS,
             "practices": PRACTICES, "bad": BAD_EVERY}
    csv_path = root / "care_events.csv"
    con = duckdb.connect()
    con.execute(_GENERATE.format(path=csv_path, **sizes))
    con.close()
    ws = Workspace.init(root / "ws")
    with ws.transaction() as wcon:
        for sql in _REFERENCES:
            wcon.execute(sql.format(**sizes))
    return ws.path, csv_path


def _nhs_numbers(n: int, seed: int = 5) -> list[str]:
    """n valid NHS numbers (modulus 11), generated vectorised."""
    import numpy as np

    from carepath.ingest.nhs_number import CHECK_MODULUS, CHECK_WEIGHTS

    rng = np.random.default_rng(seed)
    nine = rng.integers(0, 10, size=(n * 2, 9))
    check = (CHECK_MODULUS - (nine @ np.array(CHECK_WEIGHTS)) % CHECK_MODULUS) % CHECK_MODULUS
    keep = check != 10
    digits = np.hstack([nine[keep], check[keep, None]])[:n]
    return ["".join(map(str, row)) for row in digits]


def _pseudonymise_rows(quick: bool) -> list[dict]:
    """NHS numbers pseudonymised per second, all distinct (a patients file): Carepath's
    vectorised check + precomputed HMAC states vs the plain hmac.new loop."""
    import hashlib
    import hmac
    import time

    import pyarrow as pa

    from carepath.ingest.nhs_number import Pseudonymiser, check_digit_ok

    values = _nhs_numbers(ROWS[True] // (4 if quick else 1))
    key = b"k" * 32
    started = time.perf_counter()
    Pseudonymiser(key).array(pa.array(values))
    ours = len(values) / (time.perf_counter() - started)
    started = time.perf_counter()
    for v in values:
        if check_digit_ok(v):
            hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
    plain = len(values) / (time.perf_counter() - started)
    print(f"pseudonymise {len(values):,} distinct NHS numbers: {ours:,.0f}/s (plain hmac loop "
          f"{plain:,.0f}/s)", flush=True)
    return [{"benchmark": f"pseudonymise {len(values):,} distinct NHS numbers", "value": ours,
             "unit": "numbers/s", "target": None, "peer": plain, "ratio": ours / plain}]


def run(quick: bool) -> list[dict]:
    return _load_rows(quick) + _pseudonymise_rows(quick)


def _load_rows(quick: bool) -> list[dict]:
    rows = ROWS[quick]
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        ws_path, csv_path = _prepare(root, rows)
        size_mb = csv_path.stat().st_size / KB_PER_MB / KB_PER_MB
        floor = _child(_FLOOR_CHILD, str(ws_path / "carepath.duckdb"), str(csv_path))
        ours = _child(_CAREPATH_CHILD, str(ws_path), str(csv_path))
        peer = _child(_PANDAS_CHILD, str(ws_path / "carepath.duckdb"), str(csv_path),
                      json.dumps(_care_event_codes()))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert ours["read"] == ours["loaded"] + ours["quarantined"] == rows
    ours_rate, peer_rate = rows / ours["seconds"], rows / peer["seconds"]
    label = f"{rows:,} care events ({size_mb:,.0f} MB CSV)"
    print(f"{label}: carepath {ours_rate:,.0f} rows/s, peak {ours['peak_kb'] / KB_PER_MB:,.0f} MB, "
          f"quarantined {ours['quarantined']:,}; pandas {peer_rate:,.0f} rows/s, peak "
          f"{peer['peak_kb'] / KB_PER_MB:,.0f} MB, flagged {peer['quarantined']:,}; DuckDB "
          f"read_csv -> INSERT without validation {rows / floor['seconds']:,.0f} rows/s",
          flush=True)
    return [
        {"benchmark": f"load + validate {label}, per CPU-second (robust to a busy machine)",
         "value": rows / ours["cpu"], "unit": "rows/cpu-s", "target": None,
         "peer": rows / peer["cpu"], "ratio": peer["cpu"] / ours["cpu"]},
        {"benchmark": f"load + validate {label}", "value": ours_rate, "unit": "rows/s",
         "target": TARGET_ROWS_PER_S, "peer": peer_rate, "ratio": ours_rate / peer_rate},
        {"benchmark": f"ceiling: DuckDB read_csv -> INSERT, no validation, {label}",
         "value": rows / floor["seconds"], "unit": "rows/s", "target": None, "peer": None,
         "ratio": None},
        {"benchmark": f"peak memory, {label}", "value": ours["peak_kb"] / KB_PER_MB,
         "unit": "MB", "target": None, "peer": peer["peak_kb"] / KB_PER_MB,
         "ratio": ours["peak_kb"] / peer["peak_kb"]},
    ]
