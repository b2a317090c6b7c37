"""Rows of one table counted for several values are scanned once: admissions in the last
90 days of life counted (emergency admissions) and their bed days summed (bed days), a
screening programme's people screened and eligible. The values must be those each
indicator gives computed on its own (issue 4: scan each table as few times as possible)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from carepath.engine import compile as cp
from carepath.engine import run
from carepath.engine.run import compute
from carepath.indicators.library import builtin

SHARING = ["emergency_admissions_last_90_days", "emergency_bed_days_last_90_days",
           "screening_breast_53_70"]
KEY = ["indicator_id", "area_type", "area_code", "period", "breakdown", "category"]


def _add_admissions_and_screening(ws) -> None:
    with ws.transaction() as con:
        # pt2 died 2023-12-01 and pt4 2024-02-01 (conftest); the data run to April 2024.
        con.executemany("INSERT INTO admissions VALUES (?, ?, 'T1', ?, ?, NULL, ?, NULL)", [
            ("a1", "pt2", "emergency", date(2023, 11, 1), 4),
            ("a2", "pt2", "emergency", date(2023, 11, 20), 7),
            ("a3", "pt4", "emergency", date(2024, 1, 10), None),
            ("a4", "pt4", "elective", date(2024, 1, 12), 2),
            ("a5", "pt0", "emergency", date(2024, 4, 5), 1)])
        con.executemany("INSERT INTO screening VALUES (?, 'breast_53_70', ?, ?, ?, FALSE)", [
            (p, date(2024, 3, 31), eligible, screened)
            for p, eligible, screened in (("P1", 120, 90), ("P2", 60, 41), ("P3", 30, 20))])


def _values(ws) -> pd.DataFrame:
    with ws.connect(read_only=True) as con:
        frame = con.execute("SELECT * FROM indicator_values").df()
    return frame.drop(columns=["computed_at"]).sort_values(KEY).reset_index(drop=True)


def test_values_counted_over_the_same_rows_share_one_scan(tmp_path, build_small_ws,
                                                          monkeypatch):
    library = builtin()
    together, alone = build_small_ws(tmp_path / "together"), build_small_ws(tmp_path / "alone")
    for ws in (together, alone):
        _add_admissions_and_screening(ws)
    scans = []
    real = cp.aggregate_values

    def counting(source, defn, count, periods, group_by, values):
        scans.append((count.table, values))
        return real(source, defn, count, periods, group_by, values)

    monkeypatch.setattr(cp, "aggregate_values", counting)
    out = compute(together, [library[i] for i in SHARING])
    assert {o.status for o in out} == {"computed"}
    # Admissions counted per person (non-independent events) have a scan of their own;
    # their bed days, and whatever else counts those rows, share one.
    assert ("admissions", ("per:patient_id",)) in scans
    assert ("admissions", ("sum:bed_days",)) in scans
    assert ("screening", ("sum:eligible", "sum:screened")) in scans
    assert [t for t, _ in scans].count("admissions") == 2
    # Screening's counts in one scan; the rows its publisher suppressed are counted apart
    # (a practice with only those is suppressed rather than missing).
    assert scans.count(("screening", ("sum:eligible", "sum:screened"))) == 1
    assert [t for t, _ in scans].count("screening") == 2
    # The same with every part scanned for its own value only, as before scans were shared.
    monkeypatch.setattr(run, "values_counted", lambda definitions: {})
    scans.clear()
    compute(alone, [library[i] for i in SHARING])
    assert scans and all(len(values) == 1 for _, values in scans)
    pd.testing.assert_frame_equal(_values(together), _values(alone))
    national = _values(together).query("area_type == 'national' and breakdown == 'all'")
    got = dict(zip(national.indicator_id, zip(national.numerator, national.denominator,
                                              strict=True), strict=True))
    assert got["emergency_admissions_last_90_days"] == (3, 4)  # a1, a2, a3; four deaths
    assert got["emergency_bed_days_last_90_days"] == (11, 4)  # 4 + 7, a3 has none
    assert got["screening_breast_53_70"] == (151, 210)
