"""What the workspace says about a contract beyond its indicator values: which values are
out of date, which organisations it knows, and which practices made up the contract's
area in each period. An assessment reads these once and warns from them; `contract check
-w` refuses a network or area the workspace does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from carepath.domain.contracts.definitions import Contract, Framework
from carepath.engine import rollup
from carepath.engine.freshness import OutOfDate, out_of_date
from carepath.indicators.definition import Definition

PRACTICE = "practice"


@dataclass(frozen=True)
class WorkspaceFacts:
    """``stale``: indicator id -> why its stored values are out of date. ``organisations``:
    every org code the workspace knows. ``practices``: period -> the practices in the
    contract's population area then (only for an area built from practices)."""

    stale: dict[str, OutOfDate] = field(default_factory=dict)
    organisations: frozenset[str] = frozenset()
    practices: dict[str, frozenset[str]] = field(default_factory=dict)
    area_problems: tuple[str, ...] = ()  # the population area unknown (see unknown_area)
    # indicator id -> the periods it has values for anywhere in the workspace
    computed: dict[str, frozenset[str]] = field(default_factory=dict)


def read_facts(con: duckdb.DuckDBPyConnection, contract: Contract, fw: Framework,
               library: dict[str, Definition], config: dict,
               unreadable: Iterable[str] = ()) -> WorkspaceFacts:
    stale = out_of_date(con, library, config, unreadable)
    orgs = frozenset(r[0] for r in con.execute(
        "SELECT DISTINCT org_code FROM organisations").fetchall())
    computed = {ind: frozenset(periods) for ind, periods in con.execute(
        "SELECT indicator_id, list(DISTINCT period) FROM indicator_values "
        "WHERE indicator_id IN (SELECT unnest(?)) GROUP BY 1",
        [sorted({i for o in fw.outcomes for i in (o.indicator, o.data_quality.indicator)
                 if i})]).fetchall()}
    return WorkspaceFacts(stale, orgs, area_practices(con, contract, fw),
                          tuple(unknown_area(con, contract)), computed)


def fy_bounds(period: str) -> tuple[date, date]:
    start = int(period[:4])
    return date(start, 4, 1), date(start + 1, 3, 31)


def contract_periods(contract: Contract, fw: Framework) -> list[str]:
    years = {contract.term.period(y) for y in range(1, contract.term.years + 1)}
    return sorted(years | {o.baseline_period for o in fw.outcomes})


def area_practices(con: duckdb.DuckDBPyConnection, contract: Contract,
                   fw: Framework) -> dict[str, frozenset[str]]:
    """Period -> practices counted in the contract's area, by the same rule the engine
    rolls practices up with (the hierarchy valid at the period's end)."""
    area = contract.population
    if area.area_type not in rollup.ROLLUP_LEVELS:
        return {}  # a group's practices are fixed in carepath.toml; national is everyone
    practices = [r[0] for r in con.execute(
        "SELECT DISTINCT org_code FROM organisations WHERE org_type = ?",
        [PRACTICE]).fetchall()]
    hierarchy = con.execute("SELECT child_code, parent_code, parent_type, valid_from, "
                            "valid_to FROM org_hierarchy").df()
    periods = contract_periods(contract, fw)
    if not practices or hierarchy.empty:
        return {}
    units = pd.DataFrame([{"period": p, "period_start": pd.Timestamp(fy_bounds(p)[0]),
                           "period_end": pd.Timestamp(fy_bounds(p)[1]), "unit": u}
                          for p in periods for u in practices])
    for col in ("valid_from", "valid_to"):
        hierarchy[col] = pd.to_datetime(hierarchy[col])
    amap = rollup.area_map(units, hierarchy, PRACTICE)
    inside = amap[(amap.area_type == area.area_type) & (amap.area_code == area.area_code)]
    members = inside.groupby("period").unit.agg(frozenset).to_dict()
    return {p: members.get(p, frozenset()) for p in periods}


def unknown_organisations(contract: Contract, known: frozenset[str]) -> list[str]:
    """Network codes the workspace's organisations lack: a mistyped code pools nothing
    for that provider, and its absence would read as no activity."""
    problems = []
    named = [("prime_provider", contract.prime_provider),
             *((f"subcontractors[{i}]", s) for i, s in enumerate(contract.subcontractors))]
    for label, org in named:
        if org.code not in known:
            problems.append(f"field {label} (code {org.code}): no organisation "
                            f"{org.code!r} in the workspace, so none of its activity is "
                            "counted")
    return problems


def unknown_commissioners(contract: Contract, known: frozenset[str]) -> list[str]:
    """Commissioners the workspace's organisations lack: said, not refused (a statement
    names them; it pays nothing by them)."""
    return [f"commissioners[{i}] (code {c.code}): no organisation {c.code!r} in the "
            "workspace; is the code right?"
            for i, c in enumerate(contract.commissioners) if c.code not in known]


def unknown_area(con: duckdb.DuckDBPyConnection, contract: Contract) -> list[str]:
    """The population area must be an organisation of that type, or have values (a group
    or national): else every population outcome reads no data, year after year."""
    area = contract.population
    known = con.execute("SELECT count(*) FROM organisations WHERE org_code = ? AND "
                        "org_type = ?", [area.area_code, area.area_type]).fetchone()[0]
    known = known or con.execute("SELECT count(*) FROM (SELECT 1 FROM indicator_values "
                                 "WHERE area_code = ? AND area_type = ? LIMIT 1)",
                                 [area.area_code, area.area_type]).fetchone()[0]
    if known:
        return []
    # The types there are, so 'ICB' for 'icb' is plain (a walkthrough).
    types = sorted({t for (t,) in con.execute(
        "SELECT DISTINCT org_type FROM organisations WHERE org_code = ? UNION "
        "SELECT DISTINCT area_type FROM indicator_values WHERE area_code = ?",
        [area.area_code, area.area_code]).fetchall()})
    hint = (f"; {area.area_code!r} is an area of type {', '.join(map(repr, types))}"
            if types else "")
    return [(f"field population: no area {area.area_code!r} of type {area.area_type!r} in "
             f"the workspace's organisations or values{hint}")]


def geography_change(facts: WorkspaceFacts, area_code: str, baseline_period: str,
                     period: str) -> str | None:
    """Words when the practices making up the area differ between baseline and year."""
    base, now = facts.practices.get(baseline_period), facts.practices.get(period)
    if base is None or now is None or base == now:
        return None
    joined, left = len(now - base), len(base - now)
    return (f"the practices making up {area_code} changed between the baseline "
            f"{baseline_period} ({len(base)} practices) and {period} ({len(now)}): "
            f"{joined} joined and {left} left, so the value and its baseline cover "
            "different populations")
