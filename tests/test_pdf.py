"""HTML to PDF: both engines print A4 pages with the page footer; failures leave no file."""

from __future__ import annotations

import re
import subprocess

import pytest

from carepath import pdf
from carepath.errors import CarepathError

HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 15mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages); } }
.break { break-before: page; }
</style></head><body><h1>Alfredston locality pack</h1>
<svg width="200" height="40"><text x="5" y="20">Cancers diagnosed early</text></svg>
<p class="break">Second page</p></body></html>"""
A4_POINTS = (595, 842)


def _pages(path) -> tuple[int, tuple[int, int]]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return pages, (round(float(w)), round(float(h)))


def _text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("engine", pdf.ENGINES)
def test_each_engine_prints_a4_pages_with_the_footer(engine, tmp_path, monkeypatch):
    if engine == "chromium" and pdf.chromium_path() is None:
        pytest.skip("Chromium is not installed")
    monkeypatch.setenv(pdf.ENGINE_ENV, engine)
    out = tmp_path / "pack.pdf"
    pdf.write_pdf(HTML, out)
    pages, size = _pages(out)
    assert pages == 2 and abs(size[0] - A4_POINTS[0]) <= 1 and abs(size[1] - A4_POINTS[1]) <= 1
    text = _text(out)
    assert "Alfredston locality pack" in text and "Cancers diagnosed early" in text
    assert "Page 1 of 2" in text and "Page 2 of 2" in text
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]  # no draft left behind


def test_chromium_is_the_default_when_installed(monkeypatch):
    monkeypatch.delenv(pdf.ENGINE_ENV, raising=False)
    expected = "chromium" if pdf.chromium_path() else "weasyprint"
    assert pdf.engine() == expected


def test_an_unknown_engine_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(pdf.ENGINE_ENV, "typewriter")
    with pytest.raises(CarepathError, match="chromium or weasyprint"):
        pdf.write_pdf(HTML, tmp_path / "x.pdf")


def test_a_missing_chromium_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv(pdf.ENGINE_ENV, "chromium")
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(tmp_path / "no-such-browser"))
    with pytest.raises(CarepathError, match="Debian package chromium"):
        pdf.write_pdf(HTML, tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_print_leaves_the_old_file_alone(monkeypatch, tmp_path):
    failing = tmp_path / "bin" / "chromium"
    failing.parent.mkdir()
    failing.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    failing.chmod(0o755)
    monkeypatch.setenv(pdf.ENGINE_ENV, "chromium")
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(failing))
    out = tmp_path / "pack.pdf"
    out.write_bytes(b"%PDF- last month's pack")
    with pytest.raises(CarepathError, match="cannot open display"):
        pdf.write_pdf(HTML, out)
    assert out.read_bytes() == b"%PDF- last month's pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "pack.pdf"]


def test_a_hung_browser_is_stopped(monkeypatch, tmp_path):
    hung = tmp_path / "bin" / "chromium"
    hung.parent.mkdir()
    hung.write_text("#!/bin/sh\nsleep 60 &\nwait\n")  # a helper process that would linger
    hung.chmod(0o755)
    monkeypatch.setenv(pdf.ENGINE_ENV, "chromium")
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(hung))
    monkeypatch.setattr(pdf, "CHROMIUM_TIMEOUT_S", 1)
    with pytest.raises(CarepathError, match="did not finish printing within 1 s"):
        pdf.write_pdf(HTML, tmp_path / "pack.pdf")
    assert not (tmp_path / "pack.pdf").exists()


def test_chromium_runs_no_script_that_reaches_a_page(monkeypatch, tmp_path):
    if pdf.chromium_path() is None:
        pytest.skip("Chromium is not installed")
    monkeypatch.setenv(pdf.ENGINE_ENV, "chromium")
    hostile = HTML.replace("<h1>", "<script>document.body.innerHTML = 'INJECTED'</script><h1>")
    out = tmp_path / "pack.pdf"
    pdf.write_pdf(hostile, out)
    text = _text(out)
    assert "INJECTED" not in text and "Alfredston locality pack" in text
