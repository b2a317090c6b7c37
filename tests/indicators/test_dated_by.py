"""``dated_by``: rows counted in the period of a related row's date. Emergency admissions in
the last 90 days of life count in the year of the death they preceded, beside that death;
by their own date, admissions in March before an April death fell in the year before the
death, and the latest year read low (its deaths' admissions partly in the year before)."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest
import yaml

from carepath.engine import compile as cp
from carepath.errors import ValidationError
from carepath.indicators.definition import from_mapping
from carepath.indicators.library import builtin
from carepath.indicators.periods import periods_between

YEARS = periods_between("financial_year", date(2023, 4, 1), date(2025, 3, 31))
# person: (date of death or None, underlying cause, [(admission type, admission date, bed days)])
PEOPLE = {
    "died_april_admitted_march": (date(2024, 4, 10), "C34",
                                  [("emergency", date(2024, 3, 1), 5),
                                   ("emergency", date(2024, 4, 5), 3)]),
    "died_june": (date(2023, 6, 20), "C50", [("emergency", date(2023, 6, 1), 7),
                                             ("elective", date(2023, 6, 2), 1)]),
    "admitted_too_early": (date(2023, 12, 31), "I21", [("emergency", date(2023, 9, 1), 2)]),
    "external_cause": (date(2024, 5, 1), "V031", [("emergency", date(2024, 4, 30), 1)]),
    "alive": (None, None, [("emergency", date(2024, 1, 1), 9)]),
}


def _source() -> cp.Source:
    dead = {p: v for p, v in PEOPLE.items() if v[0] is not None}
    deaths = ibis.memtable({
        "patient_id": list(dead), "practice_code": ["P1"] * len(dead),
        "date_of_death": [v[0] for v in dead.values()],
        "underlying_cause": [v[1] for v in dead.values()],
        "age_at_death": [80] * len(dead)}).cast({"date_of_death": "date"})
    rows = [(pid, *adm) for pid, (_, _, adms) in PEOPLE.items() for adm in adms]
    admissions = ibis.memtable({
        "patient_id": [r[0] for r in rows], "admission_type": [r[1] for r in rows],
        "admission_date": [r[2] for r in rows], "bed_days": [r[3] for r in rows]}
    ).cast({"admission_date": "date"})
    patients = ibis.memtable({"patient_id": list(PEOPLE), "practice_code": ["P1"] * len(PEOPLE),
                              "sex": ["F"] * len(PEOPLE), "year_of_birth": [1940] * len(PEOPLE)})
    tables = {"deaths": deaths, "admissions": admissions, "patients": patients}
    return cp.Source(table=tables.__getitem__)


def _by_period(indicator: str, part: str = "numerator") -> dict[str, float]:
    defn = builtin()[indicator]
    table = cp.aggregate_count(_source(), defn, getattr(defn, part), cp.periods_table(YEARS))
    got = ibis.duckdb.connect().execute(table)
    return got.groupby("period").n.sum().to_dict()


def test_admissions_count_in_the_year_of_the_death_they_preceded():
    # 2024/25: both admissions before the April death (one of them in March 2024).
    # 2023/24: the June death's emergency admission; not the elective one, not the one
    # more than 90 days before death, not an external-cause death's, not a living person's.
    assert _by_period("emergency_admissions_last_90_days") == {"2023/24": 1, "2024/25": 2}
    assert _by_period("emergency_admissions_last_90_days", "denominator") == \
        {"2023/24": 2, "2024/25": 1}
    assert _by_period("emergency_bed_days_last_90_days") == {"2023/24": 7, "2024/25": 8}


def test_the_periods_come_from_the_dating_tables_dates():
    defn = builtin()["emergency_admissions_last_90_days"]
    got = ibis.duckdb.connect().execute(cp.dates_by_month(_source(), "deaths",
                                                          defn.numerator.date))
    assert (pd.to_datetime(got["first"]).min().date(),
            pd.to_datetime(got["last"]).max().date()) == (date(2023, 6, 20), date(2024, 5, 1))
    assert "deaths" in defn.tables()


def _definition(numerator: str) -> dict:
    return yaml.safe_load(f"""
id: t
version: '1'
title: t
why: t
domain: end_of_life
statistic: count
numerator:
{numerator}
polarity: low_is_good
governance: {{source: t, authored_by: t, checked_by: t, reviewed: '2026-01-01',
             next_review: '2027-01-01'}}
""")


@pytest.mark.parametrize("numerator, field, message", [
    ("  table: admissions\n  date: admission_date\n  dated_by: {table: deaths, 'on': patient_id, own_date: admission_date}",
     "numerator.date", "'admission_date' is not a date column of deaths"),
    ("  table: admissions\n  date: date_of_death\n  dated_by: {table: deaths, 'on': admission_id, own_date: admission_date}",
     "numerator.dated_by.on", "key 'admission_id' must be the key of deaths (patient_id)"),
    # A shared practice code would give every admission the practice's latest death date.
    ("  table: referrals\n  date: date_of_death\n  dated_by: {table: deaths, 'on': practice_code, own_date: referral_date}",
     "numerator.dated_by.on", "must be the key of deaths"),
    ("  table: admissions\n  date: date_of_death\n  dated_by: {table: death, 'on': patient_id, own_date: admission_date}",
     "numerator.dated_by.table", "death"),
    (("  table: admissions\n  date: date_of_death\n"
      "  dated_by: {table: deaths, 'on': patient_id, own_date: bed_days}"),
     "numerator.dated_by.own_date", "own_date 'bed_days' is not a date column of admissions"),
    (("  table: care_events\n  date: event_date\n"
      "  dated_by: {table: coproduction_events, 'on': event_id, own_date: event_date}"),
     "numerator.date", "care_events has a column 'event_date' of its own"),
    (("  table: admissions\n  date: date_of_death\n  until: discharge_date\n"
      "  dated_by: {table: deaths, 'on': patient_id, own_date: admission_date}"), "numerator.until", "dated_by"),
])
def test_dated_by_is_checked_against_the_data_model(numerator, field, message):
    with pytest.raises(ValidationError) as caught:
        from_mapping(_definition(numerator), source="t.yaml")
    assert message in str(caught.value)
    assert f"field {field}" in str(caught.value)


def test_an_unquoted_on_is_read_as_written():
    """YAML 1.1 reads `on:` as the boolean True; the documented example failed with
    'Field required'."""
    defn = from_mapping(_definition(
        "  table: admissions\n  date: date_of_death\n  dated_by: {table: deaths, on: patient_id, own_date: admission_date}"
        "\n  require:\n  - table: deaths\n    on: patient_id"), source="t.yaml")
    assert defn.numerator.dated_by.on == defn.numerator.require[0].on == "patient_id"


def test_age_bands_take_the_dating_tables_recorded_age():
    """Admissions counted by date of death are banded by the age at death, as the deaths
    they are divided by are: by year of birth 9% of people fell in another band on each
    side of the rate."""
    source = _source()
    deaths = source.table("deaths").mutate(age_at_death=ibis.literal(64))  # born 1940: 83-84
    tables = {"deaths": deaths, "admissions": source.table("admissions"),
              "patients": source.table("patients")}
    defn = builtin()["emergency_admissions_last_90_days"]
    con = ibis.duckdb.connect()
    bands = {}
    for part in ("numerator", "denominator"):
        table = cp.aggregate_count(cp.Source(table=tables.__getitem__), defn,
                                   getattr(defn, part), cp.periods_table(YEARS), ("age_band",))
        bands[part] = set(con.execute(table).age_band)
    assert bands["numerator"] == bands["denominator"] == {12}  # 60-64


def test_a_proportion_of_deaths_may_count_rows_dated_by_them():
    """People with an emergency admission, dated by their death, over the deaths: a
    proportion whose numerator is dated by the denominator's rows (refused for a while by
    the check that a numerator counts its denominator's table; found by a code review)."""
    data = _definition("  table: admissions\n  date: date_of_death\n  value: distinct:patient_id"
                       "\n  dated_by: {table: deaths, 'on': patient_id, own_date: admission_date}")
    data.update(statistic="proportion", denominator={"table": "deaths", "date": "date_of_death"})
    defn = from_mapping(data, source="t.yaml")
    assert defn.numerator.dated_by.table == defn.denominator.table == "deaths"
