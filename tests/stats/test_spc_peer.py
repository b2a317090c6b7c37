"""Making Data Count XmR against NHSRplotthedots / nhspy-plotthedots fixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carepath.stats import spc


def _floats(cell) -> list[float]:
    return [float(v) for v in str(cell).split(";")]


def _rounded(value: float, precision: str) -> float:
    if precision.startswith("7 significant"):
        return float(f"{value:.7g}")
    if precision.startswith("3 significant"):
        return float(f"{value:.3g}")
    if precision.startswith("2 dp"):
        return round(value, 2)
    return value


def _limit_cases(spc_peer):
    return list(spc_peer("xmr_limits_cases.csv").itertuples(index=False))


def test_limits_match_peers(spc_peer):
    cases = _limit_cases(spc_peer)
    assert len(cases) == 15
    for case in cases:
        fix = None if math.isnan(case.fix_after_n_points) else int(case.fix_after_n_points)
        r = spc.xmr(_floats(case.values), improvement_direction="increase",
                    screen_outliers=bool(case.screen_outliers), fix_after_n_points=fix)
        got = {"mean": r.mean[0], "lpl": r.lpl[0], "upl": r.upl[0], "nlpl": r.nlpl[0],
               "nupl": r.nupl[0]}
        for key, value in got.items():
            want = getattr(case, f"expected_{key}")
            if isinstance(want, float) and math.isnan(want):
                continue
            if case.precision.startswith("exact"):
                assert value == pytest.approx(want, rel=1e-12, abs=1e-12), (case.case_id, key)
            else:
                assert _rounded(value, case.precision) == pytest.approx(want, abs=1e-12), (
                    case.case_id, key)


def _visible(cell) -> tuple[list[str], str] | None:
    if not isinstance(cell, str):
        return None
    parts = cell.split(";")
    if parts[0] == "...":
        return parts[1:], "end"
    if parts[-1] == "...":
        return parts[:-1], "start"
    return parts, "all"


def _compare(actual, cell, convert, case_id, column):
    vis = _visible(cell)
    if vis is None:
        return
    want, align = vis
    got = [convert(v) for v in actual]
    got = got[-len(want):] if align == "end" else got[:len(want)]
    if align == "all":
        assert len(got) == len(want)
    assert got == want, (case_id, column)


def test_points_match_peers(spc_peer):
    df = spc_peer("xmr_point_cases.csv")
    assert len(df) == 11
    boolean = lambda v: "TRUE" if v else "FALSE"
    for case in df.itertuples(index=False):
        direction = case.improvement_direction
        fix = None if math.isnan(case.fix_after_n_points) else int(case.fix_after_n_points)
        r = spc.xmr(_floats(case.values),
                    improvement_direction=direction if isinstance(direction, str) else "increase",
                    screen_outliers=bool(case.screen_outliers), fix_after_n_points=fix)
        _compare(r.outside_limits, case.outside_limits, boolean, case.case_id, "outside")
        _compare(r.relative_to_mean, case.relative_to_mean, lambda v: str(int(v)),
                 case.case_id, "relative_to_mean")
        _compare(r.close_to_limits, case.close_to_limits, boolean, case.case_id, "close")
        _compare(r.special_cause_flag, case.special_cause_flag, boolean, case.case_id, "flag")
        _compare(r.point_type, case.point_type, str, case.case_id, "point_type")


def _ints(cell) -> list[float]:
    return [] if not isinstance(cell, str) else [float(v) for v in cell.split(";")]


RULES = {
    "seven_point_one_side_mean": lambda a, b: spc.shift_run_ends(a, 7),
    "part_of_seven_trend": lambda a, b: spc.part_of_run(a, 7),
    "seven_point_trend": lambda a, b: spc.trend_run_ends(a, 7),
    "two_in_three": lambda a, b: spc.two_in_three(a, b if len(b) == len(a) else b[:1] * 0),
    "part_of_two_in_three": lambda a, b: spc.part_of_two_in_three(spc.two_in_three(a, b), a),
}


def test_rule_helpers_match_nhsr(spc_peer):
    df = spc_peer("rule_function_cases.csv")
    assert len(df) == 36
    for row in df.itertuples(index=False):
        fn = RULES[row.function.split("(")[0]]
        got = fn(np.array(_ints(row.input1)), np.array(_ints(row.input2)))
        assert list(got) == _ints(row.expected), (row.function, row.input1, row.input2)


def test_assurance_matches_nhsr(spc_peer):
    for row in spc_peer("assurance_cases.csv").itertuples(index=False):
        target = None if math.isnan(row.target) else row.target
        got = spc.assurance(target, row.lpl, row.upl, row.improvement_direction)
        want = None if not isinstance(row.expected_assurance, str) else row.expected_assurance
        assert got == want, row
