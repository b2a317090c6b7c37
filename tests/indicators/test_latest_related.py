"""``latest_by``: a condition on a person's latest related row, not on any of their rows.
Died in the preferred place counts each person's latest stated preference before death."""

from __future__ import annotations

from datetime import date

import ibis
import pytest
import yaml

from carepath.engine import compile as cp
from carepath.errors import ValidationError
from carepath.indicators.definition import from_mapping
from carepath.indicators.library import builtin
from carepath.indicators.periods import periods_between

YEAR = periods_between("financial_year", date(2023, 4, 1), date(2024, 3, 31))
# person: (place of death, date of death, [(preferred place, date recorded)])
PEOPLE = {
    "changed_to_where_they_died": ("hospice", date(2023, 9, 1),
                                   [("home", date(2023, 1, 5)), ("hospice", date(2023, 6, 1))]),
    "changed_away_from_it": ("hospice", date(2023, 9, 1),
                             [("hospice", date(2023, 1, 5)), ("home", date(2023, 6, 1))]),
    "latest_not_stated": ("home", date(2023, 10, 1),
                          [("home", date(2023, 5, 1)), ("not_stated", date(2023, 7, 1))]),
    "recorded_after_death": ("home", date(2023, 10, 1), [("home", date(2023, 11, 1))]),
    "only_not_stated": ("home", date(2023, 10, 1), [("not_stated", date(2023, 5, 1))]),
    "none_recorded": ("hospital", date(2023, 10, 1), []),
}


def _source() -> cp.Source:
    deaths = ibis.memtable({
        "patient_id": list(PEOPLE), "practice_code": ["P1"] * len(PEOPLE),
        "place_of_death": [p[0] for p in PEOPLE.values()],
        "date_of_death": [p[1] for p in PEOPLE.values()],
        "underlying_cause": ["C50"] * len(PEOPLE)}).cast({"date_of_death": "date"})
    prefs = [(pid, place, when) for pid, (_, _, rows) in PEOPLE.items() for place, when in rows]
    preferences = ibis.memtable({
        "patient_id": [r[0] for r in prefs], "preferred_place": [r[1] for r in prefs],
        "date_recorded": [r[2] for r in prefs]}).cast({"date_recorded": "date"})
    return cp.Source(table={"deaths": deaths, "preferences": preferences}.__getitem__)


def _count(part) -> int:
    defn = builtin()["died_in_preferred_place"]
    table = cp.aggregate_count(_source(), defn, getattr(defn, part), cp.periods_table(YEAR))
    got = ibis.duckdb.connect().execute(table)
    return int(got.n.sum()) if len(got) else 0


def test_latest_stated_preference_before_death_is_the_one_that_counts():
    # Numerator: changed_to_where_they_died, latest_not_stated (home, stated before).
    assert _count("numerator") == 2
    # Denominator: everyone with a stated preference recorded by the day they died.
    assert _count("denominator") == 3


def _definition(rel: str) -> str:
    return f"""
id: t
version: '1'
title: t
why: t
domain: end_of_life
statistic: proportion
numerator:
  table: deaths
  date: date_of_death
  require:
  - table: preferences
    'on': patient_id
{rel}
denominator:
  table: deaths
  date: date_of_death
polarity: high_is_good
governance: {{source: t, authored_by: t, checked_by: t, reviewed: '2026-01-01',
             next_review: '2027-01-01'}}
"""


@pytest.mark.parametrize("rel, field, message", [
    ("    latest_by: preferred_place", "latest_by", "not a date column of preferences"),
    ("    among: preferred_place != 'home'", "among", "give latest_by too"),
    ("    latest_by: date_recorded\n    among: place_of_death = 'home'", "among",
     "place_of_death"),
])
def test_latest_by_and_among_are_checked_against_the_data_model(rel, field, message):
    with pytest.raises(ValidationError) as caught:
        from_mapping(yaml.safe_load(_definition(rel)), source="t.yaml")
    assert message in str(caught.value)
    assert f"numerator.require.0.{field}" in str(caught.value)
