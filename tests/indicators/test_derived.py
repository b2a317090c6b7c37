"""Person columns copied beside event tables (``carepath.workspace.derived``): the engine
reads the copy instead of joining patients, so the copy must give exactly the values the
join gives, follow every change to either table, and never outlive a load."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from carepath.engine import run
from carepath.engine.run import compute
from carepath.indicators.library import builtin
from carepath.ingest import load_files
from carepath.workspace import derived

KEY = ["indicator_id", "area_type", "area_code", "period", "breakdown", "category"]
BY_SEX = ["usc_conversion_rate", "cancer_incidence_crude", "deaths_usual_residence"]


def _values(ws, ids=None) -> pd.DataFrame:
    with ws.connect(read_only=True) as con:
        frame = con.execute("SELECT * FROM indicator_values").df()
    if ids:
        frame = frame[frame.indicator_id.isin(ids)]
    return frame.drop(columns=["computed_at"]).sort_values(KEY).reset_index(drop=True)


def _copies(ws) -> dict[str, list[str]]:
    with ws.connect(read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
            [derived.PREFIX]).fetchall()]
        return {n[len(derived.PREFIX):]: [r[0] for r in con.execute(
            f'SELECT column_name FROM (DESCRIBE "{n}")').fetchall()] for n in names}


def _orphan_tumour(ws) -> None:
    """A tumour whose person is not in patients: a left join keeps it, with no sex."""
    with ws.transaction() as con:
        con.execute("INSERT INTO tumours VALUES ('t-orphan', 'nobody', 'P1', 'C50', 'breast', "
                    "'1', 'two_week_wait', DATE '2023-06-01', 'T1', DATE '2023-06-11', 70)")


def test_the_copy_gives_the_values_the_join_gives(tmp_path, build_small_ws, monkeypatch):
    library = list(builtin().values())
    with_copy, with_join = build_small_ws(tmp_path / "copy"), build_small_ws(tmp_path / "join")
    for ws in (with_copy, with_join):
        _orphan_tumour(ws)
    compute(with_copy, library)
    monkeypatch.setattr(run, "_person_copies", lambda ws, definitions, force: {})
    compute(with_join, library)
    copies = _copies(with_copy)
    assert {"tumours", "referrals", "deaths"} <= set(copies)
    assert "sex" in copies["tumours"] and "decision_to_treat_date" not in copies["tumours"]
    assert not _copies(with_join)
    pd.testing.assert_frame_equal(_values(with_copy), _values(with_join), check_dtype=False)


def _sex_counts(ws, indicator: str) -> dict[str, float]:
    with ws.connect(read_only=True) as con:
        return dict(con.execute(
            "SELECT category, numerator FROM indicator_values WHERE indicator_id = ? AND "
            "area_type = 'national' AND breakdown = 'sex' AND period = '2023/24'",
            [indicator]).fetchall())


def test_a_copy_is_rebuilt_when_its_tables_change(small_ws):
    defn = builtin()["cancer_incidence_crude"]
    compute(small_ws, [defn])
    before = _sex_counts(small_ws, defn.id)
    with small_ws.transaction() as con:  # a new man with a new cancer
        con.execute("INSERT INTO patients VALUES ('pt-new', 'M', 1950, 'P1', NULL, NULL, 3, "
                    "'white')")
        con.execute("INSERT INTO tumours VALUES ('t-new', 'pt-new', 'P1', 'C34', 'lung', '2', "
                    "'gp_referral', DATE '2023-07-01', 'T1', DATE '2023-07-11', 73)")
    compute(small_ws, [defn], force=True)  # no load was logged: forced
    after = _sex_counts(small_ws, defn.id)
    assert after["M"] == before["M"] + 1 and after["F"] == before["F"]


def test_computing_a_new_column_widens_the_copy(small_ws):
    compute(small_ws, [builtin()["usc_conversion_rate"]])  # referrals by sex
    assert "year_of_birth" not in _copies(small_ws)["referrals"]
    compute(small_ws, [builtin()["usc_referral_isr"]])  # referrals by sex and age
    columns = _copies(small_ws)["referrals"]
    assert {"sex", "year_of_birth", "outcome"} <= set(columns)  # kept what it had


@pytest.mark.parametrize("loaded, dropped", [("patients", {"tumours", "referrals", "deaths"}),
                                             ("deaths", {"deaths"})])
def test_a_load_drops_the_copies_it_feeds_in_its_own_transaction(small_ws, tmp_path, loaded,
                                                                 dropped):
    compute(small_ws, [builtin()[i] for i in BY_SEX])
    assert {"tumours", "referrals", "deaths"} <= set(_copies(small_ws))
    files = {"patients": "nhs_number,sex,year_of_birth,practice_code,registered_from\n"
                         "9434765919,F,1950,P1,2010-01-01\n",
             "deaths": "patient_id,practice_code,date_of_death,place_of_death\n"
                       f"pt0,P1,{date(2023, 11, 1)},home\n"}
    path = tmp_path / f"{loaded}.csv"
    path.write_text(files[loaded])
    result = load_files(small_ws, loaded, [path])[0]
    assert result.rows_loaded == 1
    assert set(_copies(small_ws)) == {"tumours", "referrals", "deaths"} - dropped
    out = compute(small_ws, [builtin()[i] for i in BY_SEX])  # the next compute rebuilds them
    assert {"tumours", "referrals", "deaths"} <= set(_copies(small_ws))
    # New people's sexes change every indicator broken down by sex: none is "unchanged".
    recomputed = {o.indicator_id for o in out if o.status == "computed"}
    assert recomputed == (set(BY_SEX) if loaded == "patients" else {"deaths_usual_residence"})


def test_a_missing_table_fails_only_the_indicators_that_need_it(small_ws):
    with small_ws.transaction() as con:
        con.execute("DROP TABLE deaths")
    out = {o.indicator_id: o for o in compute(small_ws, [builtin()[i] for i in BY_SEX])}
    assert out["deaths_usual_residence"].status == "failed"
    assert "deaths" in out["deaths_usual_residence"].message
    assert out["usc_conversion_rate"].status == "computed"
    assert "deaths" not in _copies(small_ws)


def test_no_copy_is_built_for_indicators_that_are_unchanged(small_ws):
    definitions = [builtin()[i] for i in BY_SEX]
    compute(small_ws, definitions)
    with small_ws.transaction() as con:  # as a workspace from before the copies
        derived.drop_for(con, "patients")
    out = compute(small_ws, definitions)
    assert {o.status for o in out} == {"unchanged"}
    assert not _copies(small_ws)  # nothing to compute, so nothing built
    compute(small_ws, definitions[:1], force=True)
    assert set(_copies(small_ws)) == {"referrals"}  # only what the computed one needs


def test_a_table_dropped_after_a_compute_does_not_leave_its_indicators_unchanged(small_ws):
    definitions = [builtin()[i] for i in BY_SEX]
    compute(small_ws, definitions)
    with small_ws.transaction() as con:  # outside Carepath: no load records it
        con.execute("DROP TABLE deaths")
    out = {o.indicator_id: o for o in compute(small_ws, definitions)}
    assert out["deaths_usual_residence"].status == "failed"
    assert "deaths" in out["deaths_usual_residence"].message
    assert out["usc_conversion_rate"].status == "unchanged"
