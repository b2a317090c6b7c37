"""Every named source on the real published files in ../shared/data/public, read in place."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from carepath.cli import main
from carepath.engine.run import compute
from carepath.indicators.library import (
    builtin,
    load_library,
    overrides_library,
    shown_title,
)
from carepath.ingest.quarantine import export_quarantine, quarantined_file_rows
from carepath.reports.export import export
from carepath.sources import load_source
from carepath.workspace import Workspace

PUBLIC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "public"
pytestmark = pytest.mark.skipif(not PUBLIC.is_dir(), reason="shared public data not present")


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


def q(ws: Workspace, sql: str, params=None) -> list[tuple]:
    with ws.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def data_rows(path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def reconciled(results) -> None:
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined, r.summary()


def test_gp_registered_patients_map_and_population(ws):
    folder = PUBLIC / "gp_registered_patients_2026_08"
    results = load_source(ws, "gp_registered_patients", folder)
    reconciled(results)
    assert sum(r.rows_quarantined for r in results) == 0
    practices = {r["PRACTICE_CODE"] for r in data_rows(folder / "gp-reg-pat-prac-map.csv")}
    assert q(ws, "SELECT count(*) FROM organisations WHERE org_type = 'practice'") == [
        (len(practices),)]
    # Each practice has exactly one parent at each level.
    assert q(ws, "SELECT DISTINCT n FROM (SELECT child_code, count(*) n FROM org_hierarchy "
                 "JOIN organisations o ON o.org_code = child_code AND o.org_type = 'practice' "
                 "GROUP BY 1)") == [(4,)]
    regions, icbs = (q(ws, "SELECT sum(population) FROM published_population WHERE area_type "
                           "= ? AND sex = 'all' AND age_band = 'all'", [t])[0][0]
                     for t in ("region", "icb"))
    assert regions == icbs > 60_000_000
    # Reloading the same files changes nothing.
    assert all(r.skipped for r in load_source(ws, "gp_registered_patients", folder))


def test_gp_list_size_2016_with_ccg_hierarchy(ws):
    path = PUBLIC / "gp_list_size_age_sex_2016q1" / "Patient_List_Size_2016_01-03.csv"
    results = load_source(ws, "gp_list_size", path)
    reconciled(results)
    source = data_rows(path)
    expected = sum(int(v) for r in source for k, v in r.items() if k.startswith(("Male",
                                                                                  "Female")))
    assert q(ws, "SELECT sum(population), count(DISTINCT area_code) FROM published_population"
             ) == [(expected, len(source))]
    assert q(ws, "SELECT DISTINCT valid_from::VARCHAR FROM organisations") == [("2016-01-01",)]
    assert q(ws, "SELECT count(*) FROM org_hierarchy WHERE child_code = 'F82625'") == [(2,)]
    # Four practices' PCO is a council, a trust or an area team, not a CCG: no sub-ICB
    # area of one practice each, and the load says so.
    assert q(ws, "SELECT parent_type, parent_code FROM org_hierarchy WHERE child_code = "
                 "'A81630'") == [("region", "Y54")]
    assert q(ws, "SELECT count(*) FROM organisations WHERE org_type = 'sub_icb' AND "
                 "(name NOT LIKE '%CCG%' OR org_code IN ('112', 'RY6', 'Q59'))") == [(0,)]
    (said,) = [w for r in results for w in r.warnings]
    assert said.startswith("4 PCOs are not clinical commissioning groups (11200 MIDDLESBROUGH "
                           "COUNCIL, 11400 STOCKTON ON TEES LOCAL AUTHORITY, Q5900 ")


def test_two_published_maps_give_one_parent_of_each_type_at_a_time(ws):
    load_source(ws, "gp_list_size",
                PUBLIC / "gp_list_size_age_sex_2016q1" / "Patient_List_Size_2016_01-03.csv")
    load_source(ws, "gp_registered_patients", PUBLIC / "gp_registered_patients_2026_08")
    for day in ("2016-06-30", "2026-09-30"):
        assert q(ws, "SELECT max(n) FROM (SELECT count(*) AS n FROM org_hierarchy WHERE "
                     "valid_from <= ?::DATE AND (valid_to IS NULL OR valid_to >= ?::DATE) "
                     "GROUP BY child_code, parent_type)", [day, day]) == [(1,)]
    # F82625 was in Barking & Dagenham CCG (07L) until the 2026 map moved it on.
    assert q(ws, "SELECT valid_to::VARCHAR FROM org_hierarchy WHERE child_code = 'F82625' "
                 "AND parent_code = '07L'") == [("2026-07-31",)]
    # The file's CCG site codes ('06H00') are stored as the organisations' codes, as the
    # later map gives them: a CCG whose code carried on as a sub-ICB's is one area.
    assert q(ws, "SELECT count(*), count(*) FILTER (length(org_code) = 3) FROM organisations "
                 "WHERE org_type = 'sub_icb' AND valid_from = '2016-01-01'") == [(209, 209)]
    assert q(ws, "SELECT DISTINCT parent_code FROM org_hierarchy WHERE child_code = 'D81633' "
                 "AND parent_type = 'sub_icb'") == [("06H",)]


def test_one_bad_cell_quarantines_only_its_own_row_of_the_table(ws, tmp_path):
    """A published row gives a table row per age band and sex: a suppressed '*' in one cell
    quarantines that band, with its reason, and loads the others (it failed the whole file
    with 'internal check failed')."""
    source = PUBLIC / "gp_list_size_age_sex_2016q1" / "Patient_List_Size_2016_01-03.csv"
    lines = source.read_text(encoding="utf-8-sig").splitlines()[:3]
    cells = lines[1].split(",")
    cells[8] = "*"  # Male 0-4 of the first practice
    path = tmp_path / "Patient_List_Size_2016_01-03.csv"
    path.write_text("\n".join([lines[0], ",".join(cells), lines[2]]) + "\n")
    population = next(r for r in load_source(ws, "gp_list_size", path)
                      if r.table == "published_population")
    assert population.rows_quarantined == 1
    assert population.rows_loaded == population.rows_read - 1
    [(row, column, value)] = q(ws, "SELECT row_number, column_name, masked_value FROM "
                                   "quarantine")
    assert (row, column, value) == (2, "population", "*")


@pytest.mark.slow
def test_qof_prevalence_as_external_values(ws):
    results = load_source(ws, "qof", PUBLIC / "qof_2022_23")
    reconciled(results)
    assert sum(r.rows_quarantined for r in results) == 0
    row = next(r for r in data_rows(PUBLIC / "qof_2022_23" / "PREVALENCE_2223.csv")
               if r["PRACTICE_CODE"] == "A81001" and r["GROUP_CODE"] == "CAN")
    got = q(ws, "SELECT numerator, denominator, value, period, age FROM "
                "external_indicator_values WHERE indicator_id = 'QOF_CAN_PREV' AND "
                "area_code = 'A81001'")
    reg, size = float(row["REGISTER"]), float(row["PRACTICE_LIST_SIZE"])
    assert got == [(reg, size, pytest.approx(100 * reg / size), "2022/23", "all")]
    assert q(ws, "SELECT count(*) FROM organisations WHERE org_type = 'icb'")[0][0] == 42


def test_fingertips_export_keeps_missing_as_missing(ws):
    folder = PUBLIC / "fingertips_eol_deaths_usual_residence_65plus"
    (res,) = load_source(ws, "fingertips", folder)
    assert (res.rows_read, res.rows_loaded) == (5248, 5248)
    assert q(ws, "SELECT value_state, count(*), count(value) FROM external_indicator_values "
                 "GROUP BY 1 ORDER BY 1") == [("missing", 3, 0), ("published", 5245, 5245)]
    assert q(ws, "SELECT value FROM external_indicator_values WHERE area_code = 'E47000001' "
                 "AND period = '2001'") == [(33.6,)]
    # fingertipsR's measure is the value's unit; its unit ("Deaths") is what is counted
    assert q(ws, "SELECT DISTINCT unit FROM external_indicator_values") == [("Percentage",)]


def test_cervical_screening_suppressed_is_not_zero(ws):
    path = PUBLIC / "cervical_screening_gp_2017_12" / "cervical_screening_coverage_gp_dec2017.csv"
    (res,) = load_source(ws, "cervical_screening", path)
    source = data_rows(path)
    assert res.rows_read == res.rows_loaded == 2 * len(source)  # no organisations to check
    flagged = sum((r[f] or "..") != ".." for r in source
                  for f in ("suppression_25_49", "suppression_50_64"))
    assert q(ws, "SELECT count(*) FROM screening WHERE suppressed") == [(flagged,)]
    # Suppressed counts are NULL (suppressed), never 0; unsuppressed ones are published.
    assert q(ws, "SELECT count(*) FROM screening WHERE suppressed AND screened IS NOT NULL"
             ) == [(0,)]
    assert q(ws, "SELECT count(*) FROM screening WHERE NOT suppressed AND screened IS NULL"
             ) == [(0,)]
    assert q(ws, "SELECT eligible, screened FROM screening WHERE practice_code = 'B82007' AND "
                 "programme = 'cervical_25_49'") == [(1088, 820)]


def test_cervical_screening_checks_practices_against_the_2016_map(ws, capsys):
    load_source(ws, "gp_list_size", PUBLIC / "gp_list_size_age_sex_2016q1")
    (res,) = load_source(ws, "cervical_screening", PUBLIC / "cervical_screening_gp_2017_12")
    reconciled([res])
    assert 0 < res.rows_quarantined < res.rows_read // 10
    assert q(ws, "SELECT DISTINCT reason FROM quarantine") == [
        ("not found in organisations.org_code",)]
    # Exported a line per published row and problem, with the table rows it stopped (one
    # per programme): two identical lines read as two bad practices.
    export_quarantine(ws, ws.path / "q.csv")
    lines = data_rows(ws.path / "q.csv")
    assert len(lines) * 2 == res.rows_quarantined
    assert {line["table_rows"] for line in lines} == {"2"}
    # A December snapshot holds no financial year's end: the built-in definition says so
    # and how to compute by another period, and a workspace's copy that does computes.
    builtin_cervical = builtin()["screening_cervical_25_49"]
    (outcome,) = compute(ws, [builtin_cervical])
    assert outcome.status == "no_data"
    assert "no complete financial year in the screening data (to 2017-12-31)" in \
        outcome.message
    assert "quarter (2017/18 Q3)" in outcome.message and "calendar year (2017)" in \
        outcome.message and builtin_cervical.source_file in outcome.message
    assert "set `period: calendar_year` (or another of these)" in outcome.message
    # No bowel screening in the file: another period would not help, and it says so.
    (bowel,) = compute(ws, [builtin()["screening_bowel_60_74"]])
    assert bowel.status == "no_data" and bowel.message.startswith(
        "no row of screening meets the numerator's filter (programme = 'bowel_60_74')")
    text = Path(builtin_cervical.source_file).read_text()
    (ws.path / "indicators" / "screening_cervical_25_49.yaml").write_text(
        text.replace("mode: snapshot", "period: quarter\nmode: snapshot"))
    quarterly = load_library(ws.path / "indicators")["screening_cervical_25_49"]
    (outcome,) = compute(ws, [quarterly])
    assert outcome.status == "computed"
    # Published under a name saying it is the workspace's version, not the library's.
    export(ws, ws.path / "v.csv", fmt="csv")
    assert {r["Indicator Name"] for r in data_rows(ws.path / "v.csv")} == {
        "Cervical screening coverage, people aged 25-49 (this workspace's version)"}
    assert not overrides_library(builtin_cervical) and overrides_library(quarterly)
    assert shown_title(quarterly).endswith("(this workspace's version)")  # pages say it too
    assert shown_title(builtin_cervical) == builtin_cervical.title
    # The practices quarantined at load are in no figure: compute says so beside them.
    assert quarantined_file_rows(ws, {"screening", "tumours"}) == {
        "screening": res.rows_quarantined // 2}  # a file row is a row per programme
    main(["compute", "-w", str(ws.path), "-i", "screening_cervical_25_49", "--force"])
    said = " ".join(capsys.readouterr().out.split())
    assert (f"note: {res.rows_quarantined // 2:,} rows of the files loaded into screening "
            "were quarantined and are in no figure computed from it") in said
    assert q(ws, "SELECT DISTINCT period FROM indicator_values") == [("2017/18 Q3",)]
    # Named as it was in 2017 though a later map names it too (as its sub-ICB location).
    load_source(ws, "gp_registered_patients", PUBLIC / "gp_registered_patients_2026_08")
    (outcome,) = compute(ws, [quarterly])
    assert q(ws, "SELECT DISTINCT area_name FROM indicator_values WHERE area_code = '06H'"
             ) == [("CAMBRIDGESHIRE AND PETERBOROUGH CCG",)]
    assert q(ws, "SELECT arg_max(name, valid_from) FROM organisations WHERE org_code = '06H'"
             ) != [("CAMBRIDGESHIRE AND PETERBOROUGH CCG",)]


def test_cwt_workbooks_match_the_published_england_figures(ws):
    results = load_source(ws, "cwt", PUBLIC / "cancer_waiting_times_commissioner" / "raw_xlsx")
    reconciled(results)
    assert len(results) == 4 and all(r.rows_loaded > 0 for r in results)
    got = {c: (n, d) for c, n, d in q(
        ws, "SELECT category, numerator, denominator FROM external_indicator_values WHERE "
            "indicator_id = 'CWT_62_DAY_ALL_CANCER' AND area_type = 'england' AND "
            "period = '2024-07'")}
    assert got["ALL ROUTES / ALL CANCERS"] == (20361, 29924)
    assert got["Urgent Suspected Cancer / ALL CANCERS"] == (11277, 17962)
    assert q(ws, "SELECT DISTINCT period FROM external_indicator_values ORDER BY 1") == [
        ("2021-07",), ("2022-07",), ("2023-07",), ("2024-07",)]
    # The sheet "62-DAY (ALL CANCER)" held the GP referral standard to September 2023, the
    # combined standard after: two measures, two ids.
    assert q(ws, "SELECT indicator_id, min(period), max(period) FROM "
                 "external_indicator_values WHERE indicator_id LIKE 'CWT_62_DAY_%' AND "
                 "indicator_id IN ('CWT_62_DAY_ALL_CANCER', 'CWT_62_DAY_GP_REFERRAL') "
                 "GROUP BY 1 ORDER BY 1") == [
        ("CWT_62_DAY_ALL_CANCER", "2024-07", "2024-07"),
        ("CWT_62_DAY_GP_REFERRAL", "2021-07", "2023-07")]


def test_replace_reloads_a_file_without_touching_what_other_files_loaded(ws, tmp_path):
    cwt = PUBLIC / "cancer_waiting_times_commissioner" / "raw_xlsx"
    load_source(ws, "cwt", cwt)
    before = q(ws, "SELECT period, count(*) FROM external_indicator_values GROUP BY 1 "
                   "ORDER BY 1")
    (res,) = load_source(ws, "cwt", cwt / "cwt_commissioner_jul_2024.xlsx", replace=True)
    assert res.rows_quarantined == 0 and res.rows_loaded > 0
    assert any("same keys replaced" in w for w in res.warnings)
    assert q(ws, "SELECT period, count(*) FROM external_indicator_values GROUP BY 1 "
                 "ORDER BY 1") == before  # the other years are still there
    # A table without a source column: a reissued screening file replaces its rows.
    path = PUBLIC / "cervical_screening_gp_2017_12" / "cervical_screening_coverage_gp_dec2017.csv"
    (first,) = load_source(ws, "cervical_screening", path)
    (again,) = load_source(ws, "cervical_screening", path, replace=True)
    assert (again.rows_loaded, again.rows_quarantined) == (first.rows_loaded, 0)
    assert q(ws, "SELECT count(*) FROM screening") == [(first.rows_loaded,)]


def test_imd_lsoa_la_and_practice(ws):
    results = load_source(ws, "imd", PUBLIC / "imd")
    reconciled(results)
    assert sum(r.rows_quarantined for r in results) == 0
    assert q(ws, "SELECT count(*) FROM area_deprivation WHERE area_type = 'lsoa'") == [(32844,)]
    assert q(ws, "SELECT value, decile FROM area_deprivation WHERE area_code = 'A81001'") == [
        (pytest.approx(34.5687225678029), 2)]
    assert q(ws, "SELECT DISTINCT index_year FROM area_deprivation WHERE area_type = 'la' "
                 "ORDER BY 1") == [(2019,), (2025,)]


def test_ons_population(ws):
    results = load_source(ws, "ons_population", PUBLIC / "ons_population")
    reconciled(results)
    assert sum(r.rows_quarantined for r in results) == 0
    assert q(ws, "SELECT population FROM published_population WHERE area_code = 'K02000001' "
                 "AND sex = 'all' AND age_band = 'all' AND reference_date = '2020-06-30'") == [
        (67081234,)]
    single = q(ws, "SELECT sum(population) FROM published_population WHERE area_code = "
                   "'K02000001' AND sex = 'all' AND age_band <> 'all' AND reference_date = "
                   "'2020-06-30'")[0][0]
    assert single == 67081234


def test_published_values_are_listed_and_read_from_the_cli(ws, tmp_path, capsys):
    from carepath.cli import main

    def run(*args):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code
        return code, *capsys.readouterr()

    load_source(ws, "fingertips", PUBLIC / "fingertips_eol_deaths_usual_residence_65plus")
    code, shown, _ = run("external", "list", "-w", str(ws.path), "--out",
                         str(tmp_path / "l.csv"))
    [entry] = data_rows(tmp_path / "l.csv")
    assert code == 0 and entry["source"] == "fingertips" and entry["published"] == "5245"
    # The id, to copy into `external show`, is whole however narrow (it read 'percen…').
    assert entry["indicator_id"] in shown
    assert entry["missing"] == "3"
    code, _, _ = run("external", "show", entry["indicator_id"], "-w", str(ws.path),
                     "--area", "E92000001", "--out", str(tmp_path / "v.csv"))
    england = data_rows(tmp_path / "v.csv")
    assert code == 0 and {r["period"] for r in england} >= {"2001", "2016"}
    assert {r["area_code"] for r in england} == {"E92000001"}
    code, _, err = run("external", "show", "nope", "-w", str(ws.path))
    assert code == 2 and "no published indicator 'nope'" in err
    code, _, err = run("external", "show", entry["indicator_id"], "-w", str(ws.path),
                       "--area", "E99999999")
    assert code == 2 and "no published values for area 'E99999999'" in " ".join(err.split())
    # and says which there are (the API's 404 listed them, the CLI not: a walkthrough)
    code, _, err = run("external", "show", entry["indicator_id"], "-w", str(ws.path),
                       "--period", "2024-25")
    said = " ".join(err.split())
    assert code == 2 and "no published values for period '2024-25'; its periods: 2001" in said
