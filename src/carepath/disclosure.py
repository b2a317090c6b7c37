"""Statistical disclosure control: the ONE policy every public or exported figure passes.

Policy (configurable in ``carepath.toml`` ``[disclosure]``):

* **Primary suppression.** At every level, national included, a count (the numerator, or
  a denominator that counts people or events: of a proportion, a crude rate or a mean)
  from 1 to ``suppress_below - 1`` is suppressed with its value and intervals. A true zero
  is not suppressed: zero, suppressed and missing stay three different states.
* **Rounding.** Every other count below national level, and in national's breakdown
  categories, is rounded to the nearest ``round_to`` (halves up), and proportions and
  crude rates are recomputed from the rounded figures, with their intervals, so the
  published interval cannot give the exact count back.
* **Secondary suppression.** Where exactly one member of a group that adds up to a
  published total is hidden (suppressed, or missing with a count), the next smallest
  member, not a zero while another is left, is suppressed as well, so the hidden cell
  cannot be derived by subtraction; repeated until no group has a lone hidden cell. The
  groups: areas under one parent, the areas of one level inside each area containing
  them (``within``, from ``carepath.engine.containment``: a practice under its locality
  is inside its PCN too), the breakdown categories of one area, the practices of each of
  a workspace's own ``[groups]``.
* **Intervals from the published counts.** A proportion's, a rate's or a ratio's value and
  interval are recomputed from the rounded counts; a DSR's value is kept and its interval
  built on the rounded count with a spread from published figures only (value / count),
  its population rounded; a mean is published to one decimal with an interval on the
  rounded count (exact, their figures gave the exact count back).
* **National unrounded.** National's headline figures that pass primary suppression are
  published as computed (configurable). Small counts are suppressed there too: a
  workspace's "national" is often one county, and even England's breakdowns have cells of
  two or three people (a user test found a county's "2 of 3 deaths aged 10-14" published).
  Its breakdown categories are rounded as any area's: exact, they would give a suppressed
  one back from the exact total.

Each output row says what was done to it in ``disclosure`` (text for people) and, when it
was suppressed, why in ``value_note``. Works on a list of dicts or a pandas DataFrame with
the columns of ``indicator_values`` (missing columns are tolerated).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import special

from carepath import stats
from carepath.stats.intervals import (
    METHOD_WEIGHTED,
    byars_lower,
    byars_upper,
    poisson_count_limits,
    wilson_limits,
)

DEFAULT_SUPPRESS_BELOW = 8
DEFAULT_ROUND_TO = 5
NATIONAL = "national"
PRACTICE = "practice"
PUBLISHED, SUPPRESSED, MISSING = "published", "suppressed", "missing"
# Statistics whose value is proportional to the count (count / denominator x a scale), so
# they are recomputed from the rounded count: published with the exact value, the value
# times the denominator would give the exact count back. DSRs (weighted by age band) and
# means keep their value.
RECOMPUTABLE = {"proportion", "crude_rate", "isratio", "isr", "count"}
# Statistics whose denominator is a count (of people or of events) and so is rounded too;
# an indirectly standardised ratio's denominator is an expected count, a model figure.
ROUNDED_DENOMINATORS = {"proportion", "crude_rate", "dsr"}  # a DSR's: its population
# A mean is published to this many decimals and its interval built on a standard deviation
# to SD_DECIMALS: exact, mean x n and the sum of squares are whole numbers for one n only
# of the five a rounded count allows, which gave every exact count back (a privacy review).
MEAN_DECIMALS = 1
SD_DECIMALS = 2
# Statistics whose denominator is itself a count (of people, deaths, a list size) and so
# disclosive when small: emergency admissions per death over 5 deaths was published.
COUNT_DENOMINATORS = {"proportion", "crude_rate", "mean"}
LEVELS = (stats.CONF_95, stats.CONF_998)  # the two interval levels of indicator_values
CI_COLUMNS = ("lower95", "upper95", "lower998", "upper998")

# (period, area type, area code) -> (area type, area code) of each area wholly containing it.
Within = Mapping[tuple[str, str, str], Sequence[tuple[str, str]]]

EXEMPT_TEXT = "national figure: published unrounded"
ROUNDED_TEXT = "counts rounded to the nearest {n}"
PRIMARY_TEXT = "suppressed: a count between 1 and {k} could identify people"
SECONDARY_TEXT = ("suppressed: would let another suppressed count be worked out from the "
                  "total (secondary suppression)")


@dataclass(frozen=True)
class DisclosurePolicy:
    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    round_to: int = DEFAULT_ROUND_TO
    national_exempt: bool = True

    def __post_init__(self) -> None:
        if self.suppress_below < 1:
            raise ValueError(f"suppress_below must be at least 1, got {self.suppress_below}")
        if self.round_to < 1:
            raise ValueError(f"round_to must be at least 1, got {self.round_to}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DisclosurePolicy:
        """Read the ``[disclosure]`` table of a workspace's carepath.toml."""
        section = config.get("disclosure", {}) or {}
        return cls(
            suppress_below=int(section.get("suppress_below", DEFAULT_SUPPRESS_BELOW)),
            round_to=int(section.get("round_to", DEFAULT_ROUND_TO)),
            national_exempt=bool(section.get("national_exempt", True)),
        )

    def describe(self) -> str:
        return (f"Counts from 1 to {self.suppress_below - 1} are suppressed; below "
                f"national level other counts are rounded to the nearest {self.round_to}; "
                "percentages are calculated from the rounded counts. A further value is "
                "suppressed where it would let a suppressed one be worked out from a total.")


@overload
def apply_disclosure(data: pd.DataFrame, *, suppress_below: int = ..., round_to: int = ...,
                     national_exempt: bool = ...,
                     groups: Mapping[str, Iterable[str]] | None = ...,
                     within: Within | None = ...) -> pd.DataFrame: ...
@overload
def apply_disclosure(data: Iterable[Mapping], *, suppress_below: int = ..., round_to: int = ...,
                     national_exempt: bool = ...,
                     groups: Mapping[str, Iterable[str]] | None = ...,
                     within: Within | None = ...) -> list[dict]: ...
def apply_disclosure(data, *, suppress_below: int = DEFAULT_SUPPRESS_BELOW,
                     round_to: int = DEFAULT_ROUND_TO, national_exempt: bool = True,
                     groups: Mapping[str, Iterable[str]] | None = None,
                     within: Within | None = None):
    """Apply the policy; returns the same kind of container with new rows (input untouched).
    ``groups``: a workspace's own groups of practices (code -> practice codes), whose
    published totals their practices add up to. ``within``: (period, area type, area code)
    -> every (area type, area code) wholly containing that area at that period
    (``carepath.engine.containment``), whose published totals it is part of."""
    policy = DisclosurePolicy(suppress_below, round_to, national_exempt)
    if isinstance(data, pd.DataFrame):
        # Through Arrow: three times faster than to_dict (pandas' Arrow-backed text goes
        # value by value), and pandas' missing values (NaN, NaT, NA) all arrive as None.
        rows = pa.Table.from_pandas(data, preserve_index=False).to_pylist()
        out = apply_policy(rows, policy, groups, within)
        cols = list(data.columns) + [c for c in ("disclosure",) if c not in data.columns]
        return pd.DataFrame(out, columns=cols)
    return apply_policy([_clean(r) for r in data], policy, groups, within)


def apply_policy(rows: list[dict], policy: DisclosurePolicy,
                 groups: Mapping[str, Iterable[str]] | None = None,
                 within: Within | None = None) -> list[dict]:
    pending = _Recomputations()
    out = [_primary(dict(r), policy, pending) for r in rows]
    pending.run()  # before secondary suppression, which blanks what it hides
    member_of: dict[str, list[str]] = defaultdict(list)
    for code, practices in (groups or {}).items():
        for practice in practices:
            member_of[str(practice)].append(str(code))
    by_indicator: dict[Any, list[dict]] = defaultdict(list)
    for row in out:  # no group spans two indicators: each has its own, smaller, tables
        by_indicator[row.get("indicator_id")].append(row)
    within = within or {}
    inside = _levels_inside(within)
    leftovers: dict[tuple, list[tuple]] = {}  # the same for every indicator, cell and row
    for members in by_indicator.values():
        _secondary(members, lambda row: _group_keys(row, member_of, within, inside,
                                                    leftovers))
    return out


# ----- primary suppression and rounding -------------------------------------------------

def _clean(row: Mapping) -> dict:
    """NaN (pandas' missing) becomes None so the rules below see one kind of missing."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _is_exempt(row: dict, policy: DisclosurePolicy) -> bool:
    """National's headline figure. Its breakdown categories are rounded like any area's:
    exact, they and the exact total gave a suppressed category back by subtraction (a
    code review found 432 - 30 - 400 = 2 deaths aged 10-14)."""
    return policy.national_exempt and row.get("area_type") == NATIONAL and \
        row.get("breakdown") in (None, "all")


def _small(count: float | None, policy: DisclosurePolicy) -> bool:
    return count is not None and 0 < count < policy.suppress_below


def round_count(count: float, to: int) -> int:
    """Nearest multiple of ``to``, halves up (Python's round() would go to even)."""
    return int(math.floor(count / to + 0.5) * to)


def _primary(row: dict, policy: DisclosurePolicy, pending: _Recomputations) -> dict:
    state = row.get("value_state") or PUBLISHED
    row["value_state"] = state
    if state != PUBLISHED:
        # Already suppressed or missing upstream: never let a count through. An upstream
        # suppressed cell needs the same secondary protection as one suppressed here.
        row["disclosure"] = row.get("value_note") or state
        if state == SUPPRESSED or row.get("numerator"):
            # ... as does a missing one hiding a count (a DSR of 6 or 9 events): it would
            # otherwise come back as the total less the published others.
            row["_count"] = None
        return _blank(row, keep_state=True)
    num, den = row.get("numerator"), row.get("denominator")
    small_den = row.get("statistic") in COUNT_DENOMINATORS and _small(den, policy)
    if _small(num, policy) or small_den:
        return _suppress(row, PRIMARY_TEXT.format(k=policy.suppress_below - 1))
    if _is_exempt(row, policy):
        row["disclosure"] = EXEMPT_TEXT
        return row
    return _round(row, policy, pending)


def _blank(row: dict, *, keep_state: bool = False) -> dict:
    for col in ("numerator", "denominator", "value", *CI_COLUMNS):
        if col in row:
            row[col] = None
    if not keep_state:
        row["value_state"] = SUPPRESSED
    return row


def _suppress(row: dict, reason: str) -> dict:
    row["_count"] = row.get("numerator")  # kept privately to choose secondary cells
    _blank(row)
    row["value_note"] = reason
    row["disclosure"] = reason
    for col in ("compared_to_parent", "compared_to_national", "quantile", "trend"):
        if col in row:
            row[col] = None
    return row


def _round(row: dict, policy: DisclosurePolicy, pending: _Recomputations) -> dict:
    num, den = row.get("numerator"), row.get("denominator")
    if num is None:
        row["disclosure"] = ""
        return row
    exact_num, exact_den = num, den
    row["numerator"] = round_count(num, policy.round_to)
    if den is not None and row.get("statistic") in ROUNDED_DENOMINATORS:
        row["denominator"] = round_count(den, policy.round_to)
    row["disclosure"] = ROUNDED_TEXT.format(n=policy.round_to)
    if row.get("value") is None:
        return row
    if row.get("statistic") in RECOMPUTABLE:
        _recompute(row, exact_num, exact_den, pending)
    elif row.get("statistic") == "dsr":
        _dobson_from_rounded(row)
    elif row.get("statistic") == "mean":
        _t_from_rounded(row, exact_num)
    return row


# A DSR's and a mean's intervals are shaped by the exact count: a DSR's Dobson limits sit
# at value + s x (Byar's limit of O - O), whose lower and upper parts are in a ratio that
# only O decides, and a mean's 95% and 99.8% half-widths in a ratio only its number of
# people decides. Published as computed, every row gave its exact count back (found by a
# review). So the limits are those of the rounded count, from published figures only.
def _dobson_from_rounded(row: dict) -> None:
    """Dobson limits on the rounded count, their spread s taken as value / rounded count
    (the mean weight of an event), so they rest on published figures alone: the exact
    spread put a floor of value / s under the exact count (a privacy review)."""
    rounded, value = row["numerator"], row["value"]
    for level, (low, high) in zip(LEVELS, (CI_COLUMNS[:2], CI_COLUMNS[2:]), strict=True):
        if row.get(low) is None or row.get(high) is None:
            continue
        if not rounded:
            row[low] = row[high] = None
            continue
        spread = value / rounded
        row[low] = value + spread * (float(byars_lower(rounded, level)) - rounded)
        row[high] = value + spread * (float(byars_upper(rounded, level)) - rounded)


def _t_from_rounded(row: dict, exact: float) -> None:
    rounded = row["numerator"]
    lower = row.get(CI_COLUMNS[0])
    exact_value = row["value"]
    row["value"] = round(exact_value, MEAN_DECIMALS)
    if lower is None or exact < 2 or rounded < 2:
        for col in CI_COLUMNS:
            row[col] = None
        return
    # The standard deviation, read off the 95% half-width of the exact count.
    sd = (exact_value - lower) * math.sqrt(exact) / _t(exact, LEVELS[0])
    sd = round(sd, SD_DECIMALS)
    for level, (low, high) in zip(LEVELS, (CI_COLUMNS[:2], CI_COLUMNS[2:]), strict=True):
        half = _t(rounded, level) * sd / math.sqrt(rounded)
        row[low], row[high] = row["value"] - half, row["value"] + half


def _t(count: float, level: float) -> float:
    return float(special.stdtrit(count - 1, 1 - (1 - level) / 2))


def _recompute(row: dict, exact_num: float, exact_den: float | None,
               pending: _Recomputations) -> None:
    num = row["numerator"]
    den, exact_den = (1.0, 1.0) if row.get("statistic") == "count" \
        else (row.get("denominator"), exact_den)
    if not den or not exact_den:
        return
    if row.get("method") == METHOD_WEIGHTED:
        _weighted(row, num, den, exact_num, exact_den)
        return
    pending.add(row, num, den, exact_num, exact_den)


class _Recomputations:
    """Rows whose value and interval are recomputed from their rounded counts, all at once:
    one vectorised call per method and level instead of one per row (an England export
    spent more than half of its five minutes in those calls). The same published methods
    as the engine: Wilson for proportions; exact Poisson below 10 events and Byar's from 10
    for rates, counts and standardised ratios."""

    def __init__(self) -> None:
        self.rows: dict[bool, list[dict]] = {True: [], False: []}  # keyed by "proportion?"
        self.counts: dict[bool, list[tuple]] = {True: [], False: []}

    def add(self, row: dict, num: float, den: float, exact_num: float,
            exact_den: float) -> None:
        proportion = row.get("statistic") == "proportion"
        self.rows[proportion].append(row)
        self.counts[proportion].append((num, den, exact_num, exact_den, row["value"],
                                        _number(row.get("upper95"))))

    def run(self) -> None:
        for proportion, rows in self.rows.items():
            if rows:
                _recompute_all(rows, np.array(self.counts[proportion], dtype=float),
                               proportion)


def _number(value: Any) -> float:
    return math.nan if value is None else value


def _scaled_limits(x: np.ndarray, n: np.ndarray, level: float, proportion: bool,
                   scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and limits of x / n times ``scale``, multiplied in the order stats.proportion
    and stats.rate multiply, so they agree to the last bit."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if proportion:
            lower, upper = wilson_limits(x, n, level)
            return x / n * scale, lower * scale, upper * scale
        lower, upper = poisson_count_limits(x, level)
        per_unit = scale / n
        return x * per_unit, lower * per_unit, upper * per_unit


def _scales(counts: np.ndarray, proportion: bool) -> np.ndarray:
    """What each value is the count per denominator times: 100 for a percentage, the rate's
    multiplier over the period's years for a crude rate per head, 100 x the reference rate
    for an ISR ... read off the exact figures, so no definition needs to be at hand. NaN
    where it cannot be read."""
    _, _, exact_num, exact_den, value, upper95 = counts.T
    # No events: the value is 0 whatever the scale; the upper limit still carries it.
    per_one = _scaled_limits(np.zeros_like(exact_den), exact_den, LEVELS[0], proportion,
                             np.ones_like(exact_den))[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(exact_num != 0, value * exact_den / exact_num,
                         np.where(per_one > 0, upper95 / per_one, np.nan))
        return np.where(scale > 0, scale, np.nan)


def _recompute_all(rows: list[dict], counts: np.ndarray, proportion: bool) -> None:
    num, den = counts[:, 0], counts[:, 1]
    scale = _scales(counts, proportion)
    value, low95, high95 = _scaled_limits(num, den, LEVELS[0], proportion, scale)
    _, low998, high998 = _scaled_limits(num, den, LEVELS[1], proportion, scale)
    columns = dict(zip(CI_COLUMNS, (low95, high95, low998, high998), strict=True))
    known = ~np.isnan(scale)
    for i, row in enumerate(rows):
        if known[i]:
            row["value"] = float(value[i])
            row.update({col: float(column[i]) for col, column in columns.items() if col in row})
        elif counts[i, 2]:  # events but no scale to recompute with (a value of 0 over 12
            # events): neither the exact value nor the exact interval goes out
            row["value"] = None
            row.update({col: None for col in columns if col in row})


def _weighted(row: dict, num: float, den: float, exact_num: float, exact_den: float) -> None:
    """A sum over weighted events (bed days per death): the value from the rounded counts,
    and no interval. Its interval rests on the number of events and their weights, which
    the row does not carry; moved with the rounded total, its shape gave back the exact
    number of admissions, and a value over the exact deaths gave back those."""
    scale = row["value"] * exact_den / exact_num if exact_num else None
    row["value"] = num / den * scale if scale is not None else 0.0
    for col in CI_COLUMNS:
        if col in row:
            row[col] = None
    row["disclosure"] = f"{row['disclosure']}; {WEIGHTED_NO_INTERVAL}"


WEIGHTED_NO_INTERVAL = ("interval not published (it would give back counts the rounding "
                        "hides)")


# ----- secondary suppression ------------------------------------------------------------

def _levels_inside(within: Within) -> dict[tuple, set[str]]:
    """(period, area type, code) -> the levels with an area wholly inside that area."""
    inside: dict[tuple, set[str]] = defaultdict(set)
    for (period, area_type, _), outers in within.items():
        if area_type != PRACTICE:
            for outer in outers:
                inside[(period, *outer)].add(area_type)
    return inside


def _leftover_keys(row: dict, within: Within, inside: Mapping[tuple, set[str]],
                   cache: dict[tuple, list[tuple]]) -> list[tuple]:
    """A practice in none of an area's areas of some level (its PCN straddles the
    locality, or it is in none of the own groups inside it) joins that level's group
    there: the area's total less those areas is the practice's own figure (a code review
    found a practice that moved PCN given back as locality less its one PCN)."""
    period, practice = str(row.get("period")), row.get("area_code")
    if (period, practice) in cache:
        return cache[(period, practice)]
    mine = within.get((period, PRACTICE, practice), ())
    keys = []
    for outer in mine:
        for level in inside.get((period, *outer), ()):
            held = any(area[0] == level and outer in within.get((period, *area), ())
                       for area in mine)
            if not held:
                keys.append((*outer, level))
    cache[(period, practice)] = keys
    return keys


def _group_keys(row: dict, member_of: Mapping[str, list[str]], within: Within,
                inside: Mapping[tuple, set[str]], leftovers: dict[tuple, list[tuple]]
                ) -> list[tuple]:
    """Groups whose members add up to a published total: siblings under one parent, the
    areas of one level inside each area containing them (with the area's practices in
    none of them), an area's breakdown categories, and the practices of a workspace's own
    group."""
    base = (row.get("indicator_id"), row.get("period"))
    cell = (row.get("breakdown"), row.get("category"))
    keys = [("siblings", *base, row.get("area_type"), row.get("parent_code"), *cell)]
    outer = within.get((str(row.get("period")), row.get("area_type"), row.get("area_code")), ())
    keys += [("within", *base, *area, row.get("area_type"), *cell) for area in outer]
    if row.get("area_type") == PRACTICE and inside:
        keys += [("within", *base, *area_level, *cell)
                 for area_level in _leftover_keys(row, within, inside, leftovers)]
    if row.get("area_type") == PRACTICE:
        keys += [("own group", *base, group, *cell)
                 for group in member_of.get(str(row.get("area_code")), ())]
    if row.get("breakdown") not in (None, "all"):
        keys.append(("categories", *base, row.get("area_type"), row.get("area_code"),
                     row.get("breakdown")))
    return keys


def _secondary(rows: list[dict], keys_of: Callable[[dict], list[tuple]]) -> None:
    """Until no group has a lone hidden cell. A worklist: a group is looked at again only
    when one of its members is newly hidden, and one with two hidden is done for good
    (hiding only ever grows), so the cost follows the rows, not rows x rounds."""
    members: dict[tuple, list[dict]] = defaultdict(list)
    hidden: dict[tuple, int] = defaultdict(int)
    keys = []
    # In one fixed order whatever order the rows came in: the choices follow the order
    # groups are met, and two outputs of the same figures choosing differently give back
    # together what each hid (the web's unordered query and the export's sorted one did).
    rows = sorted(rows, key=_cell_key)
    for row in rows:  # national's too: its categories add up to its published total
        keys.append(keys_of(row))
        for key in keys[-1]:
            members[key].append(row)
            hidden[key] += "_count" in row
    position = {id(row): i for i, row in enumerate(rows)}
    todo = deque(key for key in members if hidden[key] == 1)
    while todo:
        key = todo.popleft()
        victim = _victim(members[key]) if hidden[key] == 1 else None
        if victim is None:
            continue
        _suppress(victim, SECONDARY_TEXT)
        for victim_key in keys[position[id(victim)]]:
            hidden[victim_key] += 1
            if hidden[victim_key] == 1:
                todo.append(victim_key)
    for row in rows:
        row.pop("_count", None)


def _victim(members: list[dict]) -> dict | None:
    """The cell to hide beside a group's lone hidden one: the smallest published count."""
    if len(members) < 2:
        return None
    # Not a zero while another will do: a hidden cell is known to be 0 or at least the
    # threshold, so with a zero the total less the others is the suppressed count itself
    # (found by a code review). A zero only when nothing else is left to hide.
    published = [r for r in members if r.get("value_state") == PUBLISHED
                 and r.get("numerator") is not None]
    candidates = [r for r in published if r["numerator"]] or published
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r["numerator"], _cell_key(r)))


def _cell_key(row: dict) -> tuple:
    return tuple(str(row.get(c)) for c in ("period", "area_type", "area_code", "breakdown",
                                           "category"))
