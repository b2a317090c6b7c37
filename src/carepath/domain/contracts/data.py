"""Reading a contract's indicator values from a workspace, in one query.

A practice-attributed indicator is read at the contract population (e.g. the ICB). A
provider-attributed one is pooled over the contract's network (prime + subcontractors):
numerators and denominators are summed and the interval recomputed; a mean is pooled by
denominator weights with standard errors from the stored 95% intervals. Suppressed and
missing rows are kept as such and never become zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from carepath import stats
from carepath.domain.contracts import constants as K
from carepath.domain.contracts.definitions import Contract, Framework
from carepath.domain.contracts.facts import WorkspaceFacts, read_facts
from carepath.indicators.definition import Definition

PROVIDER = "provider"
COLUMNS = ["indicator_id", "area_code", "area_name", "area_type", "period", "period_start",
           "period_end", "numerator", "denominator", "value", "lower95", "upper95",
           "lower998", "upper998", "value_state", "value_note"]


@dataclass(frozen=True)
class Point:
    """One value of an indicator for the contract (pooled or read), with its interval."""

    period: str
    value: float | None
    lower: float | None
    upper: float | None
    numerator: float | None
    denominator: float | None
    state: str  # published, suppressed, missing
    note: str = ""

    @property
    def usable(self) -> bool:
        return self.state == "published" and self.value is not None and \
            not np.isnan(self.value)


def indicator_ids(fw: Framework) -> list[str]:
    ids = set()
    for o in fw.outcomes:
        ids |= {o.indicator, *o.supporting}
        ids |= {i for i in (o.spc_indicator, o.data_quality.indicator) if i}
    return sorted(ids)


def read_values(con: duckdb.DuckDBPyConnection, contract: Contract,
                fw: Framework) -> pd.DataFrame:
    """All rows the contract needs: population-area rows and network provider rows."""
    ids = indicator_ids(fw)
    codes = [p.code for p in contract.providers]
    sql = (f"SELECT {', '.join(COLUMNS)} FROM indicator_values WHERE breakdown = 'all' "
           f"AND category = 'all' AND indicator_id IN ({', '.join('?' * len(ids))}) AND "
           f"((area_type = ? AND area_code = ?) OR (area_type = '{PROVIDER}' AND area_code IN "
           f"({', '.join('?' * len(codes))}))) ORDER BY indicator_id, period_start")
    params = [*ids, contract.population.area_type, contract.population.area_code, *codes]
    return con.execute(sql, params).df()


def read_data(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
              library: dict[str, Definition], config: dict,
              unreadable: Iterable[str] = ()) -> ContractData:
    """The contract's values and what the workspace says about them (out of date values,
    its organisations and the practices in the contract's area), in one read."""
    return ContractData(read_values(con, contract, fw), contract, library,
                        read_facts(con, contract, fw, library, config, unreadable))


def empty_data(contract: Contract, library: dict[str, Definition]) -> ContractData:
    """No values at all: baselines are the agreed ones only (a check without workspace)."""
    return ContractData(pd.DataFrame(columns=COLUMNS), contract, library)


class ContractData:
    """Indicator rows for one contract, split once by indicator, level and period; points
    are computed once and remembered (an assessment of every year asks for them often)."""

    def __init__(self, frame: pd.DataFrame, contract: Contract,
                 library: dict[str, Definition], facts: WorkspaceFacts | None = None) -> None:
        self.contract = contract
        self.library = library
        # None: built from values alone (tests), nothing known to warn from; every
        # command reads them with ``read_data``.
        self.facts = facts
        self.frame = frame
        self._empty = frame.iloc[0:0]
        self._cells: dict[tuple[str, bool, str], pd.DataFrame] = {}
        self._ends: dict[tuple[str, bool], dict[str, pd.Timestamp]] = {}
        frame = frame.sort_values("period_start", kind="stable")
        for (ind, is_prov, period), g in frame.groupby(
                ["indicator_id", frame.area_type == PROVIDER, "period"], sort=False):
            self._cells[(ind, bool(is_prov), period)] = g
            self._ends.setdefault((ind, bool(is_prov)), {})[period] = \
                pd.Timestamp(g.period_end.iloc[0])
        self._points: dict[tuple[str, str, float], Point] = {}

    def provider_rows(self, indicator_id: str, period: str) -> pd.DataFrame:
        return self._cells.get((indicator_id, True, period), self._empty)

    def providers_without_row(self, indicator_id: str, period: str) -> list[str]:
        """Network providers with no row in ``period`` though they have rows for the
        indicator in other periods: a late return, not "no activity". One whose rows
        ended before an earlier period in which others had rows and it had none has
        stopped, or was warned of then: it is left out (a provider that stopped a
        service was warned of every year after)."""
        ends = self._ends.get((indicator_id, True), {})
        here = set(self.provider_rows(indicator_id, period).area_code)
        seen: dict[str, list[pd.Timestamp]] = {}
        for (ind, is_prov, other), g in self._cells.items():
            if ind == indicator_id and is_prov:
                for code in set(g.area_code):
                    seen.setdefault(code, []).append(ends[other])
        end = ends.get(period)
        return [p.code for p in self.contract.providers
                if p.code not in here and p.code in seen
                and (end is None or not self._missed_before(seen[p.code], end, ends))]

    @staticmethod
    def _missed_before(own: list[pd.Timestamp], end: pd.Timestamp,
                       ends: dict[str, pd.Timestamp]) -> bool:
        """Whether a provider with rows ending ``own`` had none in a period (ending in
        ``ends``) between its last before ``end`` and ``end``, with none after ``end``."""
        if any(e > end for e in own):
            return False  # a gap between its rows: a missing return, each time
        last = max((e for e in own if e < end), default=None)
        return last is not None and any(last < e < end for e in ends.values())

    def period_ends(self, indicator_id: str) -> dict[str, pd.Timestamp]:
        """Period -> last day, in time order, at the level the indicator is read."""
        return self._ends.get((indicator_id, self._is_provider(indicator_id)), {})

    def _is_provider(self, indicator_id: str) -> bool:
        return self.library[indicator_id].attribution == PROVIDER

    def point(self, indicator_id: str, period: str, confidence: float) -> Point:
        key = (indicator_id, period, confidence)
        if key not in self._points:
            self._points[key] = self._point(indicator_id, period, confidence)
        return self._points[key]

    def _point(self, indicator_id: str, period: str, confidence: float) -> Point:
        if self._is_provider(indicator_id):
            return self._pooled(indicator_id, period, confidence)
        rows = self._cells.get((indicator_id, False, period), self._empty)
        if rows.empty:
            return Point(period, None, None, None, None, None, "missing", "no row")
        return row_point(rows.iloc[0], confidence)

    def _pooled(self, indicator_id: str, period: str, confidence: float) -> Point:
        """Network value; a provider with no row had no activity, not a data problem."""
        rows = self.provider_rows(indicator_id, period)
        defn = self.library[indicator_id]
        rows = rows.assign(volume=volume(rows, defn.statistic))
        ok = rows[(rows.value_state == "published") & rows.volume.notna()
                  & rows.numerator.notna()]
        unusable = sorted(set(rows.area_code) - set(ok.area_code))
        note = f"suppressed or missing for {', '.join(unusable)}" if unusable else ""
        if ok.empty:
            state = "suppressed" if (rows.value_state == "suppressed").any() else "missing"
            return Point(period, None, None, None, None, None, state, note or "no rows")
        value, lower, upper = pool(defn, ok, confidence)
        return Point(period, value, lower, upper, float(ok.numerator.sum()),
                     float(ok.volume.sum()), "published", note)


def volume(rows: pd.DataFrame, statistic: str) -> pd.Series:
    """The count behind a value: the denominator, or for a mean the respondents."""
    if statistic in K.STATISTICS_NORMAL:
        return rows.denominator.fillna(rows.numerator)
    return rows.denominator


def row_point(row: pd.Series, confidence: float) -> Point:
    lo, hi = ("lower95", "upper95") if confidence == K.JUDGEMENT_CONFIDENCES[0] else \
        ("lower998", "upper998")
    den = row.denominator if pd.notna(row.denominator) else row.numerator  # mean: respondents
    return Point(row.period, _num(row.value), _num(row[lo]), _num(row[hi]),
                 _num(row.numerator), _num(den), row.value_state,
                 "" if pd.isna(row.value_note) else str(row.value_note))


def pool(defn: Definition, rows: pd.DataFrame, confidence: float) -> tuple[float, ...]:
    """One value and interval for the network from its providers' rows."""
    x, n = float(rows.numerator.sum()), float(rows.denominator.sum())
    if defn.statistic in K.STATISTICS_NORMAL:
        w = volume(rows, defn.statistic).to_numpy(float)
        se = (rows.upper95 - rows.lower95).to_numpy(float) / (2 * K.Z95)
        value = float(np.sum(w * rows.value.to_numpy(float)) / w.sum())
        se_pooled = float(np.sqrt(np.sum((w * se) ** 2)) / w.sum())
        z = stats.z_value(confidence)
        return value, value - z * se_pooled, value + z * se_pooled
    if defn.statistic in K.STATISTICS_BINOMIAL:
        iv = stats.proportion(x, n, confidence=confidence, multiplier=defn.scale)
    else:
        iv = stats.rate(x, n, confidence=confidence, multiplier=defn.scale)
    return float(iv.value), float(iv.lower), float(iv.upper)


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)
