"""Groups within an area (carepath.domain.benchmarking.inequalities): their order, their
names, each judged against the area's figure, and the slope index across quintiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath import stats
from carepath.domain.benchmarking import inequalities
from carepath.engine.cells import NOT_RECORDED
from carepath.model.codes import AGE_BANDS


def _rows(breakdown: str, values: dict[str, float], *, half_width: float = 2.0,
          den: float = 1000.0, states: dict[str, str] | None = None) -> pd.DataFrame:
    return pd.DataFrame([{
        "breakdown": breakdown, "category": category, "value": value,
        "lower95": value - half_width, "upper95": value + half_width,
        "lower998": value - 1.5 * half_width, "upper998": value + 1.5 * half_width,
        "numerator": value * den / 100, "denominator": den,
        "value_state": (states or {}).get(category, "published"), "value_note": None,
        "compared_to_national": "similar", "trend": None} for category, value in values.items()])


def _one(rows, overall=50.0, **kw) -> inequalities.Breakdown:
    options = {"polarity": "high_is_good", "level": "95", "statistic": "proportion",
               "scale": 100.0, **kw}
    (group,) = inequalities.breakdowns(rows, overall, **options)
    return group


def test_age_bands_in_age_order_and_not_recorded_last():
    shuffled = [NOT_RECORDED, "90+", "5-9", "10-14", "0-4", "45-49"]
    group = _one(_rows("age_band", {c: 10.0 for c in shuffled}))
    assert [r["category"] for r in group.rows] == ["0-4", "5-9", "10-14", "45-49", "90+",
                                                   NOT_RECORDED]
    assert group.rows[0]["label"] == "0-4 yrs" and group.rows[-1]["label"] == NOT_RECORDED
    assert [b for b in AGE_BANDS if b in shuffled] == [r["category"] for r in group.rows[:-1]]


def test_names_people_read():
    sexes = _one(_rows("sex", {"M": 40.0, "F": 60.0}))
    assert [r["label"] for r in sexes.rows] == ["Female", "Male"] and sexes.label == "Sex"
    tumours = _one(_rows("tumour_group", {"lower_gi": 40.0, "brain_cns": 60.0}))
    assert [r["label"] for r in tumours.rows] == ["Brain and CNS", "Lower GI"]


def test_each_group_is_judged_against_the_area_by_its_interval_at_the_level():
    rows = _rows("sex", {"F": 53.0, "M": 47.5})  # 95%: 51-55 and 45.5-49.5; 99.8%: ±3
    at95 = {r["category"]: r["compared_to_area"] for r in _one(rows).rows}
    assert at95 == {"F": "better", "M": "worse"}
    at998 = {r["category"]: r["compared_to_area"] for r in _one(rows, level="998").rows}
    assert at998 == {"F": "similar", "M": "similar"}
    low_good = {r["category"]: r["compared_to_area"]
                for r in _one(rows, polarity="low_is_good").rows}
    assert low_good == {"F": "worse", "M": "better"}
    neither = {r["category"]: r["compared_to_area"]
               for r in _one(rows, polarity="no_judgement").rows}
    assert neither == {"F": "higher", "M": "lower"}


@pytest.mark.parametrize("breakdown, categories", [
    ("tumour_group", ("brain_cns", "breast")), ("age_band", ("85-89", "50-54"))])
def test_case_mix_groups_are_higher_or_lower_not_better_or_worse(breakdown, categories):
    """Brain and CNS read "Worse" for early stage: what the group is, not how it is cared
    for (a walkthrough)."""
    rows = _rows(breakdown, dict(zip(categories, (40.0, 60.0), strict=True)))
    said = {r["category"]: r["compared_to_area"] for r in _one(rows).rows}
    assert said == dict(zip(categories, ("lower", "higher"), strict=True))
    quintiles = {r["compared_to_area"] for r in _one(_rows("imd_quintile", {"1": 40.0})).rows}
    assert quintiles == {"worse"}  # deprivation keeps its judgement


def test_suppressed_groups_counts_and_an_unknown_area_are_not_compared():
    rows = _rows("sex", {"F": 80.0, "M": 20.0}, states={"M": "suppressed"})
    assert [r["compared_to_area"] for r in _one(rows).rows] == ["better", "not_compared"]
    assert {r["compared_to_area"] for r in _one(rows, overall=None).rows} == {"not_compared"}
    assert {r["compared_to_area"] for r in _one(rows, statistic="count").rows} == {
        "not_compared"}


QUINTILES = ("1", "2", "3", "4", "5")


def test_the_slope_index_is_phes_with_its_direction():
    values = {"1": 30.0, "2": 35.0, "3": 42.0, "4": 45.0, "5": 52.0}
    group = _one(_rows("imd_quintile", values))
    v = np.array([[values[q] / 100 for q in QUINTILES]])
    expected = stats.sii(v, np.full((1, 5), 1000.0), value_type=2, lower=v - 0.02,
                         upper=v + 0.02, multiplier=100)
    assert group.gradient.sii == pytest.approx(expected.sii[0], rel=1e-12)
    assert (group.gradient.lower, group.gradient.upper) == pytest.approx(
        (expected.sii_lower[0], expected.sii_upper[0]), rel=1e-12)
    assert group.gradient.higher_in == "least deprived" and group.no_gradient is None
    falling = _one(_rows("imd_quintile", {q: 60 - 5 * int(q) for q in QUINTILES}))
    assert falling.gradient.sii < 0 and falling.gradient.higher_in == "most deprived"


def test_a_rate_takes_the_log_scale_and_its_own_units():
    values = {"1": 900.0, "2": 800.0, "3": 700.0, "4": 650.0, "5": 600.0}
    group = _one(_rows("imd_quintile", values, half_width=40.0), statistic="crude_rate",
                 scale=100000.0)
    v = np.array([[values[q] for q in QUINTILES]])
    expected = stats.sii(v, np.full((1, 5), 1000.0), value_type=1, lower=v - 40,
                         upper=v + 40)
    assert group.gradient.sii == pytest.approx(expected.sii[0], rel=1e-12)


@pytest.mark.parametrize(("states", "values", "said"), [
    ({"3": "suppressed"}, None, "needs a published figure for each of the five"),
    ({}, {"1": 0.0}, "reaches the end of the scale"),
])
def test_no_slope_index_says_why(states, values, said):
    base = {q: 40.0 + int(q) for q in QUINTILES} | (values or {})
    group = _one(_rows("imd_quintile", base, states=states))
    assert group.gradient is None and said in group.no_gradient


def test_no_slope_index_for_counts_ratios_or_unknown_statistics_nor_without_all_quintiles():
    rows = _rows("imd_quintile", {q: 40.0 + int(q) for q in QUINTILES})
    counted = _one(rows, statistic="count")
    assert counted.gradient is None and "for a count" in counted.no_gradient
    # a ratio's denominator is its expected count: it would rank the quintiles by risk
    ratio = _one(rows, statistic="isratio")
    assert ratio.gradient is None and "each quintile's size" in ratio.no_gradient
    unknown = _one(rows, statistic=None)
    assert unknown.gradient is None and "definition is not at hand" in unknown.no_gradient
    four = _one(_rows("imd_quintile", {q: 40.0 + int(q) for q in QUINTILES[:4]}))
    assert four.gradient is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(5, 95), min_size=5, max_size=5),
       st.lists(st.floats(100, 5000), min_size=5, max_size=5))
def test_reversing_the_quintiles_reverses_the_slope(values, sizes):
    """The index measures from the most to the least deprived: the same figures read the
    other way round give the opposite gap (an invariant of the fitted line)."""
    def gap(order):
        frame = _rows("imd_quintile", dict(zip(QUINTILES, order[0], strict=True)))
        frame["denominator"] = order[1]
        return _one(frame).gradient.sii

    forward = gap((values, sizes))
    backward = gap((values[::-1], sizes[::-1]))
    assert backward == pytest.approx(-forward, abs=1e-9)
