"""The YAML files users write: mistakes are named in plain words, with file, line and column;
a key given twice is an error, not a silent override."""

from __future__ import annotations

import pytest

from carepath.errors import ValidationError
from carepath.ingest.mapping import load_mapping
from carepath.yamlfile import read_mapping


@pytest.mark.parametrize("text, line, column, words", [
    ("id: x\ntitle: Died at home: the share\n", 2, 20, "put text that contains ': ' in quotes"),
    ("id: x\nwhy:\n\t- one\n", 3, 1, "indent with spaces"),
    ("id: x\ntitle: 'never closed\n", 3, 1, "never closed"),
    ("id: x\nnumerator:\n    table: deaths\n  date: date_of_death\n", 4, 3,
     "indentation does not line up"),
    ("id: x\ntitle: one\ntitle: two\n", 3, 1, "the key 'title' is given twice (first on line 2)"),
    ("id: x\nnumerator:\n  table: deaths\n  table: tumours\n", 4, 3, "given twice"),
    ("id: x\n? [a, b]\n: 1\n", 2, 3, "keys are plain words"),
    # Date-shaped but no date: PyYAML let Python's ValueError out (found by a user test).
    ("id: x\nnext_review: 2027-11-31\n", 2, 14,
     "'2027-11-31' is not a real date or time (day is out of range for month)"),
    ("id: x\nreviewed: 2026-13-01\n", 2, 11, "'2026-13-01' is not a real date"),
    ("id: x\nreviewed: 2026-11-25 25:61:00\n", 2, 11, "not a real date or time"),
])
def test_yaml_mistakes_are_named_in_plain_words_with_their_place(tmp_path, text, line,
                                                                 column, words):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_mapping(path)
    assert words in caught.value.message
    assert caught.value.where == f"{path}, line {line}, column {column}"


def test_mapping_files_use_the_same_reader(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("table: deaths\ncolumns:\n  patient_id: NHS_NO\n  patient_id: ID\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError, match="'patient_id' is given twice") as caught:
        load_mapping(path)
    assert caught.value.where.endswith("line 4, column 3")


def test_same_key_in_different_mappings_is_fine(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("numerator:\n  table: deaths\ndenominator:\n  table: deaths\n",
                    encoding="utf-8")
    assert read_mapping(path)["denominator"] == {"table": "deaths"}


def test_not_utf8_is_said_plainly(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes("title: caf\xe9\n".encode("cp1252"))
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_mapping(path)


def test_anchors_and_merge_keys_still_work(tmp_path):
    """'<<: *anchor' brings in shared keys that a mapping may override: not a repeat."""
    path = tmp_path / "x.yaml"
    path.write_text("common: &c\n  owner: ICB\n  weight: 1\n"
                    "outcome:\n  <<: *c\n  weight: 2\n", encoding="utf-8")
    assert read_mapping(path)["outcome"] == {"owner": "ICB", "weight": 2}


def test_a_mapping_file_that_is_not_a_mapping_says_so(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("- table\n- deaths\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="expected a mapping file"):
        load_mapping(path)
    with pytest.raises(ValidationError, match="file not found"):
        load_mapping(tmp_path / "missing.yaml")


def test_yaml_nested_too_deeply_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("id: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="nested too deeply"):
        read_mapping(path)


def test_aliases_that_expand_past_any_real_file_are_refused(tmp_path):
    """Nine nested aliases of nine (734 bytes) took 17 s and 2.6 GB in the reader that
    walked them (a bad-input hunt); one more level would need 26 GB."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="expand to more than 1,000,000 values"):
        read_mapping(path)
