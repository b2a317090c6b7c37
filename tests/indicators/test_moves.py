"""No recent trend across a practice moving into or out of an area."""

from __future__ import annotations

from datetime import date

import pandas as pd

from carepath.engine import moves, rollup
from carepath.indicators.library import builtin
from carepath.indicators.periods import periods_between
from carepath.stats.trend import TREND_POINTS

YEARS = periods_between("financial_year", date(2019, 4, 1), date(2024, 3, 31))


def _link(child, parent, level, start, end=None):
    return (child, parent, level, pd.Timestamp(start), None if end is None else
            pd.Timestamp(end))


def _hierarchy(*links) -> pd.DataFrame:
    return pd.DataFrame(links, columns=["child_code", "parent_code", "parent_type",
                                        "valid_from", "valid_to"])


def test_a_practice_moving_pcn_marks_both_pcns_in_the_year_it_moved():
    h = _hierarchy(_link("P1", "U1", "pcn", "2019-04-01"),
                   _link("P2", "U1", "pcn", "2019-04-01", "2022-03-31"),
                   _link("P2", "U2", "pcn", "2022-04-01"),
                   _link("P1", "L1", "locality", "2019-04-01"),
                   _link("P2", "L1", "locality", "2019-04-01"),
                   _link("P3", "U2", "pcn", "2021-04-01"))  # opens: no move
    found = moves.moves(h, YEARS)
    assert set(map(tuple, found.to_numpy())) == {("pcn", "U1", "2022/23"),
                                                 ("pcn", "U2", "2022/23")}


def test_a_trend_is_not_given_across_a_move():
    """A high-coverage practice moving PCN read as a significant trend in both (an
    independent check); before the move, or with it the first of the five periods, the
    trend stands."""
    cells = pd.DataFrame({
        "breakdown": "all", "category": "all", "area_type": "pcn", "area_code": "U1",
        "period_start": pd.date_range("2019-04-01", periods=TREND_POINTS, freq="12MS"),
        "num": [80.0, 81.0, 82.0, 70.0, 69.0], "den": 100.0, "value_state": "published",
        "moved_in_or_out": [False, False, False, True, False]})
    defn = builtin()["screening_cervical_25_49"]
    assert rollup.recent_trends(defn, cells).isna().all()
    first = cells.assign(moved_in_or_out=[True, False, False, False, False])
    assert rollup.recent_trends(defn, first).iloc[-1] is not None


def test_marking_keeps_the_cells_order_and_index():
    cells = pd.DataFrame({"area_type": ["pcn", "pcn", "national"],
                          "area_code": ["U2", "U1", "national"],
                          "period": ["2022/23", "2021/22", "2022/23"]}, index=[7, 3, 5])
    found = pd.DataFrame({"area_type": ["pcn"], "area_code": ["U2"], "period": ["2022/23"]})
    marked = moves.mark_moves(cells, found)
    assert marked.index.tolist() == [7, 3, 5]
    assert marked[moves.MOVED].tolist() == [True, False, False]
