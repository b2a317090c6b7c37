"""Everyday mistakes with published files: a clear refusal naming the file (and row), never
a traceback, never a silent drop, and nothing loaded. Each case is made from the first rows
of a real file in ../shared/data/public."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from carepath.errors import ValidationError
from carepath.sources import load_source
from carepath.workspace import Workspace

PUBLIC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "public"
pytestmark = pytest.mark.skipif(not PUBLIC.is_dir(), reason="shared public data not present")
LIST_SIZE = PUBLIC / "gp_list_size_age_sex_2016q1" / "Patient_List_Size_2016_01-03.csv"
LIST_SIZE_NAME = LIST_SIZE.name
ONS_WIDE = PUBLIC / "ons_population" / "ons_mye_mid2020_syoa_by_sex_uk_areas.csv"
QOF = PUBLIC / "qof_2022_23"
IMD_LA = PUBLIC / "imd" / "iod2019_lad_summaries.csv"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


def head(path: Path, rows: int) -> list[str]:
    with path.open(encoding="utf-8-sig") as fh:
        return [next(fh).rstrip("\r\n") for _ in range(rows)]


def write(folder: Path, name: str, lines: list[str], *, encoding="utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def tables(ws: Workspace) -> dict[str, int]:
    with ws.connect(read_only=True) as con:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in (
            "organisations", "org_hierarchy", "published_population", "area_deprivation",
            "external_indicator_values", "load_log")}


def refused(ws, source, path, message):
    before = tables(ws)
    with pytest.raises(ValidationError, match=message) as info:
        load_source(ws, source, path)
    assert tables(ws) == before
    return info.value


def test_a_csv_saved_by_excel_in_windows_1252_is_read(ws, tmp_path):
    lines = head(LIST_SIZE, 3)
    lines[1] = lines[1].replace("ABBEY MEDICAL CENTRE", "ABBEY £ MEDICAL CENTRE")
    path = write(tmp_path, LIST_SIZE_NAME, lines, encoding="cp1252")
    load_source(ws, "gp_list_size", path)
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT name FROM organisations WHERE org_code = 'F82625'"
                           ).fetchall() == [("ABBEY £ MEDICAL CENTRE",)]


def test_archives_are_named_for_what_they_are(ws, tmp_path):
    archive = tmp_path / "PREVALENCE_2223.csv"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("PREVALENCE_2223.csv", "PRACTICE_CODE\n")
    refused(ws, "qof", archive, "zip archive")
    packed = tmp_path / "Patient_List_Size_2016_01-03.csv.gz"
    packed.write_bytes(gzip.compress(LIST_SIZE.read_bytes()[:2000]))
    refused(ws, "gp_list_size", packed, "gzip")


def test_a_file_cut_short_is_refused_with_its_last_line(ws, tmp_path):
    lines = head(LIST_SIZE, 4)
    path = tmp_path / LIST_SIZE_NAME
    path.write_text("\n".join(lines)[:-40])  # the download stopped inside the last row
    refused(ws, "gp_list_size", path, "line 4, the last, has no line ending")


def test_list_size_bands_renamed_in_another_year_are_refused(ws, tmp_path):
    lines = head(LIST_SIZE, 3)
    lines[0] = lines[0].replace("Male 75+", "Male 75 & over")
    refused(ws, "gp_list_size", write(tmp_path, LIST_SIZE_NAME, lines),
            "columns not read as age bands: Male 75 & over")
    lines = head(LIST_SIZE, 3)
    lines[0] = lines[0].replace("Female 5-14", "Female 5-15")
    refused(ws, "gp_list_size", write(tmp_path, LIST_SIZE_NAME, lines),
            "female age bands do not run from 0")


def test_ons_wide_file_with_a_column_that_is_not_an_age(ws, tmp_path):
    lines = head(ONS_WIDE, 3)
    lines = [lines[0] + ",laname_21"] + [line + ",Somewhere" for line in lines[1:]]
    refused(ws, "ons_population", write(tmp_path, ONS_WIDE.name, lines),
            "columns that are not ages: laname_21")
    lines = head(ONS_WIDE, 3)
    lines[0] = lines[0].replace("90+", "90 and over")
    refused(ws, "ons_population", write(tmp_path, ONS_WIDE.name, lines), "not ages")


def test_a_renamed_imd_measure_is_refused_not_loaded_as_missing(ws, tmp_path):
    lines = head(IMD_LA, 3)
    lines[0] = lines[0].replace("average_score", "avg_score")
    refused(ws, "imd", write(tmp_path, IMD_LA.name, lines), "missing columns")


def test_qof_with_an_older_map_layout_is_refused(ws, tmp_path):
    prevalence = head(QOF / "PREVALENCE_2223.csv", 3)
    old_map = head(QOF / "MAPPING_NHS_GEOGRAPHIES_2223.csv", 3)
    old_map[0] = old_map[0].replace("SUB_ICB_ODS_CODE", "CCG_ODS_CODE")
    write(tmp_path / "q", "MAPPING_NHS_GEOGRAPHIES_2223.csv", old_map)
    write(tmp_path / "q", "PREVALENCE_2223.csv", prevalence)
    refused(ws, "qof", tmp_path / "q", "SUB_ICB_ODS_CODE")


def test_two_years_in_one_folder_are_named_not_one_loaded(ws, tmp_path):
    prevalence = head(QOF / "PREVALENCE_2223.csv", 3)
    write(tmp_path / "q", "PREVALENCE_2122.csv", prevalence)
    write(tmp_path / "q", "PREVALENCE_2223.csv", prevalence)
    refused(ws, "qof", tmp_path / "q", "2 files match PREVALENCE_")


def test_a_file_that_is_none_of_the_sources_files_is_refused(ws, tmp_path):
    other = write(tmp_path, "gp-reg-pat-prac-sing-age-regions.csv", ["A,B", "1,2"])
    refused(ws, "gp_registered_patients", other, "none of this source's files")


def test_a_cwt_workbook_with_a_changed_layout_is_refused(ws, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "62 Day All Cancer"
    sheet.append(["Period", "Jul-24"])
    sheet.append(["ICB CODE (1)", "ICB NAME", "TOTAL", "WITHIN 62 DAYS"])
    sheet.append(["QE1", "Somewhere ICB", 10, 8])
    wb.save(tmp_path / "cwt.xlsx")
    refused(ws, "cwt", tmp_path / "cwt.xlsx", "no commissioner rows in any sheet")


def test_fingertips_names_periods_and_words_as_other_sources_store_them(ws, tmp_path):
    from carepath.sources.fingertips import period_bounds, slug

    long = "Percentage of deaths in usual place of residence among people aged {}+ years"
    assert slug(long.format(65)) != slug(long.format(85))
    assert len(slug(long.format(65))) <= 60 and slug("Short name") == "short_name"
    assert period_bounds("2019/20") == ("2019-04-01", "2020-03-31")
    assert period_bounds("2017 - 19") == ("2017-01-01", "2019-12-31")
    assert period_bounds("2019") == ("2019-01-01", "2019-12-31")
    trimmed = write(tmp_path, "ft.csv", [
        "indicator,area_code,area_name,period,value",
        f"{long.format(65)},E92000001,England,2019/20,46.1",
        f"{long.format(85)},E92000001,England,2019/20,-"])
    (res,) = load_source(ws, "fingertips", trimmed)  # two indicators, not one repeated
    assert (res.rows_loaded, res.rows_quarantined) == (2, 0)
    export = write(tmp_path, "all_data.csv", [
        "Indicator ID,Indicator Name,Area Code,Area Name,Area Type,Sex,Age,Time period,Value",
        "93476,Deaths at home,E92000001,England,England,Persons,All ages,2017 - 19,24.5",
        "93476,Deaths at home,E92000001,England,England,Female,85+ yrs,2017 - 19,"])
    load_source(ws, "fingertips", export)
    with ws.connect(read_only=True) as con:
        assert set(con.execute("SELECT sex, age, value_state, period_start::VARCHAR, "
                               "period_end::VARCHAR FROM external_indicator_values WHERE "
                               "indicator_id = '93476'").fetchall()) == {
            ("F", "85+ yrs", "missing", "2017-01-01", "2019-12-31"),
            ("all", "all", "published", "2017-01-01", "2019-12-31")}
        assert con.execute("SELECT count(DISTINCT indicator_id), count(value) FROM "
                           "external_indicator_values WHERE indicator_id <> '93476'"
                           ).fetchall() == [(2, 1)]


def test_blank_spreadsheet_rows_are_skipped_and_leap_february_ends_on_the_29th(ws, tmp_path):
    from carepath.sources.cervical_screening import period_end

    assert period_end(Path("coverage_feb2020.csv")) == "2020-02-29"
    assert period_end(Path("coverage_feb2019.csv")) == "2019-02-28"
    lines = head(LIST_SIZE, 3)
    blank = "," * lines[0].count(",")
    path = write(tmp_path, LIST_SIZE_NAME, [lines[0], lines[1], blank, blank, lines[2]])
    results = load_source(ws, "gp_list_size", path)
    assert all(r.rows_quarantined == 0 for r in results)
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM organisations WHERE org_type = 'practice'"
                           ).fetchone()[0] == 2


def test_row_numbers_are_the_files_after_a_blank_line(ws, tmp_path):
    lines = head(LIST_SIZE, 3)
    cells = lines[2].split(",")
    cells[8] = "*"
    path = write(tmp_path, LIST_SIZE_NAME, [lines[0], lines[1], "", ",".join(cells)])
    load_source(ws, "gp_list_size", path)
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT DISTINCT row_number FROM quarantine").fetchall() == [(4,)]


FINGERTIPS_HEADER = "indicator,area_code,area_name,period,value"


@pytest.mark.parametrize("rows, message", [
    # A name's comma unquoted moved every later field along one: stored as indicator '8',
    # period 'NE Somerset' (a bad-input hunt); a short row loaded an indicator 'unnamed'.
    (["Deaths at home,E06000022,Bath, NE Somerset,2019/20,8"],
     "row 2: 6 fields where the header has 5"),
    (["Deaths at home,E06000022,Bath"], "row 2: 3 fields where the header has 5"),
    # A quote left open joined two rows into one and the first was never counted.
    (['Deaths at home,E06000022,"Bath,2019/20,8', "Deaths at home,E06000023,Bristol,2019/20,9"],
     "row 3: "),
    (["Deaths at home,E06000022," + "x" * 200_000 + ",2019/20,8"],
     "row 2: cannot be read as CSV here \\(field larger than field limit"),
])
def test_a_ragged_or_broken_published_row_refuses_the_file_by_row(ws, tmp_path, rows, message):
    refused(ws, "fingertips", write(tmp_path, "ft.csv", [FINGERTIPS_HEADER, *rows]), message)


def test_a_published_header_naming_a_column_twice_is_refused(ws, tmp_path):
    """The second 'value' silently won (every Value 9.0, a bad-input hunt)."""
    path = write(tmp_path, "ft.csv", [FINGERTIPS_HEADER + ",value",
                                      "Deaths at home,E06000022,Bath,2019/20,8,9"])
    refused(ws, "fingertips", path, "row 1: the header names 'value' more than once")


def test_replace_keeps_a_row_whose_replacement_is_quarantined(ws, tmp_path):
    """--replace deleted the old rows by key before validating the new: a bad value in the
    reissued file lost the good one (a bad-input hunt)."""
    rows = ["Deaths at home,E06000022,Bath,2019/20,8", "Deaths at home,E06000023,Bristol,2019/20,9"]
    load_source(ws, "fingertips", write(tmp_path / "a", "ft.csv", [FINGERTIPS_HEADER, *rows]))
    fixed = [rows[0].replace(",8", ",7"), rows[1].replace(",9", ",abc")]
    (res,) = load_source(ws, "fingertips", write(tmp_path / "b", "ft.csv",
                                                 [FINGERTIPS_HEADER, *fixed]), replace=True)
    assert (res.rows_loaded, res.rows_quarantined) == (1, 1)
    assert any("1 rows already in external_indicator_values kept as they were" in w
               for w in res.warnings)
    assert any("1 rows already in external_indicator_values with the same keys replaced" in w
               for w in res.warnings)
    with ws.connect(read_only=True) as con:
        assert sorted(con.execute("SELECT area_code, value FROM external_indicator_values"
                                  ).fetchall()) == [("E06000022", 7.0), ("E06000023", 9.0)]


def test_a_spreadsheets_trailing_empty_columns_are_layout_not_a_ragged_row(ws, tmp_path):
    """Trailing commas a spreadsheet leaves (an empty header cell, an empty field past the
    last column) are read as before; only fields holding something are refused."""
    path = write(tmp_path, "ft.csv", [FINGERTIPS_HEADER + ",,",
                                      "Deaths at home,E06000022,Bath,2019/20,8,,",
                                      "Deaths at home,E06000023,Bristol,2019/20,9",
                                      "Deaths at home,E06000024,Poole,2019/20,7,"])
    (res,) = load_source(ws, "fingertips", path)
    assert (res.rows_loaded, res.rows_quarantined) == (3, 0)
    refused(ws, "fingertips", write(tmp_path / "b", "ft.csv", [
        FINGERTIPS_HEADER, "Deaths at home,E06000022,Bath,2019/20,8,note"]),
        "6 fields where the header has 5")


def test_a_published_file_named_after_a_person_is_logged_masked(ws, tmp_path):
    path = write(tmp_path, "ft_9434765919.csv", [FINGERTIPS_HEADER,
                                                 "Deaths at home,E06000022,Bath,2019/20,8"])
    (res,) = load_source(ws, "fingertips", path)
    assert "9434765919" not in res.summary() and "943*******" in res.summary()
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT source FROM load_log").fetchall() == [
            ("fingertips:ft_943*******.csv",)]
