"""Definitions: the library validates, and bad files are rejected with file, field, token."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from carepath.errors import ValidationError
from carepath.indicators.definition import from_mapping, load_file
from carepath.indicators.library import LIBRARY_DIR, builtin, load_dir, load_library

GOOD = LIBRARY_DIR / "early_stage_known.yaml"


def test_library_has_at_least_thirty_governed_indicators():
    library = builtin()
    assert len(library) >= 30
    for d in library.values():
        assert d.why and d.governance.source and d.governance.checked_by
        assert d.governance.next_review > d.governance.reviewed


def test_two_early_stage_versions_have_different_ids_and_denominators():
    library = builtin()
    known, all_ = library["early_stage_known"], library["early_stage_all"]
    # D9 counts 21 sites over known stages; D9b ten cancers, unknown stage included.
    for d in (known, all_):
        assert d.numerator.where.endswith("stage in ('1', '2')")
    assert known.denominator.where.endswith("stage in ('1', '2', '3', '4')")
    assert "stage" not in all_.denominator.where
    assert "'C73'" in known.numerator.where and "'C73'" not in all_.numerator.where


def test_content_hash_changes_with_content():
    d = builtin()["early_stage_known"]
    assert d.content_hash() != d.model_copy(update={"version": "3"}).content_hash()


def _write(tmp_path, change, name="early_stage_known"):
    data = yaml.safe_load(GOOD.read_text())
    change(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("change, where, message", [
    (lambda d: d["numerator"].update(where="stge = '1'"), "numerator.where", "'stge'"),
    (lambda d: d["numerator"].update(table="tumors"), "numerator.table", "unknown table"),
    (lambda d: d["numerator"].update(where="stage in ('I', 'II')"), "numerator.where",
     "'I' is not a code of stage"),
    (lambda d: d.update(breakdowns=["sex"]) or d["numerator"].update(
        table="referrals", date="first_seen_date", where="referral_type = 'usc'"),
     "numerator", "must count tumours by diagnosis_date as the denominator does"),
    (lambda d: d["numerator"].update(date="stage"), "numerator.date", "not a date"),
    (lambda d: d.update(period="fortnight"), "period", "Input should be .*got 'fortnight'"),
    (lambda d: d.update(statistic="dsr"), "denominator", "population denominator"),
    (lambda d: d.update(breakdowns=["postcode"]), "breakdowns", "got 'postcode'"),
    (lambda d: d.update(breakdowns=["sex", "sex"]), "breakdowns", "sex listed more than once"),
    (lambda d: d["numerator"].update(date="period_start"), "numerator.date", "not a date"),
    (lambda d: d["numerator"].update(value="distinct:period_end"), "numerator.value",
     "'distinct:<column>'"),
    (lambda d: d.update(attribution_column="period_end"), "numerator.table",
     "no attribution column 'period_end'"),
    (lambda d: d.update(colour="red"), "colour", "Extra inputs"),
    (lambda d: d.update(multiplier=-100), "multiplier", "greater than 0; got -100"),
    (lambda d: d.update(title="  "), "title", "should match pattern"),
    (lambda d: d.update(disclosure={"min_denominator": -5}), "disclosure.min_denominator",
     "greater than or equal to 0"),
    (lambda d: d["governance"].update(next_review="2020-01-01"), "governance",
     "next_review 2020-01-01 is before reviewed"),
    # Accepted and then ignored, each once changed nothing while `show` said it did:
    (lambda d: d.update(population_base="resident"), "population_base", "not available yet"),
    (lambda d: d.update(statistic="count"), "denominator", "a count has no denominator"),
    (lambda d: d.update(confidence=[0.95]), "confidence", "lists both 0.95 and 0.998"),
    # Found by a user test: 1.10 read as 1.1 without a word, and a target of .nan taken.
    (lambda d: d.update(version=1.10), "version", "quote it, version: '1.10'"),
    (lambda d: d.update(targets=[{"value": float("nan"), "label": "x"}]), "targets.0.value",
     "finite number"),
    # From a bad-input hunt: each passed `check`, then failed in compute or was ignored.
    (lambda d: d.update(follow_up_days=3_000_000), "follow_up_days", "less than or equal to 36525"),
    (lambda d: d.update(multiplier=float("inf")), "multiplier", "finite number"),
    (lambda d: d.update(multiplier=True), "multiplier", "valid number.*got True"),
    (lambda d: d.update(multiplier="100"), "multiplier", "valid number.*got '100'"),
    (lambda d: d.update(follow_up_days="365"), "follow_up_days", "valid integer"),
    (lambda d: d.update(confidence=[0.95, 0.998, 0.95]), "confidence", "lists both"),
    (lambda d: d.update(disclosure={"min_denominator": float("inf")}),
     "disclosure.min_denominator", "finite number"),
    (lambda d: d["governance"].update(reviewed=0), "governance.reviewed",
     "YYYY-MM-DD, not 0"),
    (lambda d: d["governance"].update(reviewed="1764028800"), "governance.reviewed",
     "YYYY-MM-DD, not '1764028800'"),  # read as seconds since 1970: a day of 2025
    (lambda d: d.update(version=""), "version", "should match pattern"),
    (lambda d: d["numerator"].update(where=""), "numerator.where", "should match pattern"),
    (lambda d: d.update(attribution="provider", attribution_column="age_at_diagnosis"),
     "attribution_column", "holds int, not an organisation code"),
    (lambda d: d["numerator"].update(until="diagnosis_date"), "numerator.until",
     "until is for mode as_at_end"),
    (lambda d: d["numerator"].update(value="mean:age_at_diagnosis"), "numerator.value",
     "is for statistic mean's numerator"),
    (lambda d: d["numerator"].update(table="indicator_values"), "numerator.table",
     "one of Carepath's own tables, not data"),
    # A walkthrough: 'Input should be a valid tuple' for a list given as one value.
    (lambda d: d["numerator"].update(require={"table": "deaths", "on": "patient_id"}),
     "numerator.require", "a list is wanted here: each item on its own line starting '- '"),
    # A walkthrough: a percentage's target of 150 was accepted.
    (lambda d: d.update(targets=[{"value": 150, "label": "ambition"}]), "early_stage_known",
     "target 'ambition' of 150 cannot be reached: a proportion here is 0 to 100"),
    (lambda d: d.update(targets=[{"value": -1, "label": "less"}]), "early_stage_known",
     "of -1 cannot be reached"),
])
def test_bad_definition_names_file_field_and_token(tmp_path, change, where, message):
    path = _write(tmp_path, change)
    with pytest.raises(ValidationError, match=message) as info:
        load_file(path)
    assert str(path) in str(info.value) and where in str(info.value)


@pytest.mark.parametrize("ages, message", [({"min_age": 90, "max_age": 10}, "below min_age"),
                                            ({"min_age": -5}, "greater than or equal to 0")])
def test_population_ages_must_make_sense(tmp_path, ages, message):
    data = yaml.safe_load((GOOD.parent / "usc_referral_rate.yaml").read_text())
    data["denominator"].update(ages)
    path = tmp_path / "usc_referral_rate.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError, match=message) as info:
        load_file(path)
    assert "field denominator" in str(info.value)


@pytest.mark.parametrize("where, refused", [
    ("not startswith(icd10, 'C44')", True),  # all tumours over women's list: twice the rate
    ("sex = 'M' and not startswith(icd10, 'C44')", True),
    ("sex in ('M', 'F')", True),
    ("'F' = sex and not startswith(icd10, 'C44')", False),
    ("sex in ('F') and not startswith(icd10, 'C44')", False),
    ("not startswith(icd10, 'C44') and (year(diagnosis_date) > 2000 and sex = 'F')", False),
])
def test_a_population_of_one_sex_needs_a_numerator_of_that_sex(tmp_path, where, refused):
    """Found by a bad-input hunt: a DSR of all tumours over the female population was
    published, inflated, where the same slip over ages leaves the value missing."""
    data = yaml.safe_load((GOOD.parent / "cancer_incidence_dsr.yaml").read_text())
    data["denominator"]["sex"] = ["F"]
    data["numerator"]["where"] = where
    path = tmp_path / "cancer_incidence_dsr.yaml"
    path.write_text(yaml.safe_dump(data))
    if not refused:
        assert load_file(path).denominator.sex == ("F",)
        return
    with pytest.raises(ValidationError, match="population counts sex 'F' only") as info:
        load_file(path)
    assert "field numerator.where" in str(info.value)


def test_funnel_comparison_is_refused_where_it_would_not_be_used(tmp_path):
    data = yaml.safe_load((GOOD.parent / "usc_referral_rate.yaml").read_text())
    data["comparator"] = {"method": "funnel"}
    path = tmp_path / "usc_referral_rate.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError, match="funnel comparison is for proportions"):
        load_file(path)


def test_duplicate_ids_in_one_folder_are_rejected(tmp_path):
    _write(tmp_path, lambda d: None)
    (tmp_path / "early_stage_known.yml").write_text(GOOD.read_text())
    with pytest.raises(ValidationError, match="duplicate indicator id"):
        load_dir(tmp_path)


def test_workspace_definition_overrides_builtin(tmp_path):
    _write(tmp_path, lambda d: d.update(title="Our local early stage", version="1-local"))
    merged = load_library(tmp_path)
    assert merged["early_stage_known"].title == "Our local early stage"
    assert len(merged) == len(builtin())


def test_check_names_every_bad_file_at_once_and_skips_hidden_ones(tmp_path):
    for name, change in (("early_stage_known", {"period": "fortnight"}),
                         ("usc_referral_rate", {"multiplier": -5})):
        data = yaml.safe_load((GOOD.parent / f"{name}.yaml").read_text())
        data.update(change, version=2)  # an unquoted version is the text '2'
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / ".#early_stage_known.yaml").symlink_to(tmp_path / "gone")  # an editor's lock
    with pytest.raises(ValidationError) as info:
        load_dir(tmp_path)
    text = str(info.value)
    assert text.startswith("2 definitions have problems")
    assert "early_stage_known.yaml: field period" in text
    assert "usc_referral_rate.yaml: field multiplier" in text


def test_every_missing_field_is_named_at_once():
    """'Field required (and 7 more)' sent the author back once per field."""
    with pytest.raises(ValidationError) as caught:
        from_mapping({"id": "x"}, source="x.yaml")
    message = str(caught.value)
    assert message.startswith("x.yaml: field version: required but missing")
    for field in ("title", "why", "numerator", "polarity", "governance"):
        assert f"{field}: required but missing" in message


# deaths_in_hospital's content hash from Carepath at 8b7ff2f, before dated_by existed.
DEATHS_IN_HOSPITAL_HASH = "da9013aa1aa563bc372f1094a203e063dbb744188a89ab5e60ec6989815a8bef"


# deaths_in_hospital version 1 as it was written before the language gained its newer
# fields (its references have since been reworded, which changes its hash as it should).
DEATHS_IN_HOSPITAL_V1 = Path(__file__).parent / "v1" / "deaths_in_hospital.yaml"


def test_a_definition_not_using_a_newer_field_keeps_its_hash():
    """Adding dated_by to the language changed every definition's hash, so every value
    read 'its definition changed since' after an upgrade. This is the hash an earlier
    Carepath gave deaths_in_hospital version 1."""
    assert load_file(DEATHS_IN_HOSPITAL_V1).content_hash() == DEATHS_IN_HOSPITAL_HASH


def test_check_takes_a_file_or_a_folder_and_says_what_it_did_not_read(tmp_path):
    """Found by a user test: a file was refused as 'not a folder', an empty folder read
    '0 definitions OK', and .YAML files or files in subfolders were passed over unseen."""
    from typer.testing import CliRunner

    from carepath.cli import app

    def check(path):
        done = CliRunner().invoke(app, ["indicators", "check", str(path)])
        done.text = done.output + str(done.exception or "")  # errors are printed by main()
        return done

    folder = tmp_path / "defs"
    (folder / "old").mkdir(parents=True)
    assert "no definition files" in check(folder).text
    _write(folder, lambda d: None).rename(folder / "early_stage_known.YAML")
    _write(folder / "old", lambda d: None)
    done = check(folder)
    assert done.exit_code == 0 and "1 definition OK" in done.output
    assert "1 definition file(s) in subfolders are not read" in done.output
    assert "1 definition OK" in check(folder / "early_stage_known.YAML").output
    assert "no such file or folder" in check(tmp_path / "nope").text


def test_check_of_a_workspace_reads_the_workspaces_own_files(tmp_path, monkeypatch):
    """`check -w WS` was 'No such option', and a plain `check` with $CAREPATH_WORKSPACE set
    said '41 definitions OK' of the built-in library beside a broken workspace file."""
    from typer.testing import CliRunner

    from carepath.cli import app
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    runner = CliRunner()
    done = runner.invoke(app, ["indicators", "check", "-w", str(ws.path)])
    assert done.exit_code == 0 and "the workspace has none of its own" in done.output
    _write(ws.path / "indicators", lambda d: d.update(version=""))
    done = runner.invoke(app, ["indicators", "check", "-w", str(ws.path)])
    assert done.exit_code != 0 and "field version" in str(done.exception)
    monkeypatch.setenv("CAREPATH_WORKSPACE", str(ws.path))
    done = runner.invoke(app, ["indicators", "check"])
    assert done.exit_code != 0 and "early_stage_known.yaml" in str(done.exception)
    # Run inside the workspace: its own files too, and compute finds it (it said 'not a
    # Carepath workspace', and check '41 definitions OK' of the built-ins: a walkthrough).
    monkeypatch.delenv("CAREPATH_WORKSPACE")
    monkeypatch.chdir(ws.path)
    done = runner.invoke(app, ["indicators", "check"])
    assert done.exit_code != 0 and "early_stage_known.yaml" in str(done.exception)
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["indicators", "check"])
    assert done.exit_code == 0 and "OK (the built-in library;" in " ".join(done.output.split())


@pytest.mark.parametrize("width", [80, 200])
def test_indicators_list_reads_at_any_width(width, monkeypatch):
    """At 80 columns the table wrapped each title a word a line (found by a user test)."""
    from typer.testing import CliRunner

    from carepath.cli import app

    monkeypatch.setenv("COLUMNS", str(width))
    out = CliRunner().invoke(app, ["indicators", "list"]).output
    title = builtin()["cancer_care_review_12m"].title
    assert title in out  # on one line, whole
    assert "cancer_care_review_12m" in out and out.count("\n") >= len(builtin())


@pytest.mark.parametrize("where, refused", [
    (None, True),  # every referral over the list aged 50-74: an inflated rate
    ("referral_type = 'usc'", True),
    ("referral_type = 'usc' or year_of_birth <= 1974", True),  # an 'or' restricts nothing
    ("year_of_birth between 1950 and 1974", False),
    ("referral_type = 'usc' and not (year_of_birth > 1974)", False),
])
def test_a_population_of_some_ages_needs_a_numerator_that_says_its_ages(tmp_path, where,
                                                                          refused):
    data = yaml.safe_load((GOOD.parent / "usc_referral_rate.yaml").read_text())
    data["denominator"].update(min_age=50, max_age=74)
    data["numerator"].pop("where", None)
    if where:
        data["numerator"]["where"] = where
    path = tmp_path / "usc_referral_rate.yaml"
    path.write_text(yaml.safe_dump(data))
    if not refused:
        assert load_file(path).denominator.min_age == 50
        return
    with pytest.raises(ValidationError, match="population counts ages 50-74 only") as info:
        load_file(path)
    assert "year_of_birth" in str(info.value) and "field numerator.where" in str(info.value)


@pytest.mark.parametrize("where, refused", [
    ("age_at_diagnosis between 40 and 89", "numerator counts ages 40-89, the population 50-74"),
    ("age_at_diagnosis >= 50", "counts ages 50\\+, the population 50-74"),
    ("74 >= age_at_diagnosis and age_at_diagnosis > 49", None),
    ("age_at_diagnosis between 50 and 74 and not startswith(icd10, 'C44')", None),
])
def test_a_numerator_counting_other_ages_than_its_population_is_refused(tmp_path, where,
                                                                         refused):
    """Tumours at 40-89 over the list aged 50-74 published 1,840 per 100,000 for 960
    (a user test): ages written as recorded ages are compared with the population's."""
    data = yaml.safe_load((GOOD.parent / "cancer_incidence_crude.yaml").read_text())
    data["denominator"].update(min_age=50, max_age=74)
    data["numerator"]["where"] = where
    path = tmp_path / "cancer_incidence_crude.yaml"
    path.write_text(yaml.safe_dump(data))
    if refused is None:
        assert load_file(path).denominator.max_age == 74
        return
    with pytest.raises(ValidationError, match=refused):
        load_file(path)


def test_show_yaml_prints_the_file_to_start_a_workspace_version_from(tmp_path, capsys):
    """`show` printed only the catalogue entry: an analyst overriding a built-in had to find
    the package's file to copy it."""
    from carepath.cli import main

    main(["indicators", "show", "early_stage_known", "--yaml"])
    printed = capsys.readouterr().out
    assert printed == GOOD.read_text(encoding="utf-8")
    folder = tmp_path / "indicators"
    folder.mkdir()
    (folder / "early_stage_known.yaml").write_text(
        printed.replace("version: '2'", "version: 2-local").replace(
            "title: 'Cancers diagnosed", "title: 'Our cancers diagnosed"))
    assert load_library(folder)["early_stage_known"].title.startswith("Our cancers")
