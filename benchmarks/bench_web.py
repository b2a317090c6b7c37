"""Web load benchmark (issues 10 and 6): N concurrent signed-in clients on 127.0.0.1 against
an England-sized workspace for D seconds over the main pages and the API; p50/p95/p99 and
errors. Targets: p95 <= 250 ms with no errors over the mix; practice profile p95 <= 300 ms.

The workspace: ``$CAREPATH_BENCH_WS`` if set; else (full run) the computed synthetic England
workspace of the engine benchmark when it exists; otherwise one is made with England's shape
(42 ICBs, 210 localities, 6,300 practices, 40 indicators x 3 periods: about 800,000
indicator values), written straight into ``indicator_values``. The server runs in its own process (`carepath serve`),
so the load generator does not share its interpreter.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "benchmark-password-1"
CLIENTS = 50
DURATION_S = 60.0
QUICK_DURATION_S = 10.0
P95_TARGET_MS = 250.0
PROFILE_P95_TARGET_MS = 300.0
ICBS, LOCALITIES_PER_ICB, PRACTICES_PER_LOCALITY = 42, 5, 30
INDICATORS, PERIODS = 40, ("2022/23", "2023/24", "2024/25")


def build_england(path: Path):
    """An England-shaped workspace with synthetic indicator values (no person data)."""
    from carepath.workspace import Workspace

    ws = Workspace.init(path)
    with ws.transaction() as con:
        con.execute(f"""
            CREATE TEMP TABLE geo AS
            SELECT i, l, p,
                   'I' || lpad(i::VARCHAR, 2, '0') AS icb,
                   'L' || lpad(i::VARCHAR, 2, '0') || l AS loc,
                   'P' || lpad(i::VARCHAR, 2, '0') || l || lpad(p::VARCHAR, 2, '0') AS prac
            FROM range({ICBS}) a(i), range({LOCALITIES_PER_ICB}) b(l),
                 range({PRACTICES_PER_LOCALITY}) c(p)""")
        for level, col in (("icb", "icb"), ("locality", "loc"), ("practice", "prac")):
            con.execute(f"""INSERT INTO organisations (org_code, name, org_type, valid_from)
                SELECT DISTINCT {col}, '{level.title()} ' || {col}, '{level}',
                       DATE '2015-01-01' FROM geo""")
        con.execute("""INSERT INTO org_hierarchy SELECT DISTINCT prac, loc, 'locality',
                       DATE '2015-01-01', NULL FROM geo""")
        con.execute("""INSERT INTO org_hierarchy SELECT DISTINCT prac, icb, 'icb',
                       DATE '2015-01-01', NULL FROM geo""")
        periods = ", ".join(f"({k}, '{p}')" for k, p in enumerate(PERIODS))
        con.execute("""
            CREATE TEMP TABLE areas AS
            SELECT DISTINCT prac AS code, 'practice' AS t, loc AS parent, hash(prac) % 9000
                   + 1000 AS den FROM geo
            UNION ALL SELECT DISTINCT loc, 'locality', icb, 40000 FROM geo
            UNION ALL SELECT DISTINCT icb, 'icb', NULL, 200000 FROM geo
            UNION ALL SELECT 'national', 'national', NULL, 9000000""")
        con.execute(f"""
            INSERT INTO indicator_values
            SELECT 'ind_' || lpad(k::VARCHAR, 2, '0'), '1', 'h', a.code, a.t || ' ' || a.code,
                   a.t, a.parent, per.p, make_date(2020 + per.y, 4, 1),
                   make_date(2021 + per.y, 3, 31), 'all', 'all',
                   round(a.den * v.rate), a.den, 100 * v.rate,
                   100 * v.rate - 1, 100 * v.rate + 1, 100 * v.rate - 2, 100 * v.rate + 2,
                   'proportion', 'Wilson', 'similar',
                   CASE WHEN v.rate < 0.3 THEN 'worse' WHEN v.rate > 0.7 THEN 'better'
                        ELSE 'similar' END, NULL, NULL,
                   CASE WHEN a.den * v.rate < 8 THEN 'suppressed' ELSE 'published' END,
                   NULL, 'bench', '0.1.0', now()::TIMESTAMP
            FROM areas a, range({INDICATORS}) i(k), (VALUES {periods}) per(y, p),
                 LATERAL (SELECT 0.2 + (hash(a.code || k || per.p) % 600) / 1000.0 AS rate) v
        """)
    return ws


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(ws_path: Path, port: int) -> subprocess.Popen:
    cmd = [str(Path(sys.executable).parent / "carepath"), "serve", "-w", str(ws_path),
           "--port", str(port)]
    if os.environ.get("CAREPATH_BENCH_THREADS"):
        cmd += ["--threads", os.environ["CAREPATH_BENCH_THREADS"]]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/public", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stderr.read().decode()[-2000:])


def _urls(codes: dict) -> dict[str, list[str]]:
    ind = codes["indicator"]
    return {
        "home": ["/"],
        "indicator page": [f"/indicators/{ind}?level=locality", f"/indicators/{ind}"],
        "practice profile": [f"/practices/{p}" for p in codes["practices"]],
        "locality overview": [f"/localities/{loc}" for loc in codes["localities"]],
        "api values": [f"/api/v1/indicators/{ind}/values?area_type=locality"],
        "api profile": [f"/api/v1/practices/{p}/profile" for p in codes["practices"][:20]],
        "public": [f"/public/indicators/{ind}"],
    }


async def _login(client: httpx.AsyncClient, user: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"username": user, "password": PASSWORD,
                                          "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"login failed: {r.status_code}")


async def _client(client: httpx.AsyncClient, urls: dict, until: float, out: dict,
                  seed: int) -> None:
    rng = random.Random(seed)
    kinds = list(urls)
    while time.monotonic() < until:
        kind = rng.choice(kinds)
        url = rng.choice(urls[kind])
        start = time.perf_counter()
        try:
            r = await client.get(url)
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        out.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
        if not ok:
            out.setdefault("_errors", []).append(url)


SEQUENTIAL_REQUESTS = 30


async def _sequential(client: httpx.AsyncClient, urls: dict) -> dict[str, list[float]]:
    """One client, one request at a time: the service time of each page without queueing."""
    out: dict[str, list[float]] = {}
    rng = random.Random(0)
    for kind, group in urls.items():
        for _ in range(SEQUENTIAL_REQUESTS):
            start = time.perf_counter()
            await client.get(rng.choice(group))
            out.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
    return out


async def _load(base: str, urls: dict, duration: float, clients: int) -> dict:
    """Sign every client in first (argon2 is slow on purpose), then time the load."""
    out: dict[str, list] = {}
    limits = httpx.Limits(max_connections=1)
    sessions = [httpx.AsyncClient(base_url=base, timeout=30, limits=limits)
                for _ in range(clients)]
    try:
        for s in sessions:
            await _login(s, "bench")
        # Steady state: each page visited once first, as on a server that has been up
        # (the caches follow the data version, so a recompute makes them cold again).
        for url in {u for group in urls.values() for u in group}:
            await sessions[0].get(url)
        out["_sequential"] = await _sequential(sessions[0], urls)
        until = time.monotonic() + duration
        await asyncio.gather(*(_client(s, urls, until, out, i)
                               for i, s in enumerate(sessions)))
    finally:
        for s in sessions:
            await s.aclose()
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(
        values) > 1 else (values[0] if values else float("nan"))


def _sample_codes(ws) -> dict:
    with ws.connect(read_only=True) as con:
        ind = con.execute("SELECT indicator_id FROM indicator_values GROUP BY 1 "
                          "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        pracs = [r[0] for r in con.execute("SELECT DISTINCT area_code FROM indicator_values "
                                           "WHERE area_type = 'practice' ORDER BY hash("
                                           "area_code) LIMIT 200").fetchall()]
        locs = [r[0] for r in con.execute("SELECT DISTINCT org_code FROM organisations WHERE "
                                          "org_type = 'locality' LIMIT 50").fetchall()]
    return {"indicator": ind, "practices": pracs, "localities": locs}


def _computed_england() -> str | None:
    """The synthetic England workspace of the engine benchmark, if it exists and has been
    computed (``python -m benchmarks indicators`` makes it); the pages then show every
    indicator, breakdown and period of a real run."""
    import duckdb

    from benchmarks.bench_indicators import CACHE

    path = CACHE / "england-42"
    if not (path / "carepath.duckdb").is_file():
        return None
    with duckdb.connect(str(path / "carepath.duckdb"), read_only=True) as con:
        computed = con.execute("SELECT count(*) > 0 FROM indicator_values").fetchone()[0]
    return str(path) if computed else None


def run(quick: bool = False) -> list[dict]:
    from carepath.web import users
    from carepath.workspace import Workspace

    duration = QUICK_DURATION_S if quick else DURATION_S
    env_ws = os.environ.get("CAREPATH_BENCH_WS") or (None if quick else _computed_england())
    tmp = None
    if env_ws:
        print(f"workspace: {env_ws}")
        ws = Workspace.open(Path(env_ws))
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-web-")
        started = time.perf_counter()
        ws = build_england(Path(tmp.name) / "england")
        print(f"built England-shaped workspace in {time.perf_counter() - started:.1f} s")
    from carepath.errors import ValidationError

    try:
        users.add_user(ws, by="bench", username="bench", password=PASSWORD, role="analyst")
    except ValidationError:
        print("using the existing bench account")
    codes = _sample_codes(ws)
    port = _port()
    proc = _start_server(ws.path, port)
    try:
        out = asyncio.run(_load(f"http://127.0.0.1:{port}", _urls(codes), duration, CLIENTS))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if tmp:
            tmp.cleanup()
    return _report(out, duration)


def _report(out: dict, duration: float) -> list[dict]:
    errors = len(out.pop("_errors", []))
    sequential = out.pop("_sequential", {})
    every = [v for vals in out.values() for v in vals]
    rows = [
        {"benchmark": f"{CLIENTS} clients x {duration:.0f} s: requests", "value": len(every),
         "unit": "requests"},
        {"benchmark": "throughput", "value": len(every) / duration, "unit": "req/s"},
        {"benchmark": "errors", "value": errors, "unit": "requests", "target": 0},
        {"benchmark": "all pages p50", "value": _pct(every, 50), "unit": "ms"},
        {"benchmark": "all pages p95", "value": _pct(every, 95), "unit": "ms",
         "target": P95_TARGET_MS, "ratio": _pct(every, 95) / P95_TARGET_MS},
        {"benchmark": "all pages p99", "value": _pct(every, 99), "unit": "ms"},
    ]
    for kind, vals in sorted(out.items()):
        target = PROFILE_P95_TARGET_MS if kind == "practice profile" else None
        p95 = _pct(vals, 95)
        rows.append({"benchmark": f"{kind} p95 (n={len(vals)})", "value": p95, "unit": "ms",
                     "target": target, "ratio": p95 / target if target else None})
    for kind, vals in sorted(sequential.items()):
        target = PROFILE_P95_TARGET_MS if kind == "practice profile" else P95_TARGET_MS
        p95 = _pct(vals, 95)
        rows.append({"benchmark": f"1 client: {kind} p95", "value": p95, "unit": "ms",
                     "target": target, "ratio": p95 / target})
    for r in rows:
        print(f"  {r['benchmark']}: {r['value']:,.1f} {r['unit']}")
    return rows


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
