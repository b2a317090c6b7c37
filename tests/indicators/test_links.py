"""Which indicators count the same thing (``carepath.indicators.links``): their disclosure
must know what the others publish of it (tests/indicators/test_linked_disclosure.py)."""

from __future__ import annotations

import itertools

import pytest

from carepath.disclosure.releases import Link
from carepath.indicators.library import builtin
from carepath.indicators.links import COUNT_PARTS, fingerprint, linked_before, shared_counts

LIBRARY = builtin()
LINKS = shared_counts(LIBRARY)


def _linked(ind_id: str) -> set[tuple[str, str, str]]:
    return {(link.column, link.other, link.other_column) for link in LINKS.get(ind_id, ())}


def test_the_cancers_incidence_counts_are_the_recovery_package_denominators():
    assert ("numerator", "emergency_presentation_pct", "denominator") in _linked(
        "cancer_incidence_crude")
    assert ("denominator", "cancer_incidence_crude", "numerator") in _linked(
        "emergency_presentation_pct")
    for denominator_of in ("care_plan_offered", "hna_within_31_days",
                           "treatment_summary_offered", "cancer_incidence_dsr"):
        assert any(other == denominator_of for _, other, _ in _linked("cancer_incidence_crude"))


def test_the_deaths_of_a_period_are_every_end_of_life_denominator():
    assert {other for _, other, _ in _linked("deaths_in_hospital")} >= {
        "deaths_usual_residence", "preferred_place_recorded", "eol_register_before_death"}


def test_links_go_both_ways_and_never_to_the_indicator_itself():
    for ind_id, links in LINKS.items():
        for link in links:
            assert link.other != ind_id
            assert Link(link.other_column, ind_id, link.column) in LINKS[link.other]


def test_a_count_of_quarters_is_not_the_same_as_one_of_years():
    assert "emergency_presentation_pct_quarterly" not in LINKS  # its twin counts years
    assert fingerprint(LIBRARY["emergency_presentation_pct_quarterly"], "denominator") != \
        fingerprint(LIBRARY["emergency_presentation_pct"], "denominator")


def test_a_filter_is_compared_as_parsed_and_what_decides_the_count_as_a_whole():
    defn = LIBRARY["emergency_presentation_pct"]
    respaced = defn.model_copy(update={"denominator": defn.denominator.model_copy(
        update={"where": "not   startswith( icd10,'C44' )"})})
    assert fingerprint(respaced, "denominator") == fingerprint(defn, "denominator")
    narrower = defn.model_copy(update={"denominator": defn.denominator.model_copy(
        update={"where": "not startswith(icd10, 'C4')"})})
    assert fingerprint(narrower, "denominator") != fingerprint(defn, "denominator")
    by_provider = defn.model_copy(update={"attribution": "provider"})
    assert fingerprint(by_provider, "denominator") != fingerprint(defn, "denominator")


def test_related_rows_are_compared_as_parsed_and_in_any_order():
    defn = LIBRARY["died_in_preferred_place"]
    latest = defn.numerator.require[0]
    respaced = latest.model_copy(update={"among": "preferred_place!='not_stated'"})
    again = defn.model_copy(update={"numerator": defn.numerator.model_copy(
        update={"require": (respaced,)})})
    assert fingerprint(again, "numerator") == fingerprint(defn, "numerator")
    other = latest.model_copy(update={"table": "eol_register", "latest_by": None,
                                      "among": None, "where": None})
    one, two = (defn.model_copy(update={"numerator": defn.numerator.model_copy(
        update={"require": order})}) for order in ((latest, other), (other, latest)))
    assert fingerprint(one, "numerator") == fingerprint(two, "numerator")


def test_a_registered_population_counts_nothing_to_share():
    assert fingerprint(LIBRARY["cancer_incidence_crude"], "denominator") is None
    assert all(link.column == "numerator" for link in LINKS["cancer_incidence_crude"])


def test_an_indicator_knows_the_linked_ones_before_it_and_theirs():
    links = {"b": (Link("numerator", "a", "denominator"),),
             "a": (Link("denominator", "b", "numerator"),),
             "c": (Link("denominator", "b", "denominator"),)}
    links["b"] += (Link("denominator", "c", "denominator"),)
    assert linked_before(links, ["c"]) == {"a", "b"}  # b before c, and a before b
    assert linked_before(links, ["a"]) == set()
    # what b says is at hand (a page's cache): it holds what a says, so a is not needed
    assert linked_before(links, ["c"], known=["b"]) == {"b"}


@pytest.mark.slow
def test_parts_that_count_alike_on_a_whole_county_are_linked(tmp_path):
    """Two spellings of one count went unlinked: died_in_preferred_place's denominator
    (the latest preference stated) and preferred_place_recorded's numerator (any
    preference stated before the death), equal in all 648 cells of a county and 92 of
    them 1 to 7 (a review). Every pair of parts equal in every cell of a computed county
    must be linked, unless they count differently (people, not tumours) and are equal
    only because no one here has two emergency cancers in a year."""
    from carepath.engine.run import compute
    from carepath.synth.generator import SynthOptions, synthesise

    ws = synthesise(tmp_path / "county", SynthOptions(seed=5)).workspace
    assert all(o.status != "failed" for o in compute(ws, list(LIBRARY.values())))
    with ws.connect(read_only=True) as con:
        values = con.execute("SELECT indicator_id, period, area_type, area_code, numerator, "
                             "denominator FROM indicator_values WHERE breakdown = 'all'").df()
    parts = {(ind, part): rows.set_index(["period", "area_type", "area_code"])[part]
             for ind, rows in values.groupby("indicator_id") for part in COUNT_PARTS
             if fingerprint(LIBRARY[ind], part) is not None}
    alike = []
    for (a, counts_a), (b, counts_b) in itertools.combinations(parts.items(), 2):
        both = counts_a.index.intersection(counts_b.index)
        if len(both) >= 100 and counts_a[both].sum() > 0 and \
                counts_a[both].fillna(-1).equals(counts_b[both].fillna(-1)):
            alike.append((a, b))
    assert len(alike) > 20  # the deaths and cancers shared by many
    for (ind_a, part_a), (ind_b, part_b) in alike:
        if getattr(LIBRARY[ind_a], part_a).value != getattr(LIBRARY[ind_b], part_b).value:
            continue
        assert Link(part_a, ind_b, part_b) in LINKS.get(ind_a, ()), (ind_a, part_a, ind_b)
