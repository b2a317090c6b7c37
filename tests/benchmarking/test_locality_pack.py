from __future__ import annotations

import re

import pytest

from carepath.cli import main
from carepath.reports import batch, locality_pack


@pytest.fixture(autouse=True)
def known_meta(monkeypatch, meta):
    monkeypatch.setattr(locality_pack, "indicator_meta", lambda con, **_: meta)


def test_pack_html_has_outliers_suppressed_and_definitions(rug_workspace, tmp_path):
    files = batch.generate(rug_workspace, tmp_path / "packs", locality="North Locality")
    html = files[0].read_text()
    assert files[0].name == "north-locality.html"
    assert "Alpha Surgery" in html and "Beta Practice" in html
    assert "Gamma Health" not in html  # another locality's practice
    assert "Outliers for peer review" in html and "not yet discussed" in html
    assert "<svg" in html  # charts inline: self-contained
    assert "http://" not in html.replace("http://www.w3.org", "")
    # What chance alone would flag, from the comparisons made (it said "fewer than 1 in
    # 500 practices", where each comparison is 1 in 500: an independent check); and small
    # counts are said to be shown, as they are (it claimed them suppressed)
    text = " ".join(html.split())
    said = re.search(r"of the ([\d,]+) practice–indicator comparisons here, about ([\d.]+) "
                     r"would by chance, and (\d+) did", text)
    assert said and int(said[1]) > 0
    assert float(said[2]) == pytest.approx(int(said[1]) / 500, abs=0.05)
    # Three practices are too few to estimate the spread between them: said, not "none
    # is still outside"
    assert "None of these outliers could be assessed so: that needs the counts of at " \
        "least 10 practices" in text
    assert "not assessed" in html.split('id="outliers"')[1]
    assert "Small counts are shown as they are" in text and "1–7 people are suppressed" \
        not in text
    # Each column's period in the legend: the columns mix periods (a check)
    legend = html.split('class="rug-legend')[1].split("</ol>")[0]
    items = re.findall(r"<li>(.*?)</li>", legend, flags=re.DOTALL)
    assert items and all(re.search(r", \d{4}/\d{2}", item) for item in items)


def test_pack_for_locality_without_data_says_why(rug_workspace, tmp_path):
    with rug_workspace.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) "
                    "VALUES ('L9', 'Empty Locality', 'locality', DATE '2015-01-01')")
    html = batch.generate(rug_workspace, tmp_path, locality="L9")[0].read_text()
    assert "No practices belong to Empty Locality" in html


def test_unknown_locality_lists_valid_ones(rug_workspace, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "localities", "-w", str(rug_workspace.path), "--out", str(tmp_path),
              "--locality", "Atlantis"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown locality 'Atlantis'" in err and "North Locality" in err


@pytest.mark.slow
def test_pack_pdf_is_written(rug_workspace, tmp_path):
    files = batch.generate(rug_workspace, tmp_path, pdf=True, locality="L1")
    pdf = next(f for f in files if f.suffix == ".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_batch_in_parallel_writes_every_locality(rug_workspace, tmp_path):
    files = batch.generate(rug_workspace, tmp_path, workers=2)
    assert sorted(f.name for f in files) == ["north-locality.html", "south-locality.html"]
    assert "Gamma Health" in (tmp_path / "south-locality.html").read_text()


def test_a_pack_says_which_figures_are_out_of_date(rug_workspace, tmp_path, monkeypatch):
    """The pack is printed for the meeting: figures a compute would no longer give were
    shown as current (here the values' definition hashes are not the library's)."""
    from carepath.engine.freshness import OutOfDate

    html = batch.generate(rug_workspace, tmp_path / "a", locality="North Locality")[0]
    html = html.read_text()
    assert 'id="out-of-date"' in html and "<strong>out of date</strong>: " in html
    monkeypatch.setattr(batch, "out_of_date", lambda *a: {})
    html = batch.generate(rug_workspace, tmp_path / "b", locality="North Locality")[0]
    assert 'id="out-of-date"' not in html.read_text()
    stale = {"early_stage": OutOfDate("data loaded since into tumours", "compute")}
    monkeypatch.setattr(batch, "out_of_date", lambda *a: stale)
    html = batch.generate(rug_workspace, tmp_path / "c", locality="North Locality")[0]
    assert "data loaded since into tumours" in html.read_text()


def test_a_judgement_at_998_is_shown_with_its_998_interval(rug_workspace, tmp_path,
                                                            monkeypatch):
    """The pack said every comparison was at 95% and showed 95% intervals beside screening
    judged by 99.8% funnel limits: an interval excluding national read 'Similar' (an
    independent check)."""
    from tests.benchmarking.conftest import META

    funnel = {**META, "early_stage": {**META["early_stage"], "level": "998",
                                      "compared_by": "99.8% funnel limits"}}
    monkeypatch.setattr(locality_pack, "indicator_meta", lambda con, **_: funnel)
    with rug_workspace.transaction() as con:
        con.execute("UPDATE indicator_values SET lower998 = 40, upper998 = 60 WHERE "
                    "indicator_id = 'early_stage' AND area_code = 'L1'")
    html = batch.generate(rug_workspace, tmp_path, locality="L1")[0].read_text()
    profile = " ".join(html.split("against national</h3>")[1].split("</table>")[0].split())
    assert "40.0–60.0<br><small class=\"unit\">99.8%</small>" in profile
    assert "by 99.8% funnel limits" in profile
    assert "45.0–55.0" not in profile  # not the 95% interval
    assert re.search(r"Early stage %, \d{4}/\d{2}: compared by 99.8% funnel limits",
                     html)  # the rug's key


def test_a_pack_with_no_outliers_does_not_say_they_could_not_be_assessed(rug_workspace,
                                                                         tmp_path):
    """With no outliers it said "None of these outliers could be assessed" (a review)."""
    html = batch.generate(rug_workspace, tmp_path / "packs", locality="South Locality")[0]
    text = " ".join(html.read_text().split())
    assert "and 0 did." in text and "There are none here." in text
    assert "could be assessed so" not in text
