"""Inequalities within one area: an indicator's figures for each group of a breakdown (sex,
age band, deprivation quintile, tumour group) beside the area's own, each group's interval
compared with the area's figure, and across deprivation quintiles the slope index of
inequality (PHE's method, ``carepath.stats.sii``).

The figures are the engine's (``indicator_values`` rows with a breakdown); nothing here
counts again. Callers pass the rows their reader may see, with suppressed ones blanked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepath import stats
from carepath.engine.cells import NOT_RECORDED
from carepath.engine.comparisons import judge
from carepath.model.codes import AGE_BANDS, SEX_NAMES, in_words
from carepath.stats.inequality import VALUE_NORMAL, VALUE_PROPORTION, VALUE_RATE

DEPRIVATION = "imd_quintile"
# Breakdowns whose groups differ by nature (case mix), judged without polarity.
CASE_MIX_BREAKDOWNS = frozenset({"tumour_group", "age_band"})
QUINTILES = ("1", "2", "3", "4", "5")  # 1 = most deprived (IMD), as the data model says
BREAKDOWN_LABELS = {"sex": "Sex", "age_band": "Age band", DEPRIVATION: "Deprivation quintile",
                    "tumour_group": "Tumour group", "ethnic_group": "Ethnic group"}
QUINTILE_WORDS = {"1": "1 (most deprived)", "5": "5 (least deprived)"}
# The order breakdowns are shown in: who people are, then where they live, then what.
BREAKDOWN_ORDER = ("sex", "age_band", DEPRIVATION, "ethnic_group", "tumour_group")
# stats.sii's value types: the scale its errors are taken on (PHEindicatormethods' codes),
# for the statistics whose denominator is the group's size, which ranks the quintiles
# (a standardised ratio's is its expected count, which would weight them by risk: a review).
SII_VALUE_TYPES = {"proportion": VALUE_PROPORTION, "crude_rate": VALUE_RATE,
                   "dsr": VALUE_RATE, "mean": VALUE_NORMAL}
SII_CONFIDENCE = stats.CONF_95  # its limits are simulated from the groups' 95% intervals


@dataclass(frozen=True)
class Gradient:
    """The slope index of inequality across deprivation quintiles: the gap, on the
    indicator's own scale, between the least and the most deprived ends of a line fitted
    through the quintiles (weighted by their denominators), with its 95% interval."""

    sii: float
    lower: float
    upper: float

    @property
    def higher_in(self) -> str | None:
        """Where the fitted line is higher, if its interval excludes no gradient."""
        if self.lower > 0:
            return "least deprived"
        if self.upper < 0:
            return "most deprived"
        return None


@dataclass(frozen=True)
class Breakdown:
    name: str
    label: str
    rows: list[dict]
    gradient: Gradient | None = None
    no_gradient: str | None = None  # why a deprivation breakdown has none


def in_order(names) -> list[str]:
    """Breakdowns in the order they are shown (``BREAKDOWN_ORDER``, then any other)."""
    return sorted(names, key=lambda b: (BREAKDOWN_ORDER.index(b) if b in BREAKDOWN_ORDER
                                        else len(BREAKDOWN_ORDER), b))


def category_label(breakdown: str, category: str) -> str:
    if breakdown == "sex":
        return SEX_NAMES.get(category, category)
    if breakdown == DEPRIVATION:
        return QUINTILE_WORDS.get(category, category)
    if breakdown == "age_band" and category != NOT_RECORDED:
        return f"{category} yrs"
    return _first_up(in_words(category))


def _category_place(breakdown: str, category: str) -> tuple[int, str]:
    """Categories in their natural order (age bands by age, quintiles 1 to 5), anything
    not recorded last."""
    if category == NOT_RECORDED:
        return (len(AGE_BANDS) + 1, category)
    if breakdown == "age_band" and category in AGE_BANDS:
        return (AGE_BANDS.index(category), category)
    return (0, category_label(breakdown, category))


def breakdowns(rows: pd.DataFrame, overall: float | None, *, polarity: str, level: str,
               statistic: str | None, scale: float) -> list[Breakdown]:
    """One area's breakdown rows (``indicator_values`` columns, one period) grouped by
    breakdown, each group judged against ``overall`` (the area's own figure) by its
    interval at ``level`` ("95" or "998", the indicator's comparison level)."""
    out = []
    for name in in_order(set(rows["breakdown"])):
        part = rows[rows["breakdown"] == name]
        part = part.iloc[sorted(range(len(part)), key=lambda i: _category_place(
            name, str(part["category"].iloc[i])))]
        shown = part["value_state"] == "published"
        lower = part[f"lower{level}"].to_numpy(float)
        upper = part[f"upper{level}"].to_numpy(float)
        versus = np.full(len(part), np.nan if overall is None else overall)
        # A tumour group or an age band differs from the area's whole by what it is: said
        # higher or lower, not better or worse (brain and CNS read "Worse": a walkthrough).
        judged_as = "no_judgement" if name in CASE_MIX_BREAKDOWNS else polarity
        judged = np.asarray(judge(lower, upper, versus, judged_as), dtype=object)
        counted = statistic == "count"  # a group's count is always below its area's
        records = [{
            "category": str(r["category"]), "label": category_label(name, str(r["category"])),
            "value": _number(r["value"]), "lower": _number(r[f"lower{level}"]),
            "upper": _number(r[f"upper{level}"]), "lower95": _number(r["lower95"]),
            "upper95": _number(r["upper95"]), "numerator": _number(r["numerator"]),
            "denominator": _number(r["denominator"]), "value_state": r["value_state"],
            "value_note": _text(r.get("value_note")),
            "compared_to_area": "not_compared" if counted or not ok else str(j),
            "compared_to_national": _text(r.get("compared_to_national")) or "not_compared",
            "trend": _text(r.get("trend")) or "",
        } for (_, r), j, ok in zip(part.iterrows(), judged, shown, strict=True)]
        gradient, why = (_gradient(records, statistic, scale) if name == DEPRIVATION
                         else (None, None))
        out.append(Breakdown(name, BREAKDOWN_LABELS.get(name, in_words(name)), records,
                             gradient, why))
    return out


def _gradient(records: list[dict], statistic: str | None, scale: float
              ) -> tuple[Gradient | None, str | None]:
    """PHE's SII across the five quintiles, or why there is none."""
    if statistic is None:
        return None, ("No slope index of inequality: the indicator's definition is not at "
                      "hand to say how its figures are made.")
    value_type = SII_VALUE_TYPES.get(statistic)
    if value_type is None:
        return None, (f"A slope index of inequality is not worked out for a "
                      f"{statistic.replace('_', ' ')}: it needs each quintile's size.")
    by_quintile = {r["category"]: r for r in records if r["category"] in QUINTILES}
    usable = [by_quintile.get(q) for q in QUINTILES]
    if any(r is None or r["value_state"] != "published" or r["value"] is None
           or r["lower95"] is None or not r["denominator"] for r in usable):
        return None, ("No slope index of inequality: it needs a published figure for each "
                      "of the five quintiles.")
    per = scale if value_type == VALUE_PROPORTION else 1.0
    value, lower, upper = (np.array([[r[k] / per for r in usable]])
                           for k in ("value", "lower95", "upper95"))
    if value_type != VALUE_NORMAL and not ((lower > 0).all() and (
            value_type != VALUE_PROPORTION or (upper < 1).all())):
        return None, ("No slope index of inequality: a quintile's interval reaches the "
                      "end of the scale (none, or all), where its error cannot be taken.")
    result = stats.sii(value, np.array([[r["denominator"] for r in usable]]),
                       value_type=value_type, lower=lower, upper=upper, multiplier=per,
                       confidence=SII_CONFIDENCE)
    return Gradient(float(result.sii[0]), float(result.sii_lower[0]),
                    float(result.sii_upper[0])), None


def _first_up(words: str) -> str:
    """'lower GI' -> 'Lower GI' (str.capitalize wrote 'Lower gi')."""
    return words[:1].upper() + words[1:]


def _text(value) -> str | None:
    """A text column's value, or None where it is empty (pandas gives NaN or None)."""
    return value if isinstance(value, str) else None


def _number(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
