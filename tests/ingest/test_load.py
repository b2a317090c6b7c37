"""Loads: validation rules, reconciliation, idempotence, pseudonymisation, atomicity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import NHS_A, NHS_B, rows, snapshot, write

from carepath.errors import ValidationError
from carepath.ingest import load_files, load_mapping
from carepath.ingest import loader as loader_module

PATIENTS = "nhs_number,sex,year_of_birth,practice_code,registered_from\n"
KILL_TIMEOUT_S = 60


def load(ws, table, path, **kw):
    return load_files(ws, table, [path], **kw)[0]


def reasons(ws) -> set[tuple[int, str, str]]:
    return set(rows(ws, "SELECT row_number, column_name, reason FROM quarantine"))


# ----- validation rules ------------------------------------------------------------------
def test_types_required_codes_and_ranges(ws_orgs, tmp_path):
    text = (PATIENTS + f"{NHS_A},m,1950,A81001,2015-01-01\n"  # good; code case-folded
            f"{NHS_B},X,1950,A81001,\n"  # bad code
            f"{NHS_B},F,abc,A81001,\n"  # bad int (and a duplicate patient)
            f"{NHS_B},F,1850,A81001,\n"  # below min
            f"{NHS_B},F,1960,,\n")  # required practice missing
    res = load(ws_orgs, "patients", write(tmp_path / "p.csv", text))
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (5, 1, 4)
    got = {(r, c) for r, c, _ in reasons(ws_orgs)}
    assert {(3, "sex"), (4, "year_of_birth"), (5, "year_of_birth"), (6, "practice_code")} <= got
    assert rows(ws_orgs, "SELECT sex FROM patients") == [("M",)]


def test_future_dates_and_date_order(ws_orgs, tmp_path):
    future = (date.today() + timedelta(days=30)).isoformat()
    text = ("admission_id,patient_id,admission_type,admission_date,discharge_date\n"
            f"ad1,p1,elective,2024-01-05,2024-01-07\n"
            f"ad2,p2,emergency,{future},\n"
            f"ad3,p3,emergency,2024-01-05,2024-01-01\n")
    res = load(ws_orgs, "admissions", write(tmp_path / "a.csv", text))
    assert res.rows_loaded == 1
    assert reasons(ws_orgs) >= {(3, "admission_date", "date in the future"),
                                (4, "discharge_date", "discharge_date is before admission_date")}


def test_practice_must_exist_and_be_open_at_the_rows_date(ws_orgs, tmp_path):
    text = ("practice_code,programme,period_end,eligible,screened,suppressed\n"
            "A81001,cervical_25_49,2020-03-31,100,80,false\n"
            "A81002,cervical_25_49,2020-03-31,100,80,false\n"  # closed end of 2019
            "ZZZ999,cervical_25_49,2020-03-31,100,80,false\n")
    res = load(ws_orgs, "screening", write(tmp_path / "s.csv", text))
    assert res.rows_loaded == 1
    got = {(r, why) for r, _c, why in reasons(ws_orgs)}
    assert (3, ("organisation not open on the row's period_end in the organisations loaded "
               "(load a map of that date first, then this table's files again "
               "with --replace, which empties the table first)")) in got
    assert (4, "not found in organisations.org_code") in got


@pytest.mark.parametrize("header", [
    ("tumour_id,patient_id,practice_code,icd10,tumour_group,STG,route,diagnosis_date,stage"),
    ("tumour_id,patient_id,practice_code,icd10,tumour_group,stage,route,diagnosis_date,STG")])
def test_a_mapped_column_wins_over_a_column_of_the_same_name(ws, tmp_path, header):
    """With `stage: STG`, the file's own 'stage' was loaded when it came after STG, STG
    when it came before (an independent check): the mapping says which column it is."""
    values = {"tumour_id": "t1", "patient_id": "p1", "practice_code": "A81001",
              "icd10": "C50", "tumour_group": "breast", "STG": "4", "route": "screening",
              "diagnosis_date": "2023-01-01", "stage": "1"}
    row = ",".join(values[c] for c in header.split(","))
    mapping = load_mapping(write(tmp_path / "m.yaml", "columns: {stage: STG}\n"))
    res = load(ws, "tumours", write(tmp_path / "t.csv", f"{header}\n{row}\n"),
               mapping=mapping)
    assert res.rows_loaded == 1
    assert rows(ws, "SELECT stage FROM tumours") == [("4",)]
    assert any("ignored: stage" in w for w in res.warnings)


def test_replace_says_how_many_rows_it_removed(ws_orgs, tmp_path):
    """It emptied 498 rows another file had loaded and said only "read 2, loaded 2" (an
    independent check)."""
    head = "admission_id,patient_id,admission_type,admission_date\n"
    load(ws_orgs, "admissions", write(tmp_path / "a.csv", head + "".join(
        f"a{i},p1,emergency,2024-01-05\n" for i in range(3))))
    res = load(ws_orgs, "admissions", write(tmp_path / "b.csv", head +
                                            "b1,p1,emergency,2024-01-05\n"), replace=True)
    assert res.warnings[0].startswith("--replace emptied admissions first: its 3 rows")
    assert rows(ws_orgs, "SELECT admission_id FROM admissions") == [("b1",)]
    assert rows(ws_orgs, "SELECT detail FROM audit_log WHERE action = 'replace table'"
                ) == [('{"rows_removed": 3}',)]


def test_an_id_written_as_null_is_missing(ws_orgs, tmp_path):
    """'NULL', 'N/A' and '-' were stored as tumour ids, so tumour_id IS NULL was false for
    them (an independent check)."""
    head = "event_id,patient_id,event_type,event_date,tumour_id\n"
    body = "".join(f"e{i},p1,hna,2024-01-05,{v}\n" for i, v in
                   enumerate(["NULL", "N/A", "-", "none", "t1"]))
    res = load(ws_orgs, "care_events", write(tmp_path / "c.csv", head + body))
    assert res.rows_loaded == 5
    assert rows(ws_orgs, "SELECT count(*) FILTER (WHERE tumour_id IS NULL), "
                         "list(tumour_id) FILTER (WHERE tumour_id IS NOT NULL) "
                         "FROM care_events") == [(4, ["t1"])]
    assert any(w.startswith("4 ids written as NULL") for w in res.warnings)


def test_replace_says_which_rows_now_refer_to_nothing(ws_orgs, tmp_path):
    """Replacing patients with a file of fewer left every tumour of the others pointing at
    no one, unsaid (an independent check)."""
    load(ws_orgs, "patients", write(tmp_path / "p.csv", PATIENTS +
                                    f"{NHS_A},F,1950,A81001,2015-01-01\n"
                                    f"{NHS_B},M,1960,A81001,2015-01-01\n"))
    pid_b = rows(ws_orgs, "SELECT patient_id FROM patients ORDER BY year_of_birth")[1][0]
    load(ws_orgs, "deaths", write(tmp_path / "d.csv",
                                  "patient_id,practice_code,date_of_death,place_of_death\n"
                                  f"{pid_b},A81001,2024-01-01,home\n"))
    res = load(ws_orgs, "patients", write(tmp_path / "p2.csv", PATIENTS +
                                          f"{NHS_A},F,1950,A81001,2015-01-01\n"),
               replace=True)
    assert "deaths: 1 row refers by patient_id to rows patients no longer has" in \
        res.warnings


def test_a_spreadsheet_day_number_is_said_to_be_one(ws_orgs, tmp_path):
    """45352 got the generic date error (an independent check)."""
    text = ("patient_id,practice_code,date_of_death,place_of_death\n"
            "p1,A81001,45352,home\np2,A81001,2024-13-01,home\n")
    res = load(ws_orgs, "deaths", write(tmp_path / "d.csv", text))
    assert res.rows_quarantined == 2
    assert {(r, why.split(":")[0], "day number" in why) for r, _c, why in reasons(ws_orgs)} \
        == {(2, "not a valid date", True),
            (3, "not a valid date (use YYYY-MM-DD, DD/MM/YYYY or 01-Jan-2024)", False)}


def test_a_code_in_the_wrong_case_says_so(ws_orgs, tmp_path):
    """'a81001' read only as not found, where A81001 is there (an independent check)."""
    text = ("patient_id,practice_code,date_of_death,place_of_death\n"
            "p1,a81001,2024-01-01,home\np2,ZZ999,2024-01-01,home\n")
    load(ws_orgs, "deaths", write(tmp_path / "d.csv", text))
    assert {(r, why) for r, _c, why in reasons(ws_orgs)} == {
        (2, ("not found in organisations.org_code as written: it is there in capitals "
             "(codes are compared as written)")),
        (3, "not found in organisations.org_code")}


def test_a_last_line_without_a_line_ending_is_noted(ws_orgs, tmp_path):
    """A file cut short loaded its cut last row without a word (an independent check)."""
    head = "admission_id,patient_id,admission_type,admission_date\n"
    cut = load(ws_orgs, "admissions", write(tmp_path / "a.csv", head +
                                            "a1,p1,emergency,2024-01-05"))
    whole = load(ws_orgs, "admissions", write(tmp_path / "b.csv", head +
                                              "b1,p1,emergency,2024-01-05\r\n"))
    note = "the file's last line has no line ending"
    assert any(w.startswith(note) for w in cut.warnings)
    assert not any(w.startswith(note) for w in whole.warnings)


def test_references_not_checked_are_reported(ws, tmp_path):
    text = ("tumour_id,patient_id,practice_code,icd10,tumour_group,stage,route,diagnosis_date\n"
            "t1,p1,A81001,C50,breast,2,screening,2023-01-01\n")
    res = load(ws, "tumours", write(tmp_path / "t.csv", text))
    assert res.rows_loaded == 1
    assert any("patients not checked" in w for w in res.warnings)


def test_diagnosis_after_death_and_death_before_birth(ws_orgs, tmp_path):
    load(ws_orgs, "patients", write(tmp_path / "p.csv", PATIENTS +
                                    f"{NHS_A},F,1950,A81001,\n{NHS_B},M,1990,A81001,\n"))
    pid_a, pid_b = (r[0] for r in rows(ws_orgs, "SELECT patient_id FROM patients "
                                                "ORDER BY year_of_birth"))
    deaths = ("patient_id,practice_code,date_of_death,place_of_death\n"
              f"{pid_a},A81001,2022-06-30,home\n{pid_b},A81001,1980-01-01,hospital\n")
    load(ws_orgs, "deaths", write(tmp_path / "d.csv", deaths))
    assert (3, "date_of_death", "death before the person's year of birth") in reasons(ws_orgs)
    tumours = ("tumour_id,patient_id,icd10,tumour_group,stage,route,diagnosis_date,"
               "practice_code\n"
               f"t1,{pid_a},C50.9,breast,2,screening,2022-01-01,A81001\n"
               f"t2,{pid_a},C34,lung,4,emergency,2022-07-15,A81001\n"
               f"t3,{pid_a},50C,lung,4,emergency,2022-01-15,A81001\n")
    res = load(ws_orgs, "tumours", write(tmp_path / "t.csv", tumours))
    assert res.rows_loaded == 1
    assert reasons(ws_orgs) >= {
        (3, "diagnosis_date", "diagnosis after the person's date of death"),
        (4, "icd10", "not an ICD-10 code like C50 or C50.9")}


def test_duplicates_against_rows_already_loaded(ws_orgs, tmp_path):
    text = "org_code,name,org_type,valid_from\nA81001,Again,practice,2010-01-01\n"
    res = load(ws_orgs, "organisations", write(tmp_path / "again.csv", text))
    assert res.rows_quarantined == 1
    assert "already in organisations" in rows(ws_orgs, "SELECT reason FROM quarantine")[0][0]


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_repeated_keys_are_caught_within_and_across_chunks(ws_orgs, tmp_path, monkeypatch,
                                                           chunk_rows):
    # Rows 2-3 and 5 repeat keys: within a chunk, across chunks, and one already loaded.
    monkeypatch.setattr(loader_module, "CHUNK_ROWS", chunk_rows)
    text = ("admission_id,patient_id,admission_type,admission_date\n"
            "ad1,p1,elective,2024-01-05\n"
            "ad1,p1,elective,2024-01-06\n"
            "ad2,p2,emergency,2024-01-05\n"
            "ad1,p3,emergency,2024-02-01\n")
    first = load(ws_orgs, "admissions", write(tmp_path / "a.csv", text))
    assert (first.rows_loaded, first.rows_quarantined) == (2, 2)
    assert {r for r, _, _ in reasons(ws_orgs)} == {3, 5}
    more = load(ws_orgs, "admissions", write(tmp_path / "b.csv", text.replace(
        "ad2,p2,emergency,2024-01-05", "ad3,p2,emergency,2024-01-05")))
    assert (more.rows_loaded, more.rows_quarantined) == (1, 3)
    assert rows(ws_orgs, "SELECT admission_id, count(*) FROM admissions GROUP BY 1 ORDER BY 1"
                ) == [("ad1", 1), ("ad2", 1), ("ad3", 1)]


def test_values_are_trimmed_of_spaces_and_no_break_spaces(ws_orgs, tmp_path):
    text = ("admission_id,patient_id,admission_type,admission_date\n"
            "  ad1 ,\u00a0p1\u00a0, Emergency ,2024-01-05 \n")
    res = load(ws_orgs, "admissions", write(tmp_path / "a.csv", text))
    assert res.rows_loaded == 1
    assert rows(ws_orgs, "SELECT admission_id, patient_id, admission_type, admission_date "
                         "FROM admissions") == [("ad1", "p1", "emergency", date(2024, 1, 5))]


# ----- pseudonymisation ------------------------------------------------------------------
def test_an_nhs_number_in_free_text_is_stored_masked(ws_orgs, tmp_path):
    """An organisation's name (which the public pages show) and an HNA concern stored a
    number typed into them as it was (an independent check)."""
    text = ("org_code,name,org_type,valid_from\n"
            "A81009,Surgery of 943 476 5919,practice,2010-01-01\n"
            "A81010,Plain Surgery,practice,2010-01-01\n")
    res = load(ws_orgs, "organisations", write(tmp_path / "o.csv", text))
    assert res.rows_loaded == 2
    assert any("1 value of free text held what looks like an NHS number" in w
               for w in res.warnings)
    assert rows(ws_orgs, "SELECT name FROM organisations WHERE org_code IN "
                         "('A81009', 'A81010') ORDER BY 1") == [
        ("Plain Surgery",), ("Surgery of 943*******",)]


def test_a_decorated_nhs_number_in_a_pseudonym_column_is_refused(ws_orgs, tmp_path):
    """A spreadsheet's float, a text marker, a formula's quotes, wide gaps, em dashes and
    full-width digits in patient_id (and any number in respondent_id) were stored as they
    were (an independent check)."""
    wide = "".join(chr(0xFF10 + int(d)) for d in NHS_A)
    raw = [f"{NHS_A}.0", f"'{NHS_A}", f'"=""{NHS_A}"""', "943   476   5919",
           "943\u2014476\u20145919", wide]
    text = "admission_id,patient_id,admission_type,admission_date\n" + "".join(
        f"ad{i},{v},emergency,2024-01-05\n" for i, v in enumerate(raw)) + \
        "ok,p1a2b3c4d5e6f7a8b,emergency,2024-01-05\n"
    res = load(ws_orgs, "admissions", write(tmp_path / "a.csv", text))
    assert (res.rows_loaded, res.rows_quarantined) == (1, len(raw))
    assert {reason for _, _, reason in reasons(ws_orgs)} == {
        ("patient_id looks like an NHS number; map the column to nhs_number so it is "
         "pseudonymised")}
    shown = " ".join(v for (v,) in rows(ws_orgs, "SELECT masked_value FROM quarantine"))
    assert "765" not in shown and "5919" not in shown.replace("\uff15", "")
    survey = ("survey,respondent_id,org_code,question_id,positive,response_date\n"
              f"cpes,{NHS_B},RTH,Q1,true,2024-01-01\n")
    res = load(ws_orgs, "survey_responses", write(tmp_path / "s.csv", survey))
    assert res.rows_quarantined == 1
    assert rows(ws_orgs, "SELECT count(*) FROM survey_responses") == [(0,)]


def test_nhs_numbers_become_the_same_pseudonym_and_are_never_stored(ws_orgs, tmp_path):
    load(ws_orgs, "patients", write(tmp_path / "p.csv", PATIENTS +
                                    f"{NHS_A[:3]} {NHS_A[3:6]} {NHS_A[6:]},F,1950,A81001,\n"))
    text = ("event_id,nhs_number,event_type,event_date\n"
            f"e1,{NHS_A},hna,2023-01-01\ne2,{NHS_B[:-1]}0,hna,2023-01-01\n")
    load(ws_orgs, "care_events", write(tmp_path / "e.csv", text))
    pid = rows(ws_orgs, "SELECT patient_id FROM patients")[0][0]
    assert rows(ws_orgs, "SELECT patient_id FROM care_events") == [(pid,)]
    dump = json.dumps(snapshot(ws_orgs))
    assert NHS_A not in dump and NHS_B[:-1] not in dump
    assert ws_orgs.secret_path.stat().st_mode & 0o777 == 0o600  # the key, outside the db
    raw = (ws_orgs.path / "carepath.duckdb").read_bytes()
    assert NHS_A.encode() not in raw and NHS_B[:-1].encode() not in raw


def test_a_raw_nhs_number_in_patient_id_is_refused(ws_orgs, tmp_path):
    text = f"patient_id,sex,year_of_birth,practice_code\n{NHS_A},F,1950,A81001\n"
    res = load(ws_orgs, "patients", write(tmp_path / "p.csv", text))
    assert res.rows_quarantined == 1
    assert rows(ws_orgs, "SELECT column_name, masked_value FROM quarantine") == [
        ("patient_id", "943*******")]
    assert NHS_A not in json.dumps(snapshot(ws_orgs))


def test_a_mistyped_nhs_number_in_patient_id_is_refused_too(ws_orgs, tmp_path):
    typo = NHS_A[:-1] + "8"  # fails the check digit, still points at a person
    text = f"patient_id,sex,year_of_birth,practice_code\n{typo},F,1950,A81001\n"
    res = load(ws_orgs, "patients", write(tmp_path / "p.csv", text))
    assert res.rows_quarantined == 1
    assert typo not in json.dumps(snapshot(ws_orgs))


def test_an_nhs_number_in_any_other_column_is_masked_where_shown(ws_orgs, tmp_path):
    """A number typed into the wrong column is quarantined, and the quarantine shows it
    masked (it stored it whole), grouped or not, inside other text or alone."""
    text = ("tumour_id,patient_id,diagnosis_date,icd10,tumour_group,stage,route,"
            "practice_code\n"
            f"t1,p1,2023-01-01,{NHS_A},breast,1,emergency,A81001\n"
            f"t2,p1,2023-01-01,C50,breast,9 {NHS_B[:3]} {NHS_B[3:6]} {NHS_B[6:]},emergency,"
            "A81001\n")
    res = load(ws_orgs, "tumours", write(tmp_path / "t.csv", text))
    assert res.rows_quarantined == 2
    shown = sorted(v for (v,) in rows(ws_orgs, "SELECT masked_value FROM quarantine"))
    assert shown == ["9 401*******", "943*******"]
    dump = json.dumps(snapshot(ws_orgs))
    assert NHS_A not in dump and NHS_B[3:6] + " " + NHS_B[6:] not in dump


# ----- mapping files ---------------------------------------------------------------------
def test_mapping_renames_columns_maps_codes_and_sets_constants(ws_orgs, tmp_path):
    mapping = write(tmp_path / "map.yaml", textwrap.dedent("""
        table: tumours
        columns: {tumour_id: TUMOUR_REF, nhs_number: NHS_NO, diagnosis_date: DIAG_DT,
                  icd10: SITE, tumour_group: GROUP, stage: STG, practice_code: GP}
        codes: {stage: {"I": "1", "IV": "4", "X": "U"}}
        constants: {route: unknown}
        csv: {delimiter: ";"}
    """))
    # Their codes in any letter case, as our own code lists are read.
    text = (f"TUMOUR_REF;NHS_NO;DIAG_DT;SITE;GROUP;STG;GP\n"
            f"T1;{NHS_A};03/02/2023;C50;breast;iv;A81001\nT2;{NHS_B};2023-02-03;C34;lung;X;A81001\n")
    res = load(ws_orgs, "tumours", write(tmp_path / "reg.csv", text),
               mapping=load_mapping(mapping))
    assert res.rows_loaded == 2
    assert rows(ws_orgs, "SELECT stage, route, diagnosis_date::VARCHAR FROM tumours ORDER BY 1"
                ) == [("4", "unknown", "2023-02-03"), ("U", "unknown", "2023-02-03")]


def test_one_code_in_two_cases_mapped_alike_is_fine(tmp_path):
    mapping = load_mapping(write(tmp_path / "m.yaml", "codes: {sex: {M: M, m: M}}\n"))
    mapping.check_against({"sex"})
    assert mapping.code_for("sex") == {"m": "M"}


def test_an_empty_code_in_a_mapping_is_refused_not_stored_as_none(tmp_path):
    with pytest.raises(ValidationError, match="codes.stage.I: empty") as info:
        load_mapping(write(tmp_path / "m.yaml", "codes: {stage: {I: ~, II: '2'}}\n"))
    assert "m.yaml" in str(info.value)


def test_mapping_errors_name_the_file(ws, tmp_path):
    with pytest.raises(ValidationError, match="map.yaml"):
        load_mapping(write(tmp_path / "map.yaml", "columns: [oops\n"))
    with pytest.raises(ValidationError, match="colums"):
        load_mapping(write(tmp_path / "map.yaml", "colums: {}\n"))
    with pytest.raises(ValidationError, match="mapping is for table"):
        load_files(ws, "patients", [write(tmp_path / "x.csv", "a\n")],
                   mapping=load_mapping(write(tmp_path / "m2.yaml", "table: deaths\n")))


@pytest.mark.parametrize("text, message", [
    ("columns: {decision_to_treat: DTT}", "columns: decision_to_treat not a column"),
    ("codes: {stag: {I: '1'}}", "codes: stag not a column"),
    ("constants: {age_at_diagnosys: '1'}", "constants: age_at_diagnosys not a column"),
    ("columns: {surname: GRP, tumour_group: GRP}", "surname not a column"),
    ("columns: {icd10: GRP, tumour_group: grp}", "icd10 and tumour_group both read 'grp'"),
    # From a bad-input hunt: a constant stored a raw NHS number as every row's person; the
    # others settled a conflict silently and changed the data.
    ("constants: {patient_id: '3562301235'}", "patient_id cannot be a constant"),
    ("constants: {nhs_number: '3562301235'}", "nhs_number cannot be a constant"),
    ("constants: {icd10: 'C50 356 230 1235'}", "icd10 holds what looks like an NHS number"),
    ("columns: {route: RTE}\nconstants: {route: unknown}", "route also read from the file"),
    ("codes: {stage: {I: '1', i: '2'}}", "'I' and 'i' are the same code"),
    ("codes: {icd10: {X: '943 476 5919'}}", "'X' maps to what looks like an NHS number"),
])
def test_a_mapping_typo_is_refused_not_ignored(ws, tmp_path, text, message):
    with pytest.raises(ValidationError, match=message) as info:
        load_files(ws, "tumours", [write(tmp_path / "x.csv", "a\n")],
                   mapping=load_mapping(write(tmp_path / "m.yaml", text + "\n")))
    assert "--mapping" in str(info.value)


# ----- reconciliation, idempotence, strictness -------------------------------------------
ORG_ROW = st.tuples(st.sampled_from(["A1", "A2", "A3", "", "B1"]),
                    st.sampled_from(["practice", "pcn", "planet", ""]),
                    st.sampled_from(["2020-01-01", "01/02/2021", "2021-02-30", ""]))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ORG_ROW, max_size=12))
def test_read_is_always_loaded_plus_quarantined(tmp_path_factory, data):
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("h") / "ws")
    text = "org_code,name,org_type,valid_from\n" + "".join(
        f"{c},n,{t},{d}\n" for c, t, d in data)
    res = load(ws, "organisations", write(ws.path / "o.csv", text))
    assert res.rows_read == len(data) == res.rows_loaded + res.rows_quarantined
    log = rows(ws, "SELECT rows_read, rows_loaded, rows_quarantined FROM load_log")
    assert log == [(res.rows_read, res.rows_loaded, res.rows_quarantined)]
    assert rows(ws, "SELECT count(DISTINCT row_number) FROM quarantine")[0][0] == \
        res.rows_quarantined
    assert rows(ws, "SELECT count(*) FROM organisations")[0][0] == res.rows_loaded


def test_same_file_twice_is_a_no_op_unless_replace(ws_orgs, tmp_path):
    path = write(tmp_path / "o2.csv", "org_code,name,org_type,valid_from\nQ1,Q,icb,2020-01-01\n")
    first = load(ws_orgs, "organisations", path)
    before = snapshot(ws_orgs)
    again = load(ws_orgs, "organisations", path)
    assert again.skipped and again.load_id == first.load_id
    assert snapshot(ws_orgs) == before
    # What it did then, so a file all quarantined then is not read as loaded (a user test).
    assert f"(load {first.load_id}: loaded 1, quarantined 0)" in again.summary()
    replaced = load(ws_orgs, "organisations", path, replace=True)
    assert not replaced.skipped and replaced.rows_loaded == 1
    assert rows(ws_orgs, "SELECT count(*) FROM organisations") == [(1,)]


def test_a_file_whose_rows_a_replace_removed_loads_again(ws_orgs, tmp_path):
    """load A; load B --replace (A's rows gone); load A: A's rows come back. It said
    'already loaded; nothing to do' and A's rows stayed lost."""
    header = "org_code,name,org_type,valid_from\n"
    a = write(tmp_path / "a.csv", header + "QA,A,icb,2020-01-01\n")
    b = write(tmp_path / "b.csv", header + "QB,B,icb,2020-01-01\n")
    load(ws_orgs, "organisations", a)
    load(ws_orgs, "organisations", b, replace=True)
    again = load(ws_orgs, "organisations", a)
    assert not again.skipped and again.rows_loaded == 1
    assert rows(ws_orgs, "SELECT org_code FROM organisations ORDER BY 1") == [("QA",), ("QB",)]
    # ...and B, loaded by the replace itself, is still a no-op.
    assert load(ws_orgs, "organisations", b).skipped


def test_strict_and_max_errors_load_nothing(ws_orgs, tmp_path):
    text = ("org_code,name,org_type,valid_from\nQ1,Q,icb,2020-01-01\nQ2,Q,bad,2020-01-01\n"
            "Q3,Q,bad,2020-01-01\n")
    path = write(tmp_path / "s.csv", text)
    before = snapshot(ws_orgs)
    with pytest.raises(ValidationError, match=r"row 3, column org_type \('bad'\)"):
        load(ws_orgs, "organisations", path, strict=True)
    with pytest.raises(ValidationError, match="--max-errors 1"):
        load(ws_orgs, "organisations", path, max_errors=1)
    assert snapshot(ws_orgs) == before
    assert load(ws_orgs, "organisations", path, max_errors=2).rows_loaded == 1


def test_log_and_audit_rows_are_written_with_the_data(ws, tmp_path):
    res = load(ws, "organisations", write(tmp_path / "o.csv",
                                          "org_code,name,org_type,valid_from\nQ1,Q,icb,2020-01-01\n"))
    (detail,) = rows(ws, "SELECT detail FROM audit_log WHERE action = 'load'")[0]
    assert json.loads(detail)["load_id"] == res.load_id
    assert rows(ws, "SELECT file_hash FROM load_log") == [(res.file_hash,)]


# ----- nothing half-written --------------------------------------------------------------
def test_an_exception_mid_load_leaves_the_workspace_unchanged(ws_orgs, tmp_path, monkeypatch):
    good = write(tmp_path / "g.csv", "org_code,name,org_type,valid_from\nQ1,Q,icb,2020-01-01\n")
    other = write(tmp_path / "h.csv", "org_code,name,org_type,valid_from\nQ2,Q,icb,2020-01-01\n")
    before = snapshot(ws_orgs)

    def boom(results):
        assert results[0].rows_loaded == 1  # the first file's rows were written
        raise RuntimeError("power cut")

    monkeypatch.setattr(loader_module, "_before_commit", boom)
    with pytest.raises(RuntimeError):
        load_files(ws_orgs, "organisations", [good, other])
    assert snapshot(ws_orgs) == before


KILL_SCRIPT = """
import sys, time
from carepath.ingest import loader
from carepath.workspace import Workspace

def pause(results):
    print("WRITTEN", results[0].rows_loaded, flush=True)
    time.sleep(600)

loader._before_commit = pause
loader.load_files(Workspace.open(sys.argv[1]), "organisations", [sys.argv[2]])
"""


def test_a_killed_load_leaves_the_workspace_unchanged(ws_orgs, tmp_path):
    lines = "".join(f"K{i},Name {i},practice,2020-01-01\n" for i in range(5000))
    path = write(tmp_path / "big.csv", "org_code,name,org_type,valid_from\n" + lines)
    before = snapshot(ws_orgs)
    script = write(tmp_path / "kill.py", KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(ws_orgs.path), str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.split() == ["WRITTEN", "5000"], line
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(KILL_TIMEOUT_S)
        proc.stdout.close()
    assert snapshot(ws_orgs) == before
    # The workspace is usable afterwards and the same file loads in full.
    assert load(ws_orgs, "organisations", path).rows_loaded == 5000


def test_readers_in_the_same_process_never_see_a_half_done_load(ws_orgs, tmp_path,
                                                                 monkeypatch):
    """How `carepath serve` and a load coexist: DuckDB gives each reader a committed
    snapshot, so a page served during a load sees the workspace as it was before it."""
    import duckdb

    seen = {}

    def peek(results):
        reader = duckdb.connect(str(ws_orgs.db_path))  # same process: same database
        try:
            seen["orgs"] = reader.execute("SELECT count(*) FROM organisations").fetchone()[0]
            seen["logs"] = reader.execute("SELECT count(*) FROM load_log").fetchone()[0]
        finally:
            reader.close()

    monkeypatch.setattr(loader_module, "_before_commit", peek)
    path = write(tmp_path / "n.csv", "org_code,name,org_type,valid_from\nN1,N,icb,2020-01-01\n")
    load(ws_orgs, "organisations", path)
    assert seen == {"orgs": 3, "logs": 1}
    assert rows(ws_orgs, "SELECT count(*) FROM organisations") == [(4,)]


HOLD_SCRIPT = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # like `carepath serve`: holds the file read-write
print("HOLDING", flush=True)
time.sleep(600)
"""


def test_a_load_from_another_process_while_serving_is_refused_cleanly(ws_orgs, tmp_path):
    from carepath.errors import WorkspaceError

    path = write(tmp_path / "s.csv", "org_code,name,org_type,valid_from\nS1,S,icb,2020-01-01\n")
    script = write(tmp_path / "hold.py", HOLD_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(ws_orgs.db_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "HOLDING"
        with pytest.raises(WorkspaceError, match="cannot open the database"):
            load(ws_orgs, "organisations", path)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(KILL_TIMEOUT_S)
        proc.stdout.close()
    assert load(ws_orgs, "organisations", path).rows_loaded == 1


def test_a_later_map_closes_the_links_it_supersedes(ws, tmp_path):
    """One parent of each type at a time: a practice moved to another PCN by a later map
    leaves the earlier PCN the day before, and a link already closed is kept as given."""
    header = "child_code,parent_code,parent_type,valid_from,valid_to\n"
    load(ws, "org_hierarchy", write(tmp_path / "h1.csv", header +
         "A81001,P1,pcn,2019-07-01,\nA81001,S1,sub_icb,2019-07-01,\n"
         "A81002,P1,pcn,2019-07-01,2021-03-31\n"))
    later = load(ws, "org_hierarchy", write(tmp_path / "h2.csv", header +
                 "A81001,P2,pcn,2023-04-01,\nA81001,S1,sub_icb,2023-04-01,\n"
                 "A81002,P2,pcn,2023-04-01,\n"))
    assert any("2 earlier links closed" in w for w in later.warnings)
    links = rows(ws, "SELECT child_code, parent_code, parent_type, valid_from::VARCHAR, "
                     "valid_to::VARCHAR FROM org_hierarchy ORDER BY ALL")
    assert links == [
        ("A81001", "P1", "pcn", "2019-07-01", "2023-03-31"),
        ("A81001", "P2", "pcn", "2023-04-01", None),
        ("A81001", "S1", "sub_icb", "2019-07-01", "2023-03-31"),
        ("A81001", "S1", "sub_icb", "2023-04-01", None),
        ("A81002", "P1", "pcn", "2019-07-01", "2021-03-31"),
        ("A81002", "P2", "pcn", "2023-04-01", None)]


def test_the_load_log_lists_the_files_of_a_load_in_their_order(ws, tmp_path):
    """They came in the order of their random load ids (found by a user test)."""
    from carepath.ingest.quarantine import load_log

    names = [f"f{i}.csv" for i in range(8)]
    files = [write(tmp_path / n, "event_id,patient_id,event_type,event_date\n" + f"E{i},P1,hna,2024-01-01\n")
             for i, n in enumerate(names)]
    load_files(ws, "care_events", files)
    assert [row for entry in load_log(ws) for row in entry
            if str(row).endswith(".csv")] == [str(f.absolute()) for f in files]
    # A load a --replace emptied is said to be superseded (it still read 'loaded 1')
    assert all(entry[-1] for entry in load_log(ws))
    load_files(ws, "care_events", files[:1], replace=True)
    assert [entry[-1] for entry in load_log(ws)] == [False] * 8 + [True]
