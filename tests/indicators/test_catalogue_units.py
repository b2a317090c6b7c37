"""What an indicator's unit adds to its title (packs and the rug wrote "New cancers per
100,000 registered patients per 100,000 per year": a walkthrough)."""

from __future__ import annotations

import pytest

from carepath.indicators.catalogue import unit_beyond_title, unit_note
from carepath.indicators.library import builtin


@pytest.mark.parametrize(("title", "unit", "said"), [
    ("New cancers per 100,000 registered patients", "per 100,000 per year", "per year"),
    ("Emergency admissions in the last 90 days of life, per 100 deaths", "per 100 deaths", ""),
    ("Emergency bed days in the last 90 days of life, per death", "bed days per death", ""),
    ("Urgent suspected cancer referrals, indirectly standardised ratio",
     "ratio (workspace = 100)", "(workspace = 100)"),
    ("Deaths per person", "per 1,000", "per 1,000"),  # "per" alone says nothing
    ("Overall rating", "score 0-10", "score 0-10"),
    ("Anything", "", ""),
])
def test_the_unit_after_its_title_says_only_what_the_title_does_not(title, unit, said):
    assert unit_beyond_title(title, unit) == said


def test_no_library_title_reads_its_unit_twice():
    for d in builtin().values():
        extra = unit_beyond_title(d.title, d.unit)
        if extra:
            assert extra.lower() not in d.title.lower(), d.id


@pytest.mark.parametrize(("unit", "note"), [
    ("ratio (workspace = 100)", "(workspace = 100)"),  # the rug read "((workspace = 100))"
    ("per 100,000 per year", "(per year)"),
    ("per 100 deaths", ""),
])
def test_the_unit_note_is_bracketed_once(unit, note):
    title = {"per 100 deaths": "Admissions per 100 deaths"}.get(unit, "Urgent referrals ratio "
                                                                      "per 100,000")
    assert unit_note(title, unit) == note
