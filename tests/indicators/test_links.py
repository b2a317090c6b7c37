"""Which indicators count the same thing (``carepath.indicators.links``): their disclosure
must know what the others publish of it (tests/indicators/test_linked_disclosure.py)."""

from __future__ import annotations

from carepath.disclosure.releases import Link
from carepath.indicators.library import builtin
from carepath.indicators.links import fingerprint, linked_before, shared_counts

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
