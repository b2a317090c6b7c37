"""Areas that do not nest: a practice in a PCN of another locality."""

from __future__ import annotations

from datetime import date

from carepath.cli import main
from carepath.ingest.hierarchy import crossings
from carepath.workspace import Workspace

FROM, MOVED = date(2020, 4, 1), date(2023, 4, 1)


def _county(path) -> Workspace:
    ws = Workspace.init(path)
    orgs = [("P1", "practice"), ("P2", "practice"), ("N1", "pcn"), ("N2", "pcn"),
            ("L1", "locality"), ("L2", "locality")]
    links = [("P1", "N1", "pcn", FROM, None), ("P2", "N2", "pcn", FROM, date(2023, 3, 31)),
             ("P2", "N1", "pcn", MOVED, None),  # P2 joins a PCN of the other locality
             ("N1", "L1", "locality", FROM, None), ("N2", "L2", "locality", FROM, None),
             ("P1", "L1", "locality", FROM, None), ("P2", "L2", "locality", FROM, None)]
    with ws.transaction() as con:
        con.executemany("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                        "VALUES (?, ?, ?, DATE '2015-01-01')",
                        [(c, c, t) for c, t in orgs])
        con.executemany("INSERT INTO org_hierarchy VALUES (?, ?, ?, ?, ?)", links)
    return ws


def test_a_practice_in_a_pcn_of_another_locality_is_found_from_the_day_it_joined(tmp_path):
    ws = _county(tmp_path / "ws")
    with ws.connect(read_only=True) as con:
        assert crossings(con) == [("pcn", "N1", "P2", "L2", "L1", MOVED)]


def test_info_says_a_locality_is_then_not_the_sum_of_its_pcns(tmp_path, capsys):
    """Each level is the sum of its own practices; WXL01 was not that of its PCNs and
    nothing said so (an independent recomputation)."""
    ws = _county(tmp_path / "ws")
    main(["info", "-w", str(ws.path)])
    out = " ".join(capsys.readouterr().out.split())
    assert "1 practice(s) sit in an area whose parent is not their own" in out
    assert "pcn N1 (in L1) holds P2 of L2, from 2023-04-01" in out


def test_nested_areas_say_nothing(tmp_path, capsys):
    ws = _county(tmp_path / "ws")
    with ws.transaction() as con:  # P2 moves locality with its PCN
        con.execute("UPDATE org_hierarchy SET valid_to = DATE '2023-03-31' WHERE child_code "
                    "= 'P2' AND parent_type = 'locality'")
        con.execute("INSERT INTO org_hierarchy VALUES ('P2', 'L1', 'locality', ?, NULL)",
                    [MOVED])
        assert crossings(con) == []
    main(["info", "-w", str(ws.path)])
    assert "not their own" not in capsys.readouterr().out
