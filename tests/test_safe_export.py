"""Every table Carepath writes for a spreadsheet goes through safe_export.write_table."""

import pandas as pd
import pytest

from carepath.errors import CarepathError, ValidationError
from carepath.safe_export import write_table

FRAME = pd.DataFrame({"area": ["=HYPERLINK(\"x\")", "A82001"], "value": [-1.5, 2.0]})


@pytest.mark.parametrize("name", ["t.csv", "t.xlsx", "T.CSV"])
def test_formulas_are_neutralised_and_numbers_kept(tmp_path, name):
    out = tmp_path / name
    write_table(FRAME, out)
    csv_file = out.suffix.lower() == ".csv"
    back = pd.read_csv(out) if csv_file else pd.read_excel(out)
    shown = "'=HYPERLINK(\"x\")" if csv_file else "=HYPERLINK(\"x\")"  # Excel: a text cell
    assert back["area"].tolist() == [shown, "A82001"]
    if not csv_file:
        import openpyxl

        cell = openpyxl.load_workbook(out).active["A2"]
        assert cell.data_type == "s" and cell.quotePrefix
    assert back["value"].tolist() == [-1.5, 2.0]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left beside it


@pytest.mark.parametrize("target, message", [
    ("nodir/t.csv", "does not exist"), (".", "is a folder"), ("t.json", "must end .csv or .xlsx")])
def test_bad_targets_are_refused_and_nothing_is_written(tmp_path, target, message):
    with pytest.raises(ValidationError, match=message):
        write_table(FRAME, tmp_path / target)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_file_that_was_there(tmp_path, monkeypatch):
    out = tmp_path / "t.csv"
    out.write_text("earlier\n")

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(CarepathError, match=r"t.csv: cannot be written \(disk full\)"):
        write_table(FRAME, out)
    assert out.read_text() == "earlier\n" and [p.name for p in tmp_path.iterdir()] == ["t.csv"]
