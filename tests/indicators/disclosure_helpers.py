"""Small hand-made hierarchies and their values for the disclosure tests, and an attacker:
an integer programme over everything a public output and the public hierarchy say."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from carepath.disclosure import DisclosurePolicy

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
