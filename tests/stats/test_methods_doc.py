"""Every worked example in docs/methods/ (one page per method) runs as a doctest."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "methods"
PAGES = sorted(DOCS.glob("*.md"))


def test_there_is_a_page_per_method():
    assert len(PAGES) >= 12


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_worked_examples_run(page):
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0
    if page.stem != "index":
        assert result.attempted >= 3, f"{page.name} has no worked example"
