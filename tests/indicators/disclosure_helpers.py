"""Small hand-made hierarchies and their values for the disclosure tests, and an attacker:
an integer programme over everything a public output and the public hierarchy say."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from carepath.disclosure import DisclosurePolicy
from carepath.stats.standardise import DSR_MIN_EVENTS, DSR_TOO_FEW_NOTE

PERIOD = "2024/25"


def amap(links: dict[str, list[tuple[str, str]]], period: str = PERIOD) -> pd.DataFrame:
    """An area map: practice -> the (area type, code) it counts in (itself and national
    added, as the engine's area map has them)."""
    rows = []
    for practice, areas in links.items():
        for area_type, code in [("practice", practice), ("national", "national"), *areas]:
            rows.append({"period": period, "unit": practice, "area_type": area_type,
                         "area_code": code})
    return pd.DataFrame(rows)


def value_row(area_type, code, num, den, parent, *, ind="early"):
    value = num / den * 100 if num is not None and den else None
    return {"indicator_id": ind, "period": PERIOD, "area_type": area_type, "area_code": code,
            "parent_code": parent, "breakdown": "all", "category": "all",
            "numerator": num, "denominator": den, "value": value,
            "lower95": None if value is None else value - 1,
            "upper95": None if value is None else value + 1, "lower998": None,
            "upper998": None, "statistic": "proportion", "value_state": "published",
            "value_note": None}


@st.composite
def county(draw):
    """Practices in PCNs and localities drawn independently (so PCNs may span
    localities), localities in two sub-ICBs, with counts small and large."""
    n = draw(st.integers(2, 12))
    pcns = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    localities = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    counts = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    links, units = {}, []
    for i in range(n):
        areas = [("pcn", f"U{pcns[i]}"), ("locality", f"L{localities[i]}"),
                 ("sub_icb", f"S{localities[i] % 2}")]
        links[f"P{i}"] = areas
        units.append((f"P{i}", f"L{localities[i]}", counts[i], areas))
    return links, units


def random_county(seed: int, *, with_share: bool = False) -> list[tuple]:
    """A seeded county of 3 to 12 practices: (code, locality, count, areas) each, with
    ``with_share`` a seeded part of the count after it (m of n cancers found in an
    emergency), drawn after the count so that a seed gives the same counts either way."""
    rnd = random.Random(seed)
    units = []
    for i in range(rnd.randint(3, 12)):
        pcn, locality = rnd.randint(0, 3), rnd.randint(0, 3)
        areas = [("pcn", f"U{pcn}"), ("locality", f"L{locality}"),
                 ("sub_icb", f"S{locality % 2}")]
        count = rnd.choice([0, 1, 2, 3, 5, 8, 9, 10, 12, 15, 20, 30, 45, 60])
        share = (rnd.randint(0, count),) if with_share else ()
        units.append((f"P{i}", f"L{locality}", count, *share, areas))
    return units


def county_rows(units):
    parents = {"practice": None, "pcn": "national", "locality": None, "sub_icb": "national",
               "national": None}
    totals: dict[tuple[str, str], int] = {}
    rows = []
    for code, locality, num, areas in units:
        rows.append(value_row("practice", code, num, 100, locality))
        for area in [*areas, ("national", "national")]:
            totals[area] = totals.get(area, 0) + num
    sub_of = {loc: f"S{int(loc[1:]) % 2}" for _, loc, _, _ in units}
    for (area_type, code), num in totals.items():
        parent = sub_of.get(code) if area_type == "locality" else parents[area_type]
        rows.append(value_row(area_type, code, num, 100 * num + 100, parent))
    return rows


def attack(out: list[dict], links: dict[str, list[tuple[str, str]]],
           policy: DisclosurePolicy = DisclosurePolicy(), *,
           earlier: list[dict] = ()) -> dict[tuple, tuple[float, float]]:
    """Each hidden count's lowest and highest value consistent with the published rows
    ``out`` and the hierarchy ``links`` (every area's count is the sum of its practices'),
    by integer programming (HiGHS): what an attacker with the output and the hierarchy can
    prove. A rounded count r is a whole number rounding to r (and at least the threshold),
    a published 0 is 0, national is exact, a hidden count anything from 0. ``earlier``: an
    earlier release of the same figures, whose published rows bound the same cells."""
    at = {(r["area_type"], r["area_code"]): i for i, r in enumerate(out)}
    low, high = np.zeros(len(out)), np.full(len(out), np.inf)
    for r in [*out, *earlier]:
        i = at.get((r["area_type"], r["area_code"]))
        count = r["numerator"]
        if i is None or r["value_state"] != "published" or count is None:
            continue
        if r["area_type"] == "national":
            low[i] = high[i] = count
        elif count:
            low[i] = max(low[i], math.ceil(count - policy.round_to / 2), policy.suppress_below)
            high[i] = min(high[i], math.ceil(count + policy.round_to / 2) - 1)
        else:
            high[i] = 0
    practices_of: dict[tuple, list[int]] = {}
    for practice, areas in links.items():
        for area in [*areas, ("national", "national")]:
            practices_of.setdefault(area, []).append(at[("practice", practice)])
    sums = np.zeros((len(practices_of), len(out)))
    for j, (area, practices) in enumerate(practices_of.items()):
        sums[j, practices] = 1
        sums[j, at[area]] -= 1
    rules = {"constraints": LinearConstraint(sums, 0, 0), "bounds": Bounds(low, high),
             "integrality": np.ones(len(out))}
    ranges = {}
    for i, r in enumerate(out):
        if r["value_state"] == "suppressed":
            unit = np.zeros(len(out))
            unit[i] = 1
            lowest, highest = milp(unit, **rules), milp(-unit, **rules)
            ranges[(r["area_type"], r["area_code"])] = (
                lowest.fun, -highest.fun if highest.status == 0 else math.inf)
    return ranges


def feasible(outputs: list[tuple[list[dict], str]], links: dict[str, list[tuple[str, str]]],
             policy: DisclosurePolicy = DisclosurePolicy(), *, integer: bool = False,
             known: dict[tuple, tuple[float, float]] | None = None
             ) -> dict[tuple, tuple[float, float]]:
    """Each cell's lowest and highest count consistent with every output in ``outputs``
    together ((rows, the column holding the count there): indicators sharing one count,
    as incidence's numerator is emergency presentation's denominator), the hierarchy
    ``links`` (every area's count the sum of its practices', in each category) and the
    breakdowns (an area's categories add up to its count for everyone). By subtraction
    (every sum's bounds tightened until nothing moves, a plain loop of our own), or with
    ``integer`` by integer programming (HiGHS). Cells keyed (area type, area code) for
    everyone, with the category after for a breakdown's. ``known``: what else the
    attacker knows of some cells' counts (key -> lowest, highest), such as what a DSR's
    state says (``dsr_states_say``)."""
    at: dict[tuple, int] = {}
    for rows, _ in outputs:
        for r in rows:
            at.setdefault(cell_of(r), len(at))
    low, high = np.zeros(len(at)), np.full(len(at), np.inf)
    for rows, column in outputs:
        for r in rows:
            count, i = r[column], at[cell_of(r)]
            if r["value_state"] != "published" or count is None:
                continue
            if r["area_type"] == "national" and cell_of(r) == ("national", "national"):
                low[i], high[i] = max(low[i], count), min(high[i], count)
            elif count:
                low[i] = max(low[i], math.ceil(count - policy.round_to / 2),
                             policy.suppress_below)
                high[i] = min(high[i], math.ceil(count + policy.round_to / 2) - 1)
            else:
                high[i] = 0
    for cell, (lowest, highest) in (known or {}).items():
        low[at[cell]], high[at[cell]] = max(low[at[cell]], lowest), min(high[at[cell]], highest)
    categories = sorted({k[2:] for k in at if len(k) > 2})
    practices: dict[int, list[int]] = {}
    for practice, areas in links.items():
        for area in [*areas, ("national", "national")]:
            for category in [(), *categories]:
                practices.setdefault(at[(*area, *category)], []).append(
                    at[("practice", practice, *category)])
    sums = list(practices.items()) + [
        (at[cell], [at[(*cell, *category)] for category in categories])
        for cell in at if len(cell) == 2 and categories]
    if integer:
        return _by_integer_programming(at, low, high, sums)
    with np.errstate(invalid="ignore"):  # inf - inf: no limit either way
        while _tightened(low, high, sums):
            pass
    return {key: (low[i], high[i]) for key, i in at.items()}


def cell_of(r: dict) -> tuple:
    """A row's cell as ``feasible`` keys it: (area type, area code), with the category
    after for a breakdown's."""
    cell = (r["area_type"], r["area_code"])
    return cell if r.get("breakdown", "all") == "all" else (*cell, r["category"])


def dsr_states_say(rows: list[dict]) -> dict[tuple, tuple[float, float]]:
    """What a public DSR output's states alone say of each cell's count, whether or not it
    is hidden: a DSR is calculated from 10 events up, below that noted as "fewer than 10
    events", so a cell with the note has at most 9 and any other one (published, or
    suppressed as a figure that would let a small one be worked out) at least 10."""
    out = {}
    for r in rows:
        cell = cell_of(r)
        if r["value_state"] == "missing" and r.get("value_note") == DSR_TOO_FEW_NOTE:
            out[cell] = (0, DSR_MIN_EVENTS - 1)
        elif r["value_state"] in ("published", "suppressed"):
            out[cell] = (DSR_MIN_EVENTS, math.inf)
    return out


def _tightened(low: np.ndarray, high: np.ndarray, sums: list[tuple[int, list[int]]]
               ) -> bool:
    moved = False
    for total, members in sums:
        sum_low, sum_high = low[members].sum(), high[members].sum()
        if sum_low > low[total] or sum_high < high[total]:
            low[total], high[total] = max(low[total], sum_low), min(high[total], sum_high)
            moved = True
        for m in members:
            others = [o for o in members if o != m]
            most = high[total] - low[others].sum()
            least = low[total] - high[others].sum()
            if most < high[m] or least > low[m]:
                high[m], low[m] = min(high[m], most), max(low[m], least)
                moved = True
    return moved


def _by_integer_programming(at, low, high, sums) -> dict[tuple, tuple[float, float]]:
    matrix = np.zeros((len(sums), len(at)))
    for j, (total, members) in enumerate(sums):
        matrix[j, members] = 1
        matrix[j, total] -= 1
    rules = {"constraints": LinearConstraint(matrix, 0, 0), "bounds": Bounds(low, high),
             "integrality": np.ones(len(at))}
    out = {}
    for key, i in at.items():
        unit = np.zeros(len(at))
        unit[i] = 1
        lowest, highest = milp(unit, **rules), milp(-unit, **rules)
        out[key] = (lowest.fun, -highest.fun if highest.status == 0 else math.inf)
    return out
