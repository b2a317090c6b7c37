"""Every generated table obeys the data model: required values, code lists, ranges,
references and keys."""

from __future__ import annotations

import pytest

from carepath.model.schema import DATA_TABLES, table

# The tables the generator fills (the core data model of issue 2).
FILLED = ("organisations", "org_hierarchy", "registered_population", "patients", "referrals",
          "tumours", "treatments", "care_events", "hna_concerns", "eol_register", "preferences",
          "admissions", "deaths", "screening", "survey_responses", "services", "service_payers",
          "coproduction_workstreams", "coproduction_events", "coproduction_participants",
          "pledges", "codesigned_outcomes", "area_deprivation", "external_indicator_values",
          "published_population")
# Links the schema does not declare as references but the pathway implies.
EXTRA_REFERENCES = (("referrals", "tumour_id", "tumours", "tumour_id"),
                    ("care_events", "provider_code", "organisations", "org_code"),
                    ("org_hierarchy", "child_code", "organisations", "org_code"),
                    ("org_hierarchy", "parent_code", "organisations", "org_code"))


def _scalar(ws, sql):
    with ws.connect(read_only=True) as con:
        return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("name", FILLED)
def test_table_is_filled(wessex, name):
    assert _scalar(wessex.workspace, f'SELECT count(*) FROM "{name}"') > 0
    assert wessex.rows[name] == _scalar(wessex.workspace, f'SELECT count(*) FROM "{name}"')


def _columns(predicate):
    return [(t.name, c) for t in DATA_TABLES if t.name in FILLED for c in t.columns
            if predicate(c)]


@pytest.mark.parametrize(("name", "col"), _columns(lambda c: c.required),
                         ids=lambda v: getattr(v, "name", v))
def test_required_columns_have_values(wessex, name, col):
    assert _scalar(wessex.workspace,
                   f'SELECT count(*) FROM "{name}" WHERE "{col.name}" IS NULL') == 0


@pytest.mark.parametrize(("name", "col"), _columns(lambda c: c.codes is not None),
                         ids=lambda v: getattr(v, "name", v))
def test_coded_columns_use_the_code_list(wessex, name, col):
    allowed = ", ".join(f"'{v}'" for v in col.codes)
    bad = _scalar(wessex.workspace, f'SELECT count(*) FROM "{name}" WHERE "{col.name}" IS NOT '
                                    f'NULL AND "{col.name}"::VARCHAR NOT IN ({allowed})')
    assert bad == 0


@pytest.mark.parametrize(("name", "col"),
                         _columns(lambda c: c.min is not None or c.max is not None),
                         ids=lambda v: getattr(v, "name", v))
def test_ranges(wessex, name, col):
    lo = -1e18 if col.min is None else col.min
    hi = 1e18 if col.max is None else col.max
    bad = _scalar(wessex.workspace, f'SELECT count(*) FROM "{name}" WHERE "{col.name}" < {lo} '
                                    f'OR "{col.name}" > {hi}')
    assert bad == 0


def _references():
    declared = [(t, c.name, *c.references.split(".")) for t, c in
                _columns(lambda c: c.references is not None)]
    return declared + list(EXTRA_REFERENCES)


@pytest.mark.parametrize(("name", "col", "ref_table", "ref_col"), _references())
def test_references_resolve(wessex, name, col, ref_table, ref_col):
    bad = _scalar(wessex.workspace,
                  f'SELECT count(*) FROM "{name}" x WHERE x."{col}" IS NOT NULL AND NOT EXISTS '
                  f'(SELECT 1 FROM "{ref_table}" r WHERE r."{ref_col}" = x."{col}")')
    assert bad == 0


@pytest.mark.parametrize("name", [n for n in FILLED if table(n).key])
def test_keys_are_unique(wessex, name):
    key = ", ".join(f'"{k}"' for k in table(name).key)
    dupes = _scalar(wessex.workspace, f'SELECT count(*) FROM (SELECT {key} FROM "{name}" '
                                      f'GROUP BY ALL HAVING count(*) > 1)')
    assert dupes == 0


def test_pathway_dates_are_in_order(wessex):
    ws = wessex.workspace
    assert _scalar(ws, "SELECT count(*) FROM referrals WHERE first_seen_date < referral_date "
                       "OR faster_diagnosis_date < first_seen_date") == 0
    assert _scalar(ws, "SELECT count(*) FROM treatments x JOIN tumours t USING (tumour_id) "
                       "WHERE x.start_date < t.diagnosis_date") == 0
    assert _scalar(ws, "SELECT count(*) FROM deaths d JOIN tumours t USING (patient_id) "
                       "WHERE d.date_of_death < t.diagnosis_date") == 0
    assert _scalar(ws, "SELECT count(*) FROM admissions WHERE discharge_date < admission_date "
                       "OR bed_days <> discharge_date - admission_date") == 0
    assert _scalar(ws, "SELECT count(*) FROM eol_register r JOIN deaths d USING (patient_id) "
                       "WHERE r.entry_date > d.date_of_death") == 0


def test_people_are_consistent_across_tables(wessex):
    ws = wessex.workspace
    # A tumour's practice and sex are the patient's; ages agree with the year of birth.
    # The year of an event less the year of birth is the age then, or one more.
    assert _scalar(ws, "SELECT count(*) FROM tumours t JOIN patients p USING (patient_id) "
                       "WHERE t.practice_code <> p.practice_code OR year(t.diagnosis_date) "
                       "- p.year_of_birth - t.age_at_diagnosis NOT IN (0, 1)") == 0
    assert _scalar(ws, "SELECT count(*) FROM deaths d JOIN patients p USING (patient_id) "
                       "WHERE year(d.date_of_death) - p.year_of_birth - d.age_at_death "
                       "NOT IN (0, 1)") == 0
    # The dead are no longer registered; the living have no end date.
    assert _scalar(ws, "SELECT count(*) FROM deaths d JOIN patients p USING (patient_id) "
                       "WHERE p.registered_to IS DISTINCT FROM d.date_of_death") == 0
    assert _scalar(ws, "SELECT count(*) FROM patients WHERE registered_to IS NOT NULL AND "
                       "patient_id NOT IN (SELECT patient_id FROM deaths)") == 0
    # Female-only and male-only sites match sex.
    assert _scalar(ws, "SELECT count(*) FROM tumours t JOIN patients p USING (patient_id) "
                       "WHERE (icd10 IN ('C61', 'C62') AND p.sex = 'F') OR (icd10 IN ('C53', "
                       "'C54', 'C56', 'C51') AND p.sex = 'M')") == 0


def test_every_practice_has_one_parent_per_level(wessex):
    ws = wessex.workspace
    sql = ("SELECT count(*) FROM (SELECT child_code, parent_type FROM org_hierarchy h JOIN "
           "organisations o ON o.org_code = h.child_code WHERE o.org_type = 'practice' AND "
           "h.valid_to IS NULL GROUP BY ALL HAVING count(*) <> 1)")
    assert _scalar(ws, sql) == 0
    levels = _scalar(ws, "SELECT count(DISTINCT parent_type) FROM org_hierarchy h JOIN "
                         "organisations o ON o.org_code = h.child_code WHERE o.org_type = "
                         "'practice'")
    assert levels == 7  # pcn, locality, sub_icb, icb, cancer_alliance, region, england


def test_geography_matches_the_brief(wessex):
    ws = wessex.workspace
    with ws.connect(read_only=True) as con:
        counts = dict(con.execute("SELECT org_type, count(*) FROM organisations GROUP BY 1")
                      .fetchall())
        people = con.execute("SELECT sum(population) FROM registered_population WHERE "
                             "quarter_start = (SELECT max(quarter_start) FROM "
                             "registered_population)").fetchone()[0]
        sizes = con.execute("SELECT min(n), max(n) FROM (SELECT practice_code, sum(population) n "
                            "FROM registered_population GROUP BY practice_code, quarter_start)").fetchone()
    assert counts["locality"] == 13 and counts["trust"] == 2 and counts["hospice"] == 1
    assert 80 <= counts["practice"] <= 100
    assert abs(people - 780_000) < 10_000
    assert sizes[0] >= 1_300 and sizes[1] <= 31_000


def test_every_survey_kind_is_answered(wessex):
    with wessex.workspace.connect(read_only=True) as con:
        got = {r[0] for r in con.execute("SELECT DISTINCT survey FROM survey_responses").fetchall()}
    assert {"cpes", "voices", "local_prem"} <= got


def test_payer_shares_sum_to_one(wessex):
    bad = _scalar(wessex.workspace, "SELECT count(*) FROM (SELECT service_id, year, sum(share) "
                                    "s FROM service_payers GROUP BY 1, 2) WHERE abs(s - 1) > "
                                    "1e-9")
    assert bad == 0
    unpaid = _scalar(wessex.workspace, "SELECT count(*) FROM services s ANTI JOIN "
                                       "service_payers p USING (service_id, year)")
    assert unpaid == 0  # every service's every year has its payers


def test_load_log_and_audit(wessex):
    ws = wessex.workspace
    with ws.connect(read_only=True) as con:
        logged = dict(con.execute("SELECT table_name, rows_loaded FROM load_log WHERE source = "
                                  "'synth:7'").fetchall())
        audit = con.execute("SELECT count(*) FROM audit_log WHERE action = 'synth'").fetchone()[0]
    assert logged == wessex.rows
    assert audit == 1
