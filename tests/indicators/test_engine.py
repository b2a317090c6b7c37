"""The engine on a hand-made workspace: every expected value below is counted by hand from
tests/indicators/conftest.py, then passed through the published method."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from carepath import stats
from carepath.engine.run import compute
from carepath.errors import CarepathError
from carepath.indicators.library import builtin
from carepath.workspace import derived


def values(ws, indicator, breakdown="all"):
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT * FROM indicator_values WHERE indicator_id = ? AND "
                           "breakdown = ? ORDER BY area_code, category",
                           [indicator, breakdown]).df()
    return {(r.area_code, r.category): r for r in rows.itertuples()}


def distinct(ws, column, indicator, breakdown=None):
    """The distinct values of one column of an indicator's values (of one breakdown)."""
    sql = f"SELECT DISTINCT {column} FROM indicator_values WHERE indicator_id = ?"
    params = [indicator]
    if breakdown:
        sql += " AND breakdown = ?"
        params.append(breakdown)
    with ws.connect(read_only=True) as con:
        return {r[0] for r in con.execute(sql, params).fetchall()}


def run(ws, *ids):
    return {o.indicator_id: o for o in compute(ws, [builtin()[i] for i in ids])}


def test_proportion_at_every_level_with_wilson_interval(small_ws):
    run(small_ws, "early_stage_known")
    got = values(small_ws, "early_stage_known")
    # Known-stage stageable cancers in 2023/24 (NMSC and the March 2023 tumour excluded):
    # P1: stages 1, 2, 3 (U dropped) -> 2/3; P2: 4, 1 -> 1/2; P3: 2 -> 1/1.
    expected = {"P1": (2, 3), "P2": (1, 2), "P3": (1, 1), "L1": (3, 5), "L2": (1, 1),
                "I1": (4, 6), "national": (4, 6)}
    for area, (x, n) in expected.items():
        row = got[(area, "all")]
        assert (row.numerator, row.denominator) == (x, n)
        ref = stats.proportion(x, n, multiplier=100)
        assert row.value == pytest.approx(float(ref.value))
        assert row.lower95 == pytest.approx(float(ref.lower))
        ref998 = stats.proportion(x, n, confidence=0.998, multiplier=100)
        assert row.upper998 == pytest.approx(float(ref998.upper))
    assert got[("P1", "all")].parent_code == "L1"
    assert got[("L1", "all")].parent_code == "I1"
    assert got[("P1", "all")].area_name == "Practice P1"


def test_an_area_is_compared_with_the_nearest_parent_larger_than_itself(small_ws):
    """A parent holding the same practices is the same figure, always 'similar': P3 is
    its locality's only practice, so it is compared with the ICB; the ICB holds every
    practice, as national does, so it has no parent to be compared with."""
    run(small_ws, "early_stage_known")
    got = values(small_ws, "early_stage_known")
    assert (got[("P3", "all")].parent_code, got[("P2", "all")].parent_code) == ("I1", "L1")
    icb = got[("I1", "all")]
    assert pd.isna(icb.parent_code) and icb.compared_to_parent == "not_compared"
    assert got[("L1", "all")].compared_to_parent != "not_compared"


def test_parents_pass_over_levels_the_same_size_as_the_area():
    import duckdb
    import pandas as pd

    from carepath.engine.rollup import UNATTRIBUTED, parents

    # One period: practice p1 is PCN N1 and locality A; PCNs N2 and N3 (a practice each)
    # make locality B; all are in ICB I, and a row with no practice counts in national.
    links = {"p1": ["N1", "A", "I"], "p2": ["N2", "B", "I"], "p3": ["N3", "B", "I"]}
    rows = [("y", unit, kind, code) for unit, codes in links.items()
            for kind, code in zip(("pcn", "locality", "icb"), codes, strict=True)]
    rows += [("y", unit, "practice", unit) for unit in links]
    rows += [("y", unit, "national", "national") for unit in [*links, UNATTRIBUTED]]
    amap = pd.DataFrame(rows, columns=["period", "unit", "area_type", "area_code"])
    got = parents(duckdb.connect(), amap).set_index("area_code").parent_code.to_dict()
    assert pd.isna(got.pop("I"))  # as large as national: rows with no practice add none
    assert got == {"p1": "I", "p2": "B", "p3": "B", "N1": "I", "N2": "B", "N3": "B",
                   "A": "I", "B": "I"}


def test_breakdown_categories_sum_to_the_total(small_ws):
    run(small_ws, "early_stage_known")
    by_group = values(small_ws, "early_stage_known", "tumour_group")
    national = [r for (area, _), r in by_group.items() if area == "national"]
    assert {r.category for r in national} == {"breast", "lung"}
    assert sum(r.denominator for r in national) == 6


def test_crude_rate_uses_mean_quarterly_list_and_person_years(small_ws):
    run(small_ws, "usc_referral_rate")
    got = values(small_ws, "usc_referral_rate")
    bands_by_sex = 38
    # P3 lists 20 per band for three quarters and 30 in the last: mean 22.5.
    p3_pop = 22.5 * bands_by_sex
    assert got[("P3", "all")].denominator == pytest.approx(p3_pop)
    # P3 made no referrals: a true zero, published, not missing.
    assert got[("P3", "all")].value == 0 and got[("P3", "all")].value_state == "published"
    # A year is one person-year per person listed, leap day or not: count / population,
    # as Fingertips publishes it, so Value = Count / Denominator x 100,000 in every export.
    ref = stats.rate(4, 100 * bands_by_sex)
    assert got[("P1", "all")].value == pytest.approx(4 / (100 * bands_by_sex) * 100_000)
    assert got[("P1", "all")].value == pytest.approx(float(ref.value))
    assert got[("P1", "all")].upper95 == pytest.approx(float(ref.upper))


def test_indirectly_standardised_ratio_expected_from_workspace_rates(small_ws):
    run(small_ws, "usc_referral_isr")
    got = values(small_ws, "usc_referral_isr")
    total_pop = (100 + 50 + 22.5) * 38
    expected_p1 = 6 * (100 * 38) / total_pop  # uniform age-sex rates in this fixture
    assert got[("P1", "all")].denominator == pytest.approx(expected_p1)
    ref = stats.isratio(4, expected_p1, refvalue=100)
    assert got[("P1", "all")].value == pytest.approx(float(ref.value))
    assert got[("national", "all")].value == pytest.approx(100)


def test_dsr_below_ten_events_is_missing_with_a_reason(small_ws):
    run(small_ws, "cancer_incidence_dsr")
    row = values(small_ws, "cancer_incidence_dsr")[("P1", "all")]
    assert row.value_state == "missing" and "fewer than 10 events" in row.value_note


def test_related_rows_and_exclusions(small_ws):
    run(small_ws, "deaths_usual_residence", "deaths_in_hospital")
    usual = values(small_ws, "deaths_usual_residence")
    # 2023/24 deaths: P1 hospital (C34), P2 home (C34), P3 care home (I21) and hospice.
    assert (usual[("national", "all")].numerator, usual[("national", "all")].denominator) \
        == (2, 4)
    hospital = values(small_ws, "deaths_in_hospital")
    assert hospital[("P1", "all")].value == 100
    assert hospital[("P1", "all")].compared_to_national in ("higher", "similar")


def test_recompute_with_unchanged_inputs_changes_nothing(small_ws):
    first = run(small_ws, "early_stage_known")["early_stage_known"]
    with small_ws.connect(read_only=True) as con:
        before = con.execute("SELECT * FROM indicator_values ORDER BY ALL").fetchall()
    second = run(small_ws, "early_stage_known")["early_stage_known"]
    with small_ws.connect(read_only=True) as con:
        after = con.execute("SELECT * FROM indicator_values ORDER BY ALL").fetchall()
    assert (first.status, second.status) == ("computed", "unchanged")
    assert before == after


def test_provenance_on_every_row(small_ws):
    run(small_ws, "early_stage_known")
    with small_ws.connect(read_only=True) as con:
        rows = con.execute("SELECT DISTINCT definition_hash, load_ids, carepath_version "
                           "FROM indicator_values").fetchall()
    (row,) = rows
    assert row[0] == builtin()["early_stage_known"].content_hash() and row[2] == "0.1.0"
    assert row[1].startswith("load-1;settings:")


@pytest.mark.parametrize("change", ["load organisations", "load org_hierarchy", "add a group",
                                    "name national", "list a partial area"])
def test_new_areas_or_their_settings_recompute_without_force(small_ws, change):
    """Renamed areas, a practice moved, a new group of practices, the national name: each
    shows in the values, so none may leave them 'unchanged'."""
    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "computed"
    table = change.removeprefix("load ")
    if change.startswith("load"):
        with small_ws.transaction() as con:
            con.execute("INSERT INTO load_log VALUES ('load-2', ?, 'f.csv', NULL, 1, 1, 0, "
                        "'test', TIMESTAMP '2024-07-01 00:00:00')", [table])
    else:
        setting = {"add a group": '\n[groups.G1]\nname = "Coastal"\npractices = ["P1"]\n',
                   "name national": 'national_name = "Wessex"\n',
                   "list a partial area": 'partial_areas = ["I1"]\n'}[change]
        text = small_ws.config_path.read_text()
        small_ws.config_path.write_text(text + setting if "group" in change
                                        else setting + text)
    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "computed"
    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "unchanged"


def test_an_indicator_with_nothing_to_count_keeps_no_stale_values(small_ws, tmp_path):
    from carepath.ingest import load_files

    run(small_ws, "early_stage_known")
    empty = tmp_path / "empty.csv"
    empty.write_text("tumour_id,patient_id,practice_code,icd10,tumour_group,stage,route,"
                     "diagnosis_date\n", encoding="utf-8")
    load_files(small_ws, "tumours", [empty], replace=True)
    outcome = run(small_ws, "early_stage_known")["early_stage_known"]
    assert outcome.status == "no_data" and "tumours" in outcome.message
    assert "earlier values removed" in outcome.message
    assert values(small_ws, "early_stage_known") == {}


def test_values_of_deleted_definitions_are_removed_by_a_full_compute(small_ws):
    from carepath.engine.freshness import remove_undefined

    run(small_ws, "early_stage_known", "deaths_in_hospital")
    assert remove_undefined(small_ws, set(builtin()) - {"deaths_in_hospital"}) == [
        "deaths_in_hospital"]
    assert values(small_ws, "deaths_in_hospital") == {}
    assert values(small_ws, "early_stage_known") != {}


def test_a_column_missing_from_the_workspace_is_named_with_its_table(small_ws):
    with small_ws.transaction() as con:
        con.execute("ALTER TABLE referrals DROP COLUMN outcome")
    out = run(small_ws, "usc_conversion_rate", "early_stage_known")
    assert out["usc_conversion_rate"].status == "failed"
    assert out["usc_conversion_rate"].message == (
        "column 'outcome' is not in the workspace's referrals (needed by usc_conversion_rate)")
    assert out["early_stage_known"].status == "computed"


def test_a_failing_indicator_is_reported_and_the_rest_computed(small_ws, monkeypatch):
    from carepath.engine import run as engine_run

    real = engine_run.compute_one

    def broken(ctx, defn):
        if defn.id == "usc_referral_rate":
            raise duckdb.BinderException("Referenced column \"x\" not found")
        return real(ctx, defn)

    monkeypatch.setattr(engine_run, "compute_one", broken)
    out = run(small_ws, "usc_referral_rate", "early_stage_known")
    assert out["usc_referral_rate"].status == "failed"
    assert "not found" in out["usc_referral_rate"].message
    assert out["early_stage_known"].status == "computed"


def test_an_interrupted_compute_leaves_values_as_they_were(small_ws, monkeypatch):
    from carepath.engine import run as engine_run

    run(small_ws, "early_stage_known")
    with small_ws.connect(read_only=True) as con:
        before = con.execute("SELECT count(*) FROM indicator_values").fetchall()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_run, "to_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        compute(small_ws, [builtin()["usc_referral_rate"]])
    with small_ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM indicator_values").fetchall() == before


def test_whole_library_runs_on_the_hand_made_workspace(small_ws):
    outcomes = compute(small_ws, list(builtin().values()))
    assert not [o for o in outcomes if o.status == "failed"]
    with small_ws.connect(read_only=True) as con:
        states = dict(con.execute("SELECT value_state, count(*) FROM indicator_values "
                                  "GROUP BY 1").fetchall())
    assert set(states) <= {"published", "suppressed", "missing"}
    assert states["published"] > 0


def test_user_defined_group_of_practices_is_an_area(small_ws):
    with small_ws.config_path.open("a") as fh:
        fh.write('\n[groups.G1]\nname = "Coastal practices"\npractices = ["P1", "P3"]\n')
    run(small_ws, "early_stage_known")
    group = values(small_ws, "early_stage_known")[("G1", "all")]
    assert group.area_type == "group" and group.area_name == "Coastal practices"
    assert (group.numerator, group.denominator) == (2 + 1, 3 + 1)  # P1 + P3
    assert group.parent_code == "national"


def test_a_group_without_practices_is_rejected_with_where(small_ws):
    from carepath.errors import CarepathError

    with small_ws.config_path.open("a") as fh:
        fh.write('\n[groups.G2]\nname = "Empty"\npractices = []\n')
    with pytest.raises(CarepathError, match="groups.G2"):
        run(small_ws, "early_stage_known")


@pytest.mark.parametrize(("group", "message"), [
    ('[groups.L1]\nname = "Coastal"\npractices = ["P1"]',
     "groups.L1: 'L1' is already the code of 'North'"),
    ('[groups.G3]\nname = "Coastal"\npractices = ["P1", "NOSUCH"]',
     "groups.G3.practices: 'NOSUCH': no such practice"),
])
def test_a_group_must_have_its_own_code_and_real_practices(small_ws, group, message):
    """A group coded as a locality renamed it and took its place as its practices'
    parent (a hunt); a mistyped practice left the group short without a word."""
    from carepath.errors import CarepathError

    with small_ws.config_path.open("a") as fh:
        fh.write(f"\n{group}\n")
    with pytest.raises(CarepathError, match=message):
        run(small_ws, "early_stage_known")


def test_funnel_comparator_uses_the_national_proportion(small_ws):
    defn = builtin()["early_stage_known"].model_copy(update={
        "comparator": builtin()["screening_breast_53_70"].comparator})
    compute(small_ws, [defn])
    got = values(small_ws, "early_stage_known")
    assert got[("national", "all")].compared_to_national == "not_compared"
    for area, (x, n) in {"P1": (2, 3), "P2": (1, 2), "L1": (3, 5)}.items():
        raw = stats.funnel_significance([x], [n], baseline=4 / 6, confidence=0.998)
        assert got[(area, "all")].compared_to_national == \
            stats.with_polarity(raw, "high_is_good")[0]


def test_breakdowns_start_above_practice_level(small_ws):
    run(small_ws, "early_stage_known")
    by_group = values(small_ws, "early_stage_known", "tumour_group")
    types = {r.area_type for r in by_group.values()}
    assert "practice" not in types and {"locality", "national"} <= types


def test_register_prevalence_only_for_periods_with_a_population(small_ws):
    run(small_ws, "cancer_register_prevalence")
    periods = distinct(small_ws, "period", "cancer_register_prevalence")
    # A tumour dated 31 March 2023 falls in 2022/23, but there is no list size before
    # April 2023: that period is not computed rather than shown as missing.
    assert periods == {"2023/24"}


def test_bereaved_carers_rating_counts_only_the_overall_quality_question(small_ws):
    # Three answers each from four carers: only overall_quality is the rating (D14); the
    # other questions, answered less positively, must not be pooled into it.
    answers = {"overall_quality": [True, True, True, False],
               "pain_relief_last_days": [False, False, False, False],
               "right_place": [True, False, False, False]}
    days = [date(2023, 4, 1), date(2023, 9, 1), date(2024, 1, 1), date(2024, 3, 31)]
    rows = [("voices", f"r{i}", "T1", question, None, positive, None, days[i],
             None, None, None, None)
            for question, positives in answers.items() for i, positive in enumerate(positives)]
    with small_ws.transaction() as con:
        con.executemany("INSERT INTO survey_responses VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    run(small_ws, "voices_overall_quality")
    row = values(small_ws, "voices_overall_quality")[("T1", "all")]
    assert (row.numerator, row.denominator) == (3, 4)


def test_the_workspace_total_is_not_called_england_unless_the_workspace_says_so(small_ws):
    # A county's hierarchy names England, but its total is only the county's.
    with small_ws.transaction() as con:
        con.execute("INSERT INTO organisations VALUES ('ENG', 'England', 'england', "
                    "DATE '2015-01-01', NULL, NULL, NULL, NULL)")
    run(small_ws, "early_stage_known")
    national = ("national", "all")
    assert values(small_ws, "early_stage_known")[national].area_name == \
        "All areas in the workspace"
    config = small_ws.config_path.read_text()
    small_ws.config_path.write_text('national_name = "England"\n' + config)
    compute(small_ws, [builtin()["early_stage_known"]], force=True)
    assert values(small_ws, "early_stage_known")[national].area_name == "England"
    small_ws.config_path.write_text('national_name = ""\n' + config)
    with pytest.raises(CarepathError, match="national_name") as info:
        compute(small_ws, [builtin()["early_stage_known"]], force=True)
    assert "carepath.toml" in str(info.value)


def test_an_area_the_workspace_holds_only_part_of_is_named_so(small_ws):
    """A county's region summed over the county's practices alone read as the whole
    region's figure ("Y58 South West" beside the county's total, a user test)."""
    config = small_ws.config_path.read_text()
    small_ws.config_path.write_text('partial_areas = ["I1"]\n' + config)
    run(small_ws, "early_stage_known")
    names = {k: v.area_name for k, v in values(small_ws, "early_stage_known").items()}
    assert names[("I1", "all")] == "Wessex ICB (this workspace's practices only)"
    assert names[("L1", "all")] == "North"  # the areas it holds all of keep their names
    for bad, said in (('["I9"]', "'I9': no such area"), ('"I1"', "must be a list")):
        small_ws.config_path.write_text(f"partial_areas = {bad}\n" + config)
        with pytest.raises(CarepathError, match="partial_areas") as info:
            compute(small_ws, [builtin()["early_stage_known"]], force=True)
        assert said in str(info.value) and "carepath.toml" in str(info.value)


def test_no_data_says_why_when_no_period_has_its_follow_up(small_ws):
    """One-year survival on a year of data: it said 'no rows in tumours', and there are."""
    outcome = run(small_ws, "one_year_survival")["one_year_survival"]
    assert outcome.status == "no_data"
    assert "365 days before the latest tumours.diagnosis_date" in outcome.message


def test_age_bands_use_the_age_the_source_recorded(small_ws):
    """A registry's age at diagnosis and a death's age at death band a row, not the year
    of birth (which gives the age reached that calendar year, often a year too old); a row
    without a recorded age falls back to the year of birth."""
    with small_ws.transaction() as con:  # all born 1950; t0 diagnosed May 2023 aged 69
        con.execute("UPDATE tumours SET age_at_diagnosis = 69 WHERE tumour_id = 't0'")
        con.execute("UPDATE tumours SET age_at_diagnosis = NULL WHERE tumour_id = 't1'")
        con.execute("UPDATE deaths SET age_at_death = 64 WHERE patient_id = 'pt2'")
    run(small_ws, "cancer_incidence_crude", "deaths_usual_residence")
    incidence = values(small_ws, "cancer_incidence_crude", "age_band")
    assert incidence[("national", "65-69")].numerator == 1  # t0, as recorded
    assert incidence[("national", "70-74")].numerator == 6  # t1 by 2023 - 1950, and five more
    deaths = values(small_ws, "deaths_usual_residence", "age_band")
    assert deaths[("national", "60-64")].denominator == 1


@pytest.mark.parametrize("indicator, statistic", [("usc_referral_isr", "isr"),
                                                  ("cancer_incidence_crude", "crude_rate")])
def test_rates_over_a_quarter_are_per_year_like_the_annual_rate(small_ws, indicator,
                                                                 statistic):
    """The four quarters' rates average to the year's (equal lists in P1): each quarter is
    a quarter of a person-year per person listed, for standardised rates as for crude."""
    annual = builtin()[indicator].model_copy(update={"statistic": statistic})
    quarterly = annual.model_copy(update={"id": f"{indicator}_q", "period": "quarter"})
    with small_ws.transaction() as con:  # a tumour in October-December too (else a gap)
        con.execute("INSERT INTO tumours SELECT * REPLACE ('t99' AS tumour_id, DATE "
                    "'2023-11-01' AS diagnosis_date) FROM tumours WHERE tumour_id = 't1'")
    compute(small_ws, [annual, quarterly])
    year = values(small_ws, indicator)[("national", "all")]
    with small_ws.connect(read_only=True) as con:
        quarters = list(con.execute(
            "SELECT * FROM indicator_values WHERE indicator_id = ? AND breakdown = 'all' AND "
            "area_code = 'national' ORDER BY period", [f"{indicator}_q"]).df().itertuples())
    assert len(quarters) == 4
    assert sum(r.numerator for r in quarters) == year.numerator
    mean = sum(r.value for r in quarters) / 4
    if indicator == "usc_referral_isr":  # weights differ by quarter: near, not equal
        assert year.value / 2 < mean < year.value * 2  # per quarter would be a quarter
    else:
        assert mean == pytest.approx(year.value, rel=0.05)


def test_a_dsr_over_a_quarter_is_per_year():
    """Too few tumours in the small workspace for a DSR (under 10 is not published), so
    the same age-band counts are standardised as a year and as a quarter."""
    import numpy as np
    import pandas as pd

    from carepath.engine import rollup
    from carepath.model.codes import AGE_BANDS

    x = np.full(len(AGE_BANDS), 3.0)
    n = np.full(len(AGE_BANDS), 1000.0)
    cells = pd.DataFrame({"num": [x.sum()] * 2, "den": [n.sum()] * 2,
                          "num_bands": [x, x], "den_bands": [n, n]})
    defn = builtin()["cancer_incidence_dsr"]
    out, method, ok = rollup._standardised(defn, cells, 0.95, np.array([1.0, 0.25]))
    assert ok.all() and method
    assert out[0, 1] == pytest.approx(4 * out[0, 0])  # value
    assert out[2, 1] == pytest.approx(4 * out[2, 0])  # upper limit
    assert out[0, 0] == pytest.approx(300.0)  # 3 per 1,000 in every band, per 100,000


def test_values_from_an_earlier_engine_revision_are_recomputed(small_ws, monkeypatch):
    from carepath.engine import freshness

    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "computed"
    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "unchanged"
    monkeypatch.setattr(freshness, "ENGINE_REVISION", "a later one")
    assert run(small_ws, "early_stage_known")["early_stage_known"].status == "computed"


def test_ctrl_c_during_carepath_compute_exits_130_and_says_so(small_ws, monkeypatch, capsys):
    """A script running `carepath compute && carepath export --public` must not publish
    after an interrupted compute: typer returned the interruption as a code, and the
    command exited 0 in silence."""
    from carepath.cli import main
    from carepath.engine import run as engine_run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_run, "to_rows", interrupted)
    with pytest.raises(SystemExit) as info:
        main(["compute", "-w", str(small_ws.path), "-i", "usc_referral_rate"])
    assert info.value.code == 130
    assert "interrupted" in capsys.readouterr().err


def test_a_dsr_for_some_ages_is_standardised_to_those_ages():
    """Ages 40-79 at 3 per 1,000 in every band is 300 per 100,000 standardised to those
    ages; divided by the whole ESP2013 it was 144. Events outside the ages are not dropped
    unseen: the value is missing, saying why."""
    import numpy as np
    import pandas as pd

    from carepath.engine import rollup
    from carepath.indicators.definition import Population
    from carepath.model.codes import AGE_BANDS

    defn = builtin()["cancer_incidence_dsr"].model_copy(update={
        "denominator": Population(population="registered", min_age=40, max_age=79)})
    inside = np.array([3.0 if 8 <= b <= 15 else 0.0 for b in range(len(AGE_BANDS))])
    stray = inside.copy()
    stray[2] = 1.0  # one event at 10-14
    n = np.array([1000.0 if 8 <= b <= 15 else 0.0 for b in range(len(AGE_BANDS))])
    cells = pd.DataFrame({"num": [inside.sum(), stray.sum()], "den": [n.sum()] * 2,
                          "num_bands": [inside, stray], "den_bands": [n, n]})
    out, _, ok = rollup._standardised(defn, cells, 0.95, np.ones(2))
    assert out[0, 0] == pytest.approx(300.0) and not ok[1]
    assert rollup.events_outside_ages(defn, cells).tolist() == [False, True]


@pytest.mark.parametrize("ages, message", [
    ({"min_age": 52}, "min_age 52 is not the start of a five-year band"),
    ({"max_age": 75}, "max_age 75 is not the end of a five-year band"),
    ({"max_age": 94}, "max_age 94 is not the end"),
])
def test_population_ages_must_be_whole_bands(ages, message):
    from pydantic import ValidationError as PydanticError

    from carepath.indicators.definition import Population

    with pytest.raises(PydanticError, match=message):
        Population(population="registered", **ages)
    assert Population(population="registered", min_age=90).band_range() == range(18, 19)
    assert Population(population="registered", min_age=40, max_age=79).band_range() == \
        range(8, 16)


def test_a_filter_with_hundreds_of_ors_computes(small_ws):
    """It passed check, then overflowed Python's stack in compute, failing every indicator."""
    d = builtin()["early_stage_known"]
    terms = " or ".join(f"icd10 = 'C{i:03d}'" for i in range(250)) + " or icd10 = 'C50'"
    num = d.numerator.model_copy(update={"where": f"({terms}) and stage in ('1', '2')"})
    den = d.denominator.model_copy(update={"where": f"({terms}) and stage in ('1', '2', '3', "
                                                    "'4')"})
    [out] = compute(small_ws, [d.model_copy(update={"id": "long_or", "numerator": num,
                                                    "denominator": den})])
    assert out.status == "computed"
    # Breast cancers only (C50): P1 1/1, P2 1/1, P3 1/1 at stages 1-2.
    assert values(small_ws, "long_or")[("national", "all")].numerator == 3


def test_rows_with_an_empty_breakdown_column_are_their_own_named_category(small_ws):
    with small_ws.transaction() as con:  # pt0 (P1, breast, stage 1) has no recorded IMD
        con.execute("UPDATE patients SET imd_quintile = NULL WHERE patient_id = 'pt0'")
    run(small_ws, "early_stage_known")
    by_imd = values(small_ws, "early_stage_known", "imd_quintile")
    assert (by_imd[("national", "Not recorded")].numerator,
            by_imd[("national", "Not recorded")].denominator) == (1, 1)
    assert by_imd[("national", "3")].denominator == 5  # the other six, less the NMSC one


def test_an_interrupted_whole_library_compute_keeps_deleted_definitions_values(
        small_ws, monkeypatch, capsys):
    """They are removed once the compute has finished, not before it starts."""
    from carepath.cli import main
    from carepath.engine import run as engine_run

    run(small_ws, "early_stage_known")
    with small_ws.transaction() as con:  # values of a definition since deleted
        con.execute("INSERT INTO indicator_values SELECT * REPLACE ('gone' AS indicator_id) "
                    "FROM indicator_values WHERE indicator_id = 'early_stage_known'")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_run, "to_rows", interrupted)
    with pytest.raises(SystemExit):
        main(["compute", "-w", str(small_ws.path), "--force"])
    with small_ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM indicator_values WHERE indicator_id = 'gone'"
                           ).fetchone()[0] > 0


def test_rows_with_no_provider_count_in_national_and_in_no_provider(small_ws):
    """1 of the 6 referrals has no first-seen provider: national counts all six, the trust
    five, and no area is made up for the one without (it vanished from national)."""
    with small_ws.transaction() as con:
        con.execute("UPDATE referrals SET faster_diagnosis_date = first_seen_date")
        con.execute("UPDATE referrals SET first_seen_provider = NULL WHERE referral_id = 'r0'")
    run(small_ws, "fds_28_day_provider")
    got = values(small_ws, "fds_28_day_provider")
    assert got[("national", "all")].denominator == 6
    assert got[("T1", "all")].denominator == 5
    assert {area for area, _ in got} == {"national", "T1"}


def test_register_prevalence_divides_by_the_list_at_the_periods_end(small_ws):
    run(small_ws, "cancer_register_prevalence")
    got = values(small_ws, "cancer_register_prevalence")
    # P3 at 31 March 2024: one living person after cancer (pt8; pt6 has died, pt7's skin
    # cancer is not counted) over the last quarter's list, 30 per band, not the mean (22.5).
    assert got[("P3", "all")].numerator == 1
    assert got[("P3", "all")].denominator == 30 * 38


def test_on_the_register_before_death_means_still_on_it_at_death(small_ws):
    with small_ws.transaction() as con:
        con.executemany("INSERT INTO eol_register VALUES (?, ?, ?, ?)", [
            ("pt2", "P1", date(2023, 6, 1), date(2023, 9, 1)),  # removed before death
            ("pt4", "P2", date(2023, 10, 1), date(2024, 2, 1)),  # ended on the day of death
            ("pt7", "P3", date(2023, 5, 1), None)])
    run(small_ws, "eol_register_before_death")
    got = values(small_ws, "eol_register_before_death")
    national = got[("national", "all")]
    assert (national.numerator, national.denominator) == (2, 4)
    assert got[("P1", "all")].numerator == 0


def test_a_broken_workspace_definition_fails_alone(small_ws, capsys):
    """A workspace file with a mistake stopped every compute, `-i` of others included.
    It is now reported as failed by itself; the built-in definition it overrides is not
    computed in its place, and its earlier values are kept (out of date), not deleted."""
    from carepath.cli import main

    run(small_ws, "early_stage_known")
    folder = small_ws.path / "indicators"
    folder.mkdir(exist_ok=True)
    (folder / "early_stage_known.yaml").write_text("id: early_stage_known\nversion: [\n")
    main(["compute", "-w", str(small_ws.path), "-i", "usc_referral_rate"])
    out = capsys.readouterr().out
    assert "1 computed" in out and "1 other workspace definition(s) have problems" in out
    before = len(values(small_ws, "early_stage_known"))
    with pytest.raises(SystemExit) as info:
        main(["compute", "-w", str(small_ws.path)])
    assert info.value.code != 0
    out = " ".join(capsys.readouterr().out.split())
    assert "failed early_stage_known" in out and "not valid YAML" in out
    assert "earlier values are kept as they were, out of date" in out
    assert "computed early_stage_all" in out
    assert len(values(small_ws, "early_stage_known")) == before
    with pytest.raises(SystemExit):
        main(["compute", "-w", str(small_ws.path), "-i", "early_stage_known"])
    capsys.readouterr()
    main(["indicators", "show", "usc_referral_rate", "-w", str(small_ws.path)])  # not stopped
    shown = capsys.readouterr()
    assert "usc_referral_rate" in shown.out and "left out: early_stage_known" in shown.err


def test_bed_days_carry_the_interval_of_a_sum_over_admissions(small_ws):
    """Bed days per death had Byar's limits on the days, as if each day were an event."""
    d = date
    with small_ws.transaction() as con:
        con.executemany("INSERT INTO admissions VALUES (?, ?, 'T1', ?, ?, NULL, ?, NULL)", [
            ("a1", "pt2", "emergency", d(2023, 11, 1), 10),
            ("a2", "pt2", "emergency", d(2023, 11, 20), 5),
            ("a3", "pt2", "emergency", d(2023, 8, 1), 7),  # more than 90 days before death
            ("a4", "pt4", "emergency", d(2024, 1, 20), 20),
            ("a5", "pt4", "elective", d(2024, 1, 25), 3),
            ("a6", "pt0", "elective", d(2024, 4, 5), 1)])  # the data cover the year
    run(small_ws, "emergency_bed_days_last_90_days")
    got = values(small_ws, "emergency_bed_days_last_90_days")[("national", "all")]
    expected = stats.weighted_rate(35, 10**2 + 5**2 + 20**2, 3, 4)
    assert (got.numerator, got.denominator) == (35, 4)
    assert (got.value, got.lower95, got.upper95) == pytest.approx(
        (float(expected.value), float(expected.lower), float(expected.upper)))
    assert got.method == expected.method
    assert got.upper95 - got.lower95 > float(stats.rate(35, 4, multiplier=1).upper
                                             - stats.rate(35, 4, multiplier=1).lower)


def test_an_area_renamed_takes_its_latest_name(small_ws):
    """Two published maps name an area twice (a CCG in 2016, the sub-ICB of the same code
    in 2026): the values took either name at random."""
    with small_ws.transaction() as con:
        con.execute("INSERT INTO organisations VALUES ('L1', 'North (2020 name)', 'locality', "
                    "DATE '2020-01-01', NULL, NULL, NULL, NULL)")
        con.execute("INSERT INTO organisations VALUES ('L1', 'North (2010 name)', 'locality', "
                    "DATE '2010-01-01', NULL, NULL, NULL, NULL)")
    run(small_ws, "early_stage_known")
    assert values(small_ws, "early_stage_known")[("L1", "all")].area_name == "North (2020 name)"


def test_a_query_failing_inside_duckdb_is_reported_and_remembered(small_ws):
    """A failure raised by DuckDB itself (not a mocked one) while computing one indicator
    aborted the writing transaction: recording it raised a traceback instead."""
    from carepath.engine.freshness import last_failures

    with small_ws.transaction() as con:
        con.execute("ALTER TABLE admissions ALTER bed_days TYPE VARCHAR")
        con.execute("INSERT INTO admissions VALUES ('a1', 'pt2', 'T1', 'emergency', "
                    "DATE '2023-11-01', NULL, 'n/a', NULL), ('a2', 'pt0', 'T1', 'elective', "
                    "DATE '2024-04-05', NULL, '1', NULL)")  # the data cover the year
    for _ in range(2):  # and again: the retry of a failed indicator runs it alone
        out = run(small_ws, "emergency_bed_days_last_90_days")["emergency_bed_days_last_90_days"]
        assert out.status == "failed" and "bed_days" in out.message
        assert "n/a" not in out.message  # a cell of the data is not quoted: it is stored
        assert "string '…'" in out.message
    with small_ws.connect(read_only=True) as con:
        assert "emergency_bed_days_last_90_days" in last_failures(con)


def test_admissions_dated_by_death_stop_where_the_admissions_data_stop(small_ws):
    """Hospital data often lag deaths: with admissions to December only, the year to March
    was published from its deaths and part of their admissions, reading low."""
    def admit(admission_id, when):
        with small_ws.transaction() as con:
            con.execute("INSERT INTO admissions VALUES (?, 'pt4', 'T1', 'emergency', ?, NULL, "
                        "3, NULL)", [admission_id, when])
            con.execute("INSERT INTO load_log VALUES (?, 'admissions', 'hand', NULL, 1, 1, 0, "
                        "'test', TIMESTAMP '2024-06-01 00:00:00')", [f"load-{admission_id}"])

    admit("a1", date(2023, 12, 20))  # the admissions data end in December 2023
    out = run(small_ws, "emergency_admissions_last_90_days")
    assert out["emergency_admissions_last_90_days"].status == "no_data"
    admit("a2", date(2024, 4, 2))  # now they cover the year to March 2024
    run(small_ws, "emergency_admissions_last_90_days")
    got = values(small_ws, "emergency_admissions_last_90_days")[("national", "all")]
    assert (got.period, got.numerator) == ("2023/24", 1)  # pt4's December admission


@pytest.mark.parametrize(("message", "shown"), [
    ("Could not convert string 'Mr O'Neil 9434765919' to DOUBLE",
     "Could not convert string '…' to DOUBLE"),
    ('Could not convert string \'see "GP" 9434765919\' to DOUBLE in "bed_days"',
     'Could not convert string \'…\' to DOUBLE in "bed_days"'),
    ("Could not convert string 'first line of a cell", "Could not convert string '…'"),
    ("Type INT64 with value 9434765919 can't be cast", "Type INT64 with value … can't be cast"),
])
def test_values_holding_quotes_or_line_breaks_are_hidden_whole(message, shown):
    """Found by a code review: a value with a quote in it showed its end (and an NHS
    number), an unquoted number was shown as it was."""
    from carepath.engine.freshness import without_values

    assert without_values(message) == shown


def test_engine_messages_keep_names_and_hide_values():
    from carepath.engine.freshness import without_values

    message = ('Conversion Error: Could not convert string \'9434765919\' to INT32 in column '
               '"bed_days" of "admissions"; date "31/02/2024"')
    hidden = without_values(message)
    assert "9434765919" not in hidden and "31/02/2024" not in hidden
    assert '"bed_days"' in hidden and '"admissions"' in hidden


@pytest.mark.parametrize(("indicator", "table", "role"), [
    ("one_year_survival", "deaths", "leaves out rows with a matching row in it"),
    ("hna_within_31_days", "care_events", "requires a matching row in it"),
    ("early_stage_known", "tumours", "counts rows of it"),
])
def test_a_table_the_counts_read_with_no_rows_gives_no_values(small_ws, indicator, table,
                                                              role):
    """With deaths not loaded, one-year survival read 100% and HNA offered 0%, published
    as if measured (found by a user test): an empty table is not 'none happened'."""
    with small_ws.transaction() as con:
        con.execute(f"DELETE FROM {table}")
    outcome = run(small_ws, indicator)[indicator]
    assert outcome.status == "no_data"
    assert outcome.message.startswith(f"{table} has no rows, and its numerator {role}")
    assert values(small_ws, indicator) == {}


def test_patients_with_no_rows_leaves_breakdowns_not_recorded(small_ws):
    """patients only lends columns (sex, deprivation ...): without it the values stand and
    its breakdowns read 'Not recorded'."""
    with small_ws.transaction() as con:
        con.execute("DELETE FROM patients")
    out = run(small_ws, "early_stage_known")["early_stage_known"]
    assert out.status == "computed" and "patients has no rows" in out.message
    assert distinct(small_ws, "category", "early_stage_known", "imd_quintile") == \
        {"Not recorded"}


def test_a_definition_changed_under_the_same_version_is_warned_of(small_ws):
    """A changed filter kept its version, so two sets of figures went by one version
    (found by a user test)."""
    original = builtin()["early_stage_known"]
    changed_words = "the definition changed its figures"
    assert changed_words not in run(small_ws, "early_stage_known")["early_stage_known"].message
    counts_otherwise = (f"the definition counts otherwise than version {original.version!r}"
                        " did when first computed")
    changed = original.model_copy(update={"breakdowns": ("sex",)})
    (out,) = compute(small_ws, [changed])
    assert out.status == "computed"
    assert counts_otherwise in out.message and f"its version is still {original.version!r}" \
        in out.message
    assert changed_words not in out.message  # said once
    (out,) = compute(small_ws, [changed.model_copy(update={"version": "99"})])
    assert out.status == "computed" and "version is still" not in out.message
    # A change of words leaves the figures, and says nothing (found by a code review).
    reworded = changed.model_copy(update={"version": "99", "title": "Early stage, reworded"})
    (out,) = compute(small_ws, [reworded])
    assert out.status == "computed" and "version is still" not in out.message
    # A change of disclosure under the same version changes figures, not counting.
    stricter = reworded.model_copy(update={"disclosure": reworded.disclosure.model_copy(
        update={"min_denominator": 50})})
    (out,) = compute(small_ws, [stricter])
    assert changed_words in out.message


def test_a_counting_change_under_the_same_version_is_warned_of_after_new_data_too(small_ws):
    """Compared figure by figure, a changed definition went unremarked when data had been
    loaded since: the figures differed anyway (a review). The counting is recorded per
    version."""
    original = builtin()["early_stage_known"]
    run(small_ws, "early_stage_known")
    with small_ws.transaction() as con:  # new data: a load changes the values' provenance
        con.execute("DELETE FROM tumours WHERE tumour_id = (SELECT min(tumour_id) FROM "
                    "tumours)")
        con.execute("INSERT INTO load_log VALUES ('load-9', 'tumours', 'more', NULL, 1, 1, 0, "
                    "'t', now())")
    narrower = original.model_copy(update={"numerator": original.numerator.model_copy(
        update={"where": original.numerator.where.replace("('1', '2')", "('1')")})})
    (out,) = compute(small_ws, [narrower])
    assert out.status == "computed"
    assert f"counts otherwise than version {original.version!r} did" in out.message
    (out,) = compute(small_ws, [original])  # back as it was first computed: nothing to say
    assert "version is still" not in out.message


def test_a_numerator_not_within_its_denominator_is_warned_of(small_ws):
    """Numerator stage 1, 2 or U over a denominator of stage 3 or 4 computed without a word,
    its cells missing 'check the data' (found by a user test)."""
    from carepath.engine.states import NUMERATOR_EXCEEDS

    defn = builtin()["early_stage_known"]
    wrong = defn.model_copy(update={
        "numerator": defn.numerator.model_copy(update={"where": "stage in ('1', '2', 'U')"}),
        "denominator": defn.denominator.model_copy(update={"where": "stage in ('3', '4')"})})
    (out,) = compute(small_ws, [wrong])
    assert out.status == "computed"
    assert "values missing as their numerator exceeds their denominator" in out.message
    assert NUMERATOR_EXCEEDS in distinct(small_ws, "value_note", "early_stage_known")


def test_rows_with_no_practice_are_said_to_count_in_national_only(small_ws):
    """A provider indicator over an empty diagnosing_trust gave national values only, with
    no word why (found by a user test)."""
    with small_ws.transaction() as con:
        con.execute("UPDATE tumours SET practice_code = NULL WHERE diagnosis_date = "
                    "DATE '2024-02-01'")  # P3's stage 2 breast cancer
    (out,) = compute(small_ws, [builtin()["early_stage_known"]])
    assert "have no practice_code and count in national only" in out.message


def test_a_standardised_rate_without_people_gives_no_values(small_ws):
    """With patients empty, the ISR was missing everywhere and the DSR's sex categories
    said 'fewer than 10 events' (found by a code review): its strata come from patients."""
    with small_ws.transaction() as con:
        con.execute("DELETE FROM patients")
    out = run(small_ws, "usc_referral_isr")["usc_referral_isr"]
    assert out.status == "no_data"
    assert out.message.startswith("patients has no rows, and its rates are standardised")


def _screening(ws, rows):
    with ws.transaction() as con:
        con.executemany("INSERT INTO screening VALUES (?, ?, ?, ?, ?, ?)", rows)


def test_a_snapshot_is_the_latest_of_its_own_programme(small_ws):
    """Bowel measured at December, breast at March: the year's latest date (March) left
    bowel no values at all (an engine hunt)."""
    dec, mar = date(2023, 12, 31), date(2024, 3, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", date(2023, 9, 30), 100, 50, False),
        ("P1", "bowel_60_74", dec, 100, 65, False),
        ("P2", "bowel_60_74", dec, 40, 20, False),
        ("P1", "breast_53_70", mar, 80, 60, False),
    ])
    run(small_ws, "screening_bowel_60_74", "screening_breast_53_70")
    bowel = values(small_ws, "screening_bowel_60_74")
    assert (bowel[("P1", "all")].numerator, bowel[("P1", "all")].denominator) == (65, 100)
    assert (bowel[("national", "all")].numerator, bowel[("national", "all")].denominator) \
        == (85, 140)
    breast = values(small_ws, "screening_breast_53_70")
    assert (breast[("P1", "all")].numerator, breast[("P1", "all")].denominator) == (60, 80)


def test_a_period_is_computed_only_as_far_as_every_table_read_goes(small_ws):
    """Deaths loaded only to January read as 'nobody died' after it: one-year survival
    published 80% for 67% (an engine hunt). A table a count requires or excludes rows
    of must reach the period's end too."""
    from carepath.indicators.definition import Related

    base = builtin()["early_stage_known"]
    defn = base.model_copy(update={"numerator": base.numerator.model_copy(update={
        "exclude": (Related(table="deaths", on="patient_id"),)})})
    assert compute(small_ws, [defn])[0].status == "computed"  # deaths reach March 2024
    with small_ws.transaction() as con:
        con.execute("DELETE FROM deaths WHERE date_of_death > DATE '2024-01-31'")
    [outcome] = compute(small_ws, [defn], force=True)
    assert outcome.status == "no_data"
    assert "in the deaths data (to 2023-12-01)" in outcome.message


def test_a_period_with_no_rows_at_all_is_a_gap_not_a_zero(small_ws):
    """A year missing from the tumours published 0 per 100,000 with intervals for every
    area (an engine hunt): a period in which the numerator's table has no rows gets no
    values, and the compute says why."""
    with small_ws.transaction() as con:  # tumours in 2022/23 and 2024/25, none in between
        con.execute("UPDATE tumours SET diagnosis_date = diagnosis_date - INTERVAL 1 YEAR "
                    "WHERE diagnosis_date < DATE '2023-10-01'")
        con.execute("UPDATE tumours SET diagnosis_date = diagnosis_date + INTERVAL 1 YEAR "
                    "WHERE diagnosis_date >= DATE '2023-10-01'")
        con.execute("INSERT INTO registered_population SELECT practice_code, quarter_start "
                    "+ INTERVAL (k) YEAR, sex, age_band, population FROM registered_population, "
                    "(VALUES (-1), (1)) AS y(k)")
    [outcome] = run(small_ws, "cancer_incidence_crude").values()
    assert outcome.status == "computed"
    assert "no rows of tumours.diagnosis_date in 2023/24: a gap" in outcome.message
    assert distinct(small_ws, "period", "cancer_incidence_crude") == {"2022/23", "2024/25"}


def _practice_without_lists(ws, tumours: int):
    """P4 in L1 and I1, with ``tumours`` tumours in 2023/24 and no registered population."""
    with ws.transaction() as con:
        con.execute("INSERT INTO organisations VALUES ('P4', 'Practice P4', 'practice', "
                    "DATE '2015-01-01', NULL, NULL, NULL, NULL)")
        con.execute("INSERT INTO org_hierarchy VALUES ('P4', 'L1', 'locality', DATE "
                    "'2015-01-01', NULL), ('P4', 'I1', 'icb', DATE '2015-01-01', NULL)")
        for i in range(tumours):
            con.execute("INSERT INTO tumours SELECT * REPLACE (? AS tumour_id, 'P4' AS "
                        "practice_code) FROM tumours WHERE tumour_id = 't1'", [f"p4t{i}"])
        derived.drop_for(con, "tumours")  # as a load does


@pytest.mark.parametrize("indicator", ["cancer_incidence_crude", "usc_referral_rate",
                                       "cancer_incidence_dsr"])
def test_events_at_a_practice_with_no_lists_count_in_no_area(small_ws, indicator):
    """A practice whose lists were not loaded put its events over no population: its
    PCN's rate doubled (an engine hunt). Its own value is missing; the areas above it
    count neither its events nor its people; the compute says so."""
    run(small_ws, indicator)
    before = values(small_ws, indicator)
    _practice_without_lists(small_ws, 12)
    [outcome] = compute(small_ws, [builtin()[indicator]], force=True)
    after = values(small_ws, indicator)
    for area in ("L1", "I1", "national"):
        assert (after[(area, "all")].numerator, after[(area, "all")].denominator) == \
            (before[(area, "all")].numerator, before[(area, "all")].denominator)
    if indicator != "usc_referral_rate":  # P4 has tumours, not referrals
        own = after[("P4", "all")]
        assert own.value_state == "missing" and own.numerator == 12
        assert own.value_note.startswith("no registered population")
        assert "12 counted at 1 practice with no registered population (2023/24)" in \
            outcome.message


def test_a_practice_listed_for_half_a_year_counts_half_a_year_of_people(small_ws):
    """A practice closing at the half year was counted as listed all year (the mean of
    its own quarters): its person-years doubled and its rate halved (an engine hunt)."""
    with small_ws.transaction() as con:
        con.execute("DELETE FROM registered_population WHERE practice_code = 'P2' AND "
                    "quarter_start >= DATE '2023-10-01'")
    run(small_ws, "cancer_incidence_crude")
    got = values(small_ws, "cancer_incidence_crude")
    assert got[("P2", "all")].denominator == pytest.approx(1900 * 2 / 4)
    assert got[("P1", "all")].denominator == pytest.approx(3800)
    assert got[("national", "all")].denominator == pytest.approx(3800 + 950 + 855)


def test_a_quarter_missing_between_a_practices_lists_is_not_a_closure(small_ws):
    """A practice open all year whose July list was not loaded counted three quarters of
    people over a year's events, a third more on its rate, without a word: a quarter
    missing between two of its lists takes the mean of its other quarters, and the
    compute names the practice and the quarter."""
    with small_ws.transaction() as con:
        con.execute("DELETE FROM registered_population WHERE practice_code = 'P2' AND "
                    "quarter_start = DATE '2023-07-01'")
    outcome = run(small_ws, "cancer_incidence_crude")["cancer_incidence_crude"]
    got = values(small_ws, "cancer_incidence_crude")
    assert got[("P2", "all")].denominator == pytest.approx(1900)
    assert got[("national", "all")].denominator == pytest.approx(3800 + 1900 + 855)
    assert ("1 practice (P2) has no registered population list for a quarter between two "
            "of its lists (2023-07-01)") in outcome.message
    by_sex = values(small_ws, "cancer_incidence_crude", "sex")
    assert sum(r.denominator for (area, _), r in by_sex.items() if area == "national") \
        == pytest.approx(3800 + 1900 + 855)


def test_a_practice_closing_in_a_period_still_counts_in_its_areas(small_ws):
    """The hierarchy at the period's end left a practice closed in October with no PCN,
    locality or ICB: its events counted in national only (an engine hunt). A level with
    no link at the end takes the last link within the period."""
    with small_ws.transaction() as con:
        con.execute("UPDATE org_hierarchy SET valid_to = DATE '2023-10-31' "
                    "WHERE child_code = 'P2'")
    run(small_ws, "early_stage_known")
    got = values(small_ws, "early_stage_known")
    assert (got[("L1", "all")].numerator, got[("L1", "all")].denominator) == (3, 5)
    assert (got[("I1", "all")].numerator, got[("I1", "all")].denominator) == (4, 6)


def test_a_practice_the_publisher_suppressed_is_suppressed_not_missing(small_ws):
    """A suppressed screening row vanished: the practice had no value and its areas left
    it out without a word (an audit); a blank flag beside real counts dropped every row
    (a hunt). Suppressed, missing and zero stay three states."""
    dec = date(2023, 12, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", date(2023, 9, 30), 100, 50, False),  # earlier: not the snapshot
        ("P1", "bowel_60_74", dec, None, None, True),
        ("P2", "bowel_60_74", dec, 40, 20, False),
        ("P3", "bowel_60_74", dec, 30, 15, None),  # no flag: its counts stand
        ("P1", "breast_53_70", date(2024, 3, 31), 80, 60, False),  # the data reach March
    ])
    [outcome] = run(small_ws, "screening_bowel_60_74").values()
    assert outcome.status == "computed"
    got = values(small_ws, "screening_bowel_60_74")
    p1 = got[("P1", "all")]
    assert (p1.value_state, p1.value_note) == ("suppressed", "suppressed by the publisher")
    assert pd.isna(p1.value) and pd.isna(p1.numerator)  # unknown, not a count of 0
    assert (got[("P3", "all")].numerator, got[("P3", "all")].denominator) == (15, 30)
    national = got[("national", "all")]
    assert (national.numerator, national.denominator) == (35, 70)
    assert national.value_note == "leaves out 1 practice whose figures the publisher " \
        "suppressed"
    assert pd.isna(got[("L2", "all")].value_note)  # P3 only: nothing left out


def test_suppressed_at_source_is_checked_like_a_filter():
    from carepath.errors import ValidationError
    from carepath.indicators.definition import from_mapping

    data = builtin()["screening_bowel_60_74"].model_dump(mode="json", exclude_none=True)
    crude = builtin()["cancer_incidence_crude"].model_dump(mode="json", exclude_none=True)
    emergency = builtin()["emergency_presentation_pct"].model_dump(mode="json",
                                                                  exclude_none=True)
    for given, message in [
            ({**data, "suppressed_at_source": "suppresed"}, "'suppresed' is not one"),
            ({**data, "suppressed_at_source": "eligible"}, "'eligible' is not one"),
            ({**crude, "suppressed_at_source": "route"}, "the denominator is not rows"),
            ({**emergency, "suppressed_at_source": "route"}, "with breakdowns"),
            ({**data, "suppressed_at_source": "suppressed", "attribution": "provider",
              "attribution_column": "practice_code"}, "practice-attributed")]:
        with pytest.raises(ValidationError, match=message):
            from_mapping(given, source="x.yaml")


def test_a_dsr_says_how_many_it_counted_without_an_age():
    """Events with no recorded age are in the numerator shown but not in the standardised
    rate, which said nothing of them (a hunt)."""
    import numpy as np

    from carepath.engine import states
    from carepath.model.codes import AGE_BANDS

    bands = np.full(len(AGE_BANDS), 3.0)
    cells = pd.DataFrame({"num": [bands.sum() + 2, bands.sum(), bands.sum() + 1],
                          "num_bands": [bands, bands, bands]})
    state = np.array(["published", "published", "suppressed"])
    note = states._unaged_note(cells, state, np.array([None] * 3, dtype=object))
    assert list(note) == ["2 counted with no recorded age: not in the standardised rate",
                          None, None]


def test_a_recent_trend_needs_its_last_periods_published():
    """A series whose latest value was suppressed took a trend on the period before,
    bridging the suppressed one (a hunt): no trend is put where its latest is hidden."""
    from carepath.engine import rollup
    from carepath.stats.trend import TREND_POINTS

    periods = TREND_POINTS + 1
    cells = pd.DataFrame({
        "breakdown": "all", "category": "all", "area_type": "practice", "area_code": "P1",
        "period_start": pd.date_range("2019-04-01", periods=periods, freq="12MS"),
        "num": [30.0 + 5 * i for i in range(periods)], "den": 100.0,
        "value_state": "published"})
    defn = builtin()["early_stage_known"]
    trends = rollup.recent_trends(defn, cells)
    assert trends.iloc[-1] is not None and trends.iloc[:-1].isna().all()
    cells.loc[periods - 1, "value_state"] = "suppressed"
    assert rollup.recent_trends(defn, cells).isna().all()


def test_a_practice_flagged_only_before_the_snapshot_is_not_called_suppressed(small_ws):
    """The flagged rows' own latest date (September) was taken as the snapshot: a practice
    with no row in December read as suppressed by the publisher (a review)."""
    dec = date(2023, 12, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", date(2023, 9, 30), None, None, True),
        ("P2", "bowel_60_74", dec, 40, 20, False),
        ("P1", "breast_53_70", date(2024, 3, 31), 80, 60, False),
    ])
    run(small_ws, "screening_bowel_60_74")
    got = values(small_ws, "screening_bowel_60_74")
    assert ("P1", "all") not in got
    assert pd.isna(got[("national", "all")].value_note)


def test_a_practice_the_publisher_suppressed_hides_no_other_in_public(small_ws, tmp_path):
    """Its count is in no total, so its sibling needs no protection: the public export
    hid P2 too, 'a figure that would let one be worked out from a total' (a review)."""
    from carepath.reports.export import export

    dec = date(2023, 12, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", dec, None, None, True),
        ("P2", "bowel_60_74", dec, 400, 200, False),
        ("P3", "bowel_60_74", dec, 300, 150, False),
        ("P1", "breast_53_70", date(2024, 3, 31), 80, 60, False),
    ])
    run(small_ws, "screening_bowel_60_74")
    done = export(small_ws, tmp_path / "p.csv", fmt="csv", public=True,
                  indicators=["screening_bowel_60_74"])
    frame = pd.read_csv(tmp_path / "p.csv").set_index("Area Code")
    assert frame.loc["P1", "value_state"] == "suppressed"
    assert frame.loc["P2", "value_state"] == "published"
    # The release hid nothing itself: it said it had suppressed P1 for the first time.
    assert done.states["suppressed"] == 1 and done.newly_withheld == 0
    # The public reads what an area's figure leaves out, beside how it was rounded.
    assert "leaves out 1 practice whose figures the publisher suppressed" in \
        frame.loc["L1", "Value note"]


def test_a_recent_trend_does_not_bridge_a_missing_period():
    """With a gap year left out, the last five rows skipped a year and still took a trend
    (a review): the periods must follow one another."""
    from carepath.engine import rollup
    from carepath.stats.trend import TREND_POINTS

    labels = [str(2017 + i) for i in range(TREND_POINTS + 1)]
    kept = labels[:3] + labels[4:]  # the fourth year a gap
    cells = pd.DataFrame({
        "breakdown": "all", "category": "all", "area_type": "practice", "area_code": "P1", "period": kept,
        "period_start": pd.to_datetime([f"{y}-01-01" for y in kept]),
        "num": [30.0 + 5 * i for i in range(len(kept))], "den": 100.0,
        "value_state": "published"})
    defn = builtin()["early_stage_known"]
    assert rollup.recent_trends(defn, cells).iloc[-1] is not None  # no order: bridged
    order = {label: i for i, label in enumerate(labels)}
    assert rollup.recent_trends(defn, cells, order).isna().all()


def test_each_breakdown_category_takes_its_own_recent_trend():
    """Only the 'all' rows were given a trend; Fingertips marks its sex and age rows too.
    Each category is its own series: women rising and men falling read so, not as one."""
    from carepath.engine import rollup
    from carepath.stats.trend import TREND_POINTS

    starts = pd.date_range("2019-04-01", periods=TREND_POINTS, freq="12MS")
    rising = [300.0 + 60 * i for i in range(TREND_POINTS)]
    cells = pd.concat([pd.DataFrame({
        "breakdown": breakdown, "category": category, "area_type": "locality",
        "area_code": "L1", "period_start": starts, "num": num, "den": 1000.0,
        "value_state": "published"}) for breakdown, category, num in (
            ("all", "all", [600.0] * TREND_POINTS),
            ("sex", "Female", rising), ("sex", "Male", rising[::-1]))],
        ignore_index=True).sample(frac=1, random_state=1)  # any order of rows
    defn = builtin()["early_stage_known"]  # high is good
    trends = rollup.recent_trends(defn, cells)
    latest = cells.assign(trend=trends).dropna(subset=["trend"])
    assert latest.period_start.eq(starts[-1]).all()
    got = dict(zip(latest.category, latest.trend, strict=True))
    assert got == {"all": "No significant change", "Female": "Increasing and getting better",
                   "Male": "Decreasing and getting worse"}, got


def test_a_month_with_no_rows_inside_a_period_is_warned_of(small_ws):
    """A month missing from an extract reads as a twelfth fewer events: said (a review)."""
    [outcome] = run(small_ws, "emergency_presentation_pct").values()
    assert "no rows in some months: tumours.diagnosis_date in 2023/24 (" in outcome.message
    assert "2023-10" in outcome.message and "2023-05" not in outcome.message


def test_a_practice_counted_in_no_total_does_not_make_its_area_larger(small_ws):
    """South's only counted practice is P3 (P5 has no lists): South's figure is P3's, so
    P3 is compared with the ICB, not with its own figure again (a hunt)."""
    with small_ws.transaction() as con:
        con.execute("INSERT INTO organisations VALUES ('P5', 'Practice P5', 'practice', "
                    "DATE '2015-01-01', NULL, NULL, NULL, NULL)")
        con.execute("INSERT INTO org_hierarchy VALUES ('P5', 'L2', 'locality', DATE "
                    "'2015-01-01', NULL), ('P5', 'I1', 'icb', DATE '2015-01-01', NULL)")
        con.execute("INSERT INTO tumours SELECT * REPLACE ('p5t' AS tumour_id, 'P5' AS "
                    "practice_code) FROM tumours WHERE tumour_id = 't1'")
    run(small_ws, "cancer_incidence_crude")
    got = values(small_ws, "cancer_incidence_crude")
    assert got[("P3", "all")].parent_code == "I1"
    assert (got[("L2", "all")].numerator, got[("L2", "all")].denominator) == \
        (got[("P3", "all")].numerator, got[("P3", "all")].denominator)


def test_an_area_of_only_suppressed_practices_is_suppressed_by_the_publisher(small_ws):
    """South holds only P3; the publisher suppressed P3: South read 'no data' (a hunt)."""
    dec = date(2023, 12, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", dec, 100, 60, False),
        ("P2", "bowel_60_74", dec, 40, 20, False),
        ("P3", "bowel_60_74", dec, None, None, True),
        ("P1", "breast_53_70", date(2024, 3, 31), 80, 60, False),
    ])
    run(small_ws, "screening_bowel_60_74")
    south = values(small_ws, "screening_bowel_60_74")[("L2", "all")]
    assert (south.value_state, south.value_note) == ("suppressed",
                                                     "suppressed by the publisher")
    assert pd.isna(south.numerator)


def test_an_area_spanning_two_parents_is_compared_with_the_one_holding_most_of_it():
    """A PCN with one practice in locality A and two in B was compared with A, the first
    by code (a hunt)."""
    import duckdb

    from carepath.engine.rollup import parents

    links = {"p1": ["NX", "A"], "p2": ["NX", "B"], "p3": ["NX", "B"], "p4": ["NY", "A"],
             "p5": ["NY", "A"], "p8": ["NY", "A"], "p6": ["NZ", "B"],
             "p7": ["NZ", "B"]}  # A and B: 4 each, both larger than NX
    rows = [("y", unit, kind, code) for unit, codes in links.items()
            for kind, code in zip(("pcn", "locality"), codes, strict=True)]
    rows += [("y", unit, "practice", unit) for unit in links]
    rows += [("y", unit, "national", "national") for unit in links]
    amap = pd.DataFrame(rows, columns=["period", "unit", "area_type", "area_code"])
    got = parents(duckdb.connect(), amap).set_index("area_code").parent_code.to_dict()
    assert got["NX"] == "B"


def test_a_year_missing_from_a_table_a_count_requires_is_a_gap(small_ws):
    """Admissions (or deaths) missing for a year read as none happening: 3.8% for 49.7%
    (a second hunt). A period in which any table the counts read has no rows is a gap."""
    from carepath.indicators.definition import Related

    base = builtin()["early_stage_known"]
    defn = base.model_copy(update={"numerator": base.numerator.model_copy(update={
        "exclude": (Related(table="referrals", on="patient_id"),)})})
    with small_ws.transaction() as con:  # referrals only before the year and after it
        con.execute("UPDATE referrals SET referral_date = DATE '2022-06-01', "
                    "first_seen_date = NULL, faster_diagnosis_date = NULL")
        con.execute("INSERT INTO referrals SELECT * REPLACE ('r-late' AS referral_id, "
                    "DATE '2024-06-01' AS referral_date) FROM referrals LIMIT 1")
    [outcome] = compute(small_ws, [defn])
    assert outcome.status == "no_data"
    assert "no rows of referrals.referral_date in 2023/24: a gap" in outcome.message


def test_a_period_missing_a_quarters_lists_has_no_values(small_ws):
    """Lists ending a quarter early counted a practice closing in that time as listed all
    year (a second hunt): a period of events needs every quarter's lists."""
    with small_ws.transaction() as con:
        con.execute("DELETE FROM registered_population WHERE quarter_start = DATE "
                    "'2024-01-01'")
    [outcome] = run(small_ws, "cancer_incidence_crude").values()
    assert outcome.status == "no_data"
    assert "lists do not cover every quarter of 2023/24" in outcome.message


def test_a_denominator_of_zero_says_so_rather_than_no_data(small_ws):
    """0 eligible and 0 screened read 'no data for this area and period' (a hunt)."""
    dec = date(2023, 12, 31)
    _screening(small_ws, [
        ("P1", "bowel_60_74", dec, 100, 60, False),
        ("P2", "bowel_60_74", dec, 0, 0, False),
        ("P1", "breast_53_70", date(2024, 3, 31), 80, 60, False),
    ])
    run(small_ws, "screening_bowel_60_74")
    p2 = values(small_ws, "screening_bowel_60_74")[("P2", "all")]
    assert (p2.value_state, p2.value_note) == (
        "missing", "the denominator is 0: no one to count in this area and period")


def test_no_trend_across_periods_whose_figures_leave_practices_out():
    """A locality at 71% of its one unsuppressed practice, after years of all four, read
    as 'increasing' (a hunt): a trend needs the same practices throughout."""
    from carepath.engine import rollup
    from carepath.stats.trend import TREND_POINTS

    cells = pd.DataFrame({
        "breakdown": "all", "category": "all", "area_type": "locality", "area_code": "L1",
        "period_start": pd.date_range("2019-04-01", periods=TREND_POINTS, freq="12MS"),
        "num": [54.0, 55.0, 56.0, 56.0, 71.0], "den": 100.0, "value_state": "published",
        "withheld_units": [0, 0, 0, 0, 3]})
    defn = builtin()["early_stage_known"]
    assert rollup.recent_trends(defn, cells).isna().all()
    assert rollup.recent_trends(defn, cells.assign(withheld_units=0)).iloc[-1] is not None


def test_a_suppressed_practice_with_an_empty_unflagged_row_has_one_cell(small_ws):
    """Counted by period, a practice flagged once and with an unflagged row of no counts
    had two cells, one suppressed and one missing (a final read of the change)."""
    _screening(small_ws, [
        ("P1", "bowel_60_74", date(2023, 10, 31), None, None, True),
        ("P1", "bowel_60_74", date(2023, 11, 30), None, None, False),
        ("P2", "bowel_60_74", date(2023, 11, 30), 40, 20, False),
        ("P2", "bowel_60_74", date(2024, 3, 31), 40, 20, False),
    ])
    defn = builtin()["screening_bowel_60_74"].model_copy(update={"mode": "in_period",
                                                               "period": "quarter"})
    compute(small_ws, [defn])
    with small_ws.connect(read_only=True) as con:
        rows = con.execute("SELECT value_state, value_note FROM indicator_values WHERE "
                           "area_code = 'P1'").fetchall()
    assert rows == [("suppressed", "suppressed by the publisher")]


def test_an_area_is_named_as_it_was_at_its_periods_end():
    """Maps of several dates name an area differently: each value takes the name of the
    latest map by its period's end, the first map's before any (2017 figures of sub-ICB
    99A were labelled with its 2026 ICB's name, not Liverpool CCG's)."""
    from carepath.engine import rollup

    dated = pd.DataFrame({"area_code": ["99A", "99A"],
                          "valid_from": pd.to_datetime(["2016-01-01", "2023-03-31"]),
                          "name": ["Liverpool CCG", "Cheshire and Merseyside ICB - 99A"]})
    codes = pd.Series(["99A", "P1", "99A", "99A", "99A"])
    ends = pd.Series(pd.to_datetime(["2017-12-31", "2017-12-31", "2024-03-31", "2015-03-31",
                                     "2023-03-31"]))
    names = {"99A": "Cheshire and Merseyside ICB - 99A", "P1": "A practice"}
    assert rollup.named_at(codes, ends, names, dated).tolist() == [
        "Liverpool CCG", "A practice", "Cheshire and Merseyside ICB - 99A", "Liverpool CCG",
        "Cheshire and Merseyside ICB - 99A"]
    assert rollup.named_at(codes, ends, names, dated.iloc[:0]).tolist() == [
        names[c] for c in codes]


def test_a_count_is_compared_with_no_other_area(small_ws):
    """An area's count beside its parent's or the whole's is always lower ('better', for a
    low-is-good count): every practice was green (an independent recomputation)."""
    defn = builtin()["early_stage_known"]
    count = defn.model_copy(update={"id": "tumours_counted", "statistic": "count",
                                    "denominator": None, "polarity": "low_is_good",
                                    "comparator": defn.comparator.model_copy(
                                        update={"method": "ci_overlap"})})
    (out,) = compute(small_ws, [count])
    assert out.status == "computed"
    assert distinct(small_ws, "compared_to_national", "tumours_counted") == {"not_compared"}
    assert distinct(small_ws, "compared_to_parent", "tumours_counted") == {"not_compared"}
    assert len(values(small_ws, "tumours_counted")) > 1  # the values themselves stand


def test_a_persons_admissions_are_counted_as_one_persons_events(small_ws):
    """Byar's limits on the admissions treated each of a person's admissions as independent:
    1.65 a person made the interval about 45% too narrow (an independent check). Counted
    per person ('per:patient_id'), each person is an event weighing their admissions."""
    from carepath import stats
    from carepath.stats.intervals import METHOD_PER_PERSON

    with small_ws.transaction() as con:  # pt2 died 2023-12-01 and pt4 2024-02-01
        con.executemany("INSERT INTO admissions VALUES (?, ?, 'T1', 'emergency', ?, NULL, 1, "
                        "NULL)", [("a1", "pt2", date(2023, 11, 1)),
                                  ("a2", "pt2", date(2023, 11, 20)),
                                  ("a3", "pt4", date(2024, 1, 10)),
                                  ("a9", "pt0", date(2024, 4, 5))])  # the data run on
    run(small_ws, "emergency_admissions_last_90_days")
    got = values(small_ws, "emergency_admissions_last_90_days")[("national", "all")]
    deaths = got.denominator
    # Two people: pt2 with two admissions, pt4 with one: three events, squares 2² + 1².
    want = stats.weighted_rate(3, 2**2 + 1**2, 3, deaths, multiplier=100)
    assert (got.numerator, got.method) == (3, METHOD_PER_PERSON)
    assert (got.value, got.lower95, got.upper95) == pytest.approx(
        (float(want.value), float(want.lower), float(want.upper)), rel=1e-12)
    independent = stats.rate(3, deaths, multiplier=100)
    assert got.upper95 - got.lower95 > float(independent.upper - independent.lower)


@pytest.mark.parametrize(("part", "statistic"), [("denominator", "proportion"),
                                                 ("numerator", "proportion")])
def test_per_person_counts_are_for_a_crude_rates_numerator(tmp_path, part, statistic):
    import yaml

    from carepath.errors import ValidationError
    from carepath.indicators.library import LIBRARY_DIR, load_dir

    data = yaml.safe_load((LIBRARY_DIR / "deaths_in_hospital.yaml").read_text())
    data[part]["value"] = "per:patient_id"
    data["statistic"] = statistic
    (tmp_path / "deaths_in_hospital.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError, match="'per:<column>' counts a crude rate's events"):
        load_dir(tmp_path)


def test_rows_without_a_person_are_each_their_own_event():
    """Lumped into one 'person' by their empty column, they made one heavy event (a
    review)."""
    import ibis

    from carepath.engine.compile import _per_person

    rows = ibis.memtable({"period": ["y"] * 5, "unit": ["P1"] * 5,
                          "pid": ["a", "a", "b", None, None]})
    out = _per_person(rows, {"period": rows.period, "unit": rows.unit}, "pid").to_pandas()
    assert out[["n__0", "n_events__0", "n_sq__0"]].iloc[0].tolist() == [5, 5, 4 + 1 + 1 + 1]


@pytest.mark.parametrize("people", [[40, 12, 3], [5, 4, 3, 2, 1], [200, 60, 20, 7, 1]])
def test_per_person_limits_are_phes_for_non_independent_events(people):
    """The engine's per-person interval (weighted_rate over the events, with the squares
    of each person's count) is PHE's non-independent Dobson (dsr_non_independent, tested
    on the peer's fixture) for one band. First written with the persons as the events, it
    was not (a re-reading found it)."""
    from carepath import stats

    freq = np.arange(1, len(people) + 1, dtype=float)
    persons = np.array(people, dtype=float)
    events, squares, deaths = (persons * freq).sum(), (persons * freq**2).sum(), 900.0
    ours = stats.weighted_rate(events, squares, events, deaths, multiplier=100)
    phe = stats.dsr_non_independent(persons[None, None, :], np.array([[deaths]]), freq,
                                    multiplier=100, stdpop=np.array([1.0]))
    assert (float(ours.value), float(ours.lower), float(ours.upper)) == pytest.approx(
        (float(phe.value[0]), float(phe.lower[0]), float(phe.upper[0])), rel=1e-12)
