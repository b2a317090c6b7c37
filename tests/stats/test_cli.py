"""`carepath stats`: PHE worked examples through the command line, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carepath.cli import main
from carepath.model.codes import AGE_BANDS

RTOL = 1e-9


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_grouped_proportion_matches_phe_grouped_sheet(phe, tmp_path):
    df = phe("proportion.csv")
    rows = df[df.case_set.str.startswith("testdata_Prop (") & (df.multiplier == 1)]
    doubled = pd.concat([rows, rows])[["area", "numerator", "denominator"]]
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    doubled.to_csv(src, index=False)
    assert run(["stats", "proportion", str(src), "--numerator", "numerator",
                "--denominator", "denominator", "--group", "area", "-o", str(out)]) == 0
    got = pd.read_csv(out).set_index("area")
    want = df[df.case_set.str.startswith("testdata_Prop_g")].set_index("area")
    np.testing.assert_allclose(got.loc[want.index, "lower95_0cl"], want.lower95_0cl,
                               rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(got.loc[want.index, "upper95_0cl"], want.upper95_0cl,
                               rtol=RTOL, equal_nan=True)


def test_rate_to_excel(phe, tmp_path):
    df = phe("rate.csv")
    rows = df[df.case_set.str.startswith("testdata_Rate (") & (df.multiplier == 100_000)]
    src, out = tmp_path / "in.csv", tmp_path / "out.xlsx"
    rows[["area", "numerator", "denominator"]].to_csv(src, index=False)
    assert run(["stats", "rate", str(src), "--numerator", "numerator", "--denominator",
                "denominator", "--group", "area", "-o", str(out)]) == 0
    got = pd.read_excel(out).set_index("area")
    np.testing.assert_allclose(got.loc[rows.area, "upper99_8cl"], rows.upper99_8cl,
                               rtol=RTOL, equal_nan=True)
    assert got.loc["Area1", "method"] == "Exact" and got.loc["Area3", "method"] == "Byars"


def test_dsr_from_long_table(phe, tmp_path):
    inputs = phe("dsr_inputs.csv")
    esp = inputs[inputs.stdpop_name == "esp2013"].copy()
    esp["ageband"] = list(AGE_BANDS) * 3  # the sheet's "55-69" is a typo for 55-59
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    esp[["area", "ageband", "count", "pop"]].to_csv(src, index=False)
    assert run(["stats", "dsr", str(src), "--numerator", "count", "--denominator", "pop",
                "--ageband", "ageband", "--group", "area", "--multiplier", "10000",
                "-o", str(out)]) == 0
    got = pd.read_csv(out).set_index("area")
    want = phe("dsr_expected.csv")
    want = want[(want.multiplier == 10000) & want.independent_events].set_index("area")
    for area in ("testdata_big", "testdata_small", "testdata_tiny"):
        np.testing.assert_allclose(got.loc[area, ["value", "lower99_8cl"]].astype(float),
                                   want.loc[area, ["value", "lower99_8cl"]].astype(float),
                                   rtol=RTOL, equal_nan=True)


def test_mean_and_funnel(phe, tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    phe("mean_inputs.csv").to_csv(src, index=False)
    assert run(["stats", "mean", str(src), "--value", "values", "--group", "area",
                "-o", str(out)]) == 0
    want = phe("mean_expected.csv").set_index("group")
    got = pd.read_csv(out).set_index("area")
    np.testing.assert_allclose(got.loc["Area1", "upper99_8cl"], want.loc["Area1",
                                                                          "upper99_8cl"],
                               rtol=RTOL)
    phe("funnel_proportion_significance.csv").to_csv(src, index=False)
    funnel = ["stats", "funnel", str(src), "--numerator", "numerator", "--denominator",
              "denominator", "-o", str(out)]
    means = out.read_bytes()
    assert run(funnel) == 2  # an existing file is not written over without --replace
    assert out.read_bytes() == means
    assert run([*funnel, "--replace"]) == 0
    labels = pd.read_csv(out).phe_label
    assert list(labels) == list(phe("funnel_proportion_significance.csv").expected_significance)


def test_isratio_with_observed_totals(peer, tmp_path):
    keys = ["indicatorid", "year", "sex"]
    inputs = peer("phstatsmethods", "isratio_obs_totals_inputs.csv")
    inputs["expected"] = inputs.refcount / inputs.refpop * inputs["pop"]
    expected = inputs.groupby(keys, sort=False).expected.sum().reset_index()
    table = expected.merge(peer("phstatsmethods", "isratio_obs_totals_observed.csv"), on=keys)
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(src, index=False)
    assert run(["stats", "isratio", str(src), "--numerator", "observed", "--denominator",
                "expected", *[a for k in keys for a in ("--group", k)], "--confidence", "0.95",
                "-o", str(out)]) == 0
    got = pd.read_csv(out).merge(
        peer("phstatsmethods", "isratio_obs_totals_expected.csv"), on=keys)
    assert len(got) == 40
    np.testing.assert_allclose(got.value, got.Value, rtol=RTOL)
    np.testing.assert_allclose(got.upper95_0cl, got.upper_95_ci, rtol=RTOL)


@pytest.mark.parametrize(("content", "args", "message"), [
    ("a,x,n\nA,1,10\nB,two,10\n", ["--numerator", "x", "--denominator", "n"],
     "column 'x' must be numeric: 1 cell(s) are not numbers, first at row 3"),
    ("a,x,n\nA,11,10\n", ["--numerator", "x", "--denominator", "n"], "x must be <= n"),
    ("a,x,n\nA,1,10\n", ["--numerator", "y", "--denominator", "n"], "no column 'y'"),
    ("a,x,n\nA,1,10\n", ["--numerator", "x", "--denominator", "n", "--confidence", "95"],
     "confidence must be a fraction"),
    ("a,x,n\nA,-1,10\n", ["--numerator", "x", "--denominator", "n"], "x must be >= 0"),
    # The group, not an index into arrays the user never saw (a new user's walkthrough).
    ("a,x,n\nA,1,10\nB,2,0\n", ["--numerator", "x", "--denominator", "n", "--group", "a"],
     "first in group 'B'"),
    ("a,x,n\nA,11,5\nB,2,5\n", ["--numerator", "x", "--denominator", "n"],
     "first in the total of every row"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, args, message):
    src = tmp_path / "in.csv"
    src.write_text(content)
    code = run(["stats", "proportion", str(src), *args, "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_unknown_method_and_output_type(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("x,n\n1,10\n")
    assert run(["stats", "odds", str(src), "--numerator", "x", "--denominator", "n",
                "-o", str(tmp_path / "o.csv")]) == 2
    assert run(["stats", "rate", str(src), "--numerator", "x", "--denominator", "n",
                "-o", str(tmp_path / "o.json")]) == 2
    assert "must end .csv or .xlsx" in capsys.readouterr().err
    assert run(["stats", "rate", str(src), "--numerator", "x", "--denominator", "n",
                "-o", str(tmp_path / "nodir" / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_blank_number_is_warned_of_with_its_row(tmp_path, capsys):
    """A blank numerator left its group's value empty with nothing said (a new user's
    walkthrough): missing, and said, with the spreadsheet row."""
    src, out = tmp_path / "in.csv", tmp_path / "o.csv"
    src.write_text("a,x,n\nA,3,10\nB,,10\nA,1,5\n")
    assert run(["stats", "proportion", str(src), "--numerator", "x", "--denominator", "n",
                "--group", "a", "-o", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "1 blank in 'x' (first at row 3): the value of each group holding one is missing" \
        in err
    got = pd.read_csv(out).set_index("a")
    assert got.loc["A", "value"] == pytest.approx(4 / 15) and np.isnan(got.loc["B", "value"])
