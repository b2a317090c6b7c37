"""Helpers shared by the ingest and sources tests (imported by name: conftest puts
this folder on sys.path)."""

from __future__ import annotations

from carepath.workspace import Workspace

# Valid NHS numbers (modulus 11) used across the tests; none belongs to a real person
# as far as a test can know, and the tests prove they are never stored.
NHS_A = "9434765919"
NHS_B = "4010232137"
ORGS = (
    "org_code,name,org_type,valid_from,valid_to\n"
    "A81001,Densham Surgery,practice,2010-01-01,\n"
    "A81002,Queens Park,practice,2010-01-01,2019-12-31\n"
    "RTH,Oxford Trust,trust,2000-01-01,\n"
)


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def rows(ws: Workspace, sql: str, params=None) -> list[tuple]:
    with ws.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def snapshot(ws: Workspace) -> dict[str, list]:
    """Every row of every table, for 'nothing changed' checks."""
    with ws.connect(read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY 1").fetchall()]
        return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall()))
                for n in names}
