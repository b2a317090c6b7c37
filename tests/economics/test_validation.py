"""Bad input is rejected with the file, the row and the reason."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from carepath.domain.economics.definitions import load_cba
from carepath.domain.economics.distributions import Distribution
from carepath.errors import ValidationError

from .conftest import EXAMPLES, tiny


@pytest.fixture
def example_dir(tmp_path) -> Path:
    for p in Path(EXAMPLES).iterdir():
        if p.suffix in (".yaml", ".csv"):
            shutil.copy(p, tmp_path / p.name)
    return tmp_path


def _write(tmp_path, data) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_payer_shares_not_summing_to_100_percent(tmp_path):
    data = tiny()
    data["services"][0]["payers"] = {"A": 0.6, "B": 0.3}
    with pytest.raises(ValidationError) as err:
        load_cba(_write(tmp_path, data))
    assert "model.yaml" in err.value.where
    assert "services[0] (id s).payers" in err.value.message
    assert "sum to 90.0%, not 100%" in err.value.message


def test_negative_cost_in_a_csv_row_names_the_file_and_row(example_dir):
    _replace_in(example_dir / "unit_values.csv", "excess_bed_day,420,", "excess_bed_day,-420,")
    with pytest.raises(ValidationError) as err:
        load_cba(example_dir / "hospice_at_home.yaml")
    assert err.value.where.endswith("unit_values.csv")
    assert "row 3" in err.value.message and "value" in err.value.message
    assert "greater than or equal to 0" in err.value.message


def test_negative_unit_cost(tmp_path):
    data = tiny()
    data["services"][0]["unit_cost"] = -5
    with pytest.raises(ValidationError, match=r"services\[0\] \(id s\)\.unit_cost"):
        load_cba(_write(tmp_path, data))


def test_benefit_without_a_beneficiary(example_dir):
    _replace_in(example_dir / "benefits.csv", ",ooh_contact,primary_care,", ",ooh_contact,,")
    with pytest.raises(ValidationError) as err:
        load_cba(example_dir / "hospice_at_home.yaml")
    assert err.value.where.endswith("benefits.csv")
    assert "row 5" in err.value.message and "needs a beneficiary" in err.value.message


def test_beneficiary_must_be_a_known_organisation(tmp_path):
    data = tiny()
    data["benefits"][0]["beneficiary"] = "acute"
    with pytest.raises(ValidationError, match="beneficiary 'acute' is not one of"):
        load_cba(_write(tmp_path, data))


def test_unit_value_without_a_source(tmp_path):
    data = tiny()
    del data["unit_values"][0]["source"]
    with pytest.raises(ValidationError, match=r"unit_values\[0\] \(id v\)\.source: Field required"):
        load_cba(_write(tmp_path, data))


@pytest.mark.parametrize(("spec", "reason"), [
    ({"kind": "triangular", "low": 5, "mode": 9, "high": 8}, "mode (9.0) must lie between"),
    ({"kind": "uniform", "low": 5, "high": 5}, "low (5.0) must be below high"),
    ({"kind": "normal", "mean": 5, "sd": -1}, "sd must be above 0"),
    ({"kind": "gamma", "mean": -5, "sd": 1}, "mean must be above 0"),
    ({"kind": "beta", "alpha": 0, "beta": 2}, "alpha and beta must be above 0"),
    ({"kind": "beta", "alpha": 1}, "missing beta"),
    ({"kind": "uniform", "low": 1, "high": 2, "sd": 3}, "not sd"),
])
def test_impossible_distribution_parameters(spec, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        Distribution.model_validate(spec)


def test_impossible_distribution_in_csv_names_row(example_dir):
    _replace_in(example_dir / "uncertainty.csv", "triangular,180,260,320", "triangular,180,360,320")
    with pytest.raises(ValidationError) as err:
        load_cba(example_dir / "hospice_at_home.yaml")
    assert err.value.where.endswith("uncertainty.csv")
    assert "row 2" in err.value.message and "mode" in err.value.message


@pytest.mark.parametrize(("parameter", "dist", "reason"), [
    ("benefits.b.deadweight", {"kind": "normal", "mean": 0.2, "sd": 0.1}, "is a proportion"),
    ("services.s.unit_cost", {"kind": "normal", "mean": 1000, "sd": 100}, "cannot be negative"),
    ("services.s.colour", {"kind": "uniform", "low": 0, "high": 1}, "is not one of"),
    ("services.zz.unit_cost", {"kind": "uniform", "low": 0, "high": 1}, "no services with id"),
])
def test_distribution_must_fit_its_parameter(tmp_path, parameter, dist, reason):
    data = tiny(uncertainty=[{"parameter": parameter, "distribution": dist}])
    with pytest.raises(ValidationError, match=reason):
        load_cba(_write(tmp_path, data))


def test_percent_and_fraction_shares_are_both_read(tmp_path):
    data = tiny()
    data["services"][0]["payers"] = "A:60%;B:0.4"
    assert load_cba(_write(tmp_path, data)).services[0].payers == {"A": 0.6, "B": 0.4}


def test_yaml_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\ntitle: [unclosed\n")
    with pytest.raises(ValidationError) as err:
        load_cba(path)
    assert "line" in err.value.where


def test_missing_file(tmp_path):
    with pytest.raises(ValidationError, match="file not found"):
        load_cba(tmp_path / "nope.yaml")


def test_a_unit_value_in_its_own_prices_needs_the_models_price_year(tmp_path):
    data = tiny(deflators={2021: 100.0, 2025: 116.4})
    data["unit_values"][0]["price_year"] = 2021
    with pytest.raises(ValidationError) as err:
        load_cba(_write(tmp_path, data))
    assert "unit value v (2021) has its own price year" in err.value.message
    assert "give the model's price_year" in err.value.message


def test_a_parameter_given_two_distributions_is_refused(example_dir):
    _replace_in(example_dir / "uncertainty.csv", "benefits.qalys.quantity,triangular,4,12,20,,,,",
                "benefits.qalys.quantity,triangular,4,12,20,,,,\n"
                "benefits.qalys.quantity,triangular,1,2,3,,,,")
    with pytest.raises(ValidationError,
                       match="parameter benefits.qalys.quantity is given twice"):
        load_cba(example_dir / "hospice_at_home.yaml")


@pytest.mark.parametrize(("file", "old", "new", "where", "field"), [
    ("benefits.csv", "Quality-adjusted life years gained,12,",
     "Quality-adjusted life years gained,nan,", "benefits.csv", "row 8.quantity"),
    ("hospice_at_home.yaml", "activity: 420", "activity: .inf", "hospice_at_home.yaml",
     "services[0] (id hah).activity"),
    ("hospice_at_home.yaml", "2021: 100.0", "2021: .nan", "hospice_at_home.yaml",
     "deflators.2021"),
])
def test_numbers_that_are_not_finite_are_refused(example_dir, file, old, new, where, field):
    _replace_in(example_dir / file, old, new)
    with pytest.raises(ValidationError) as err:
        load_cba(example_dir / "hospice_at_home.yaml")
    assert err.value.where.endswith(where)
    assert field in err.value.message and "finite number" in err.value.message


def test_end_year_after_the_horizon_is_refused(tmp_path):
    data = tiny()
    data["benefits"][0]["end_year"] = 99
    with pytest.raises(ValidationError, match=r"b: end_year 99 is after the horizon \(years 0-2\)"):
        load_cba(_write(tmp_path, data))


def test_a_per_qaly_benefit_must_be_a_health_effect(tmp_path):
    data = tiny()
    data["unit_values"][0]["unit"] = "per QALY"
    with pytest.raises(ValidationError, match="benefit b: unit value v is 'per QALY', a health "
                                              r"effect: set health: true"):
        load_cba(_write(tmp_path, data))
    data["benefits"][0]["health"] = True
    assert load_cba(_write(tmp_path, data)).benefits[0].health
