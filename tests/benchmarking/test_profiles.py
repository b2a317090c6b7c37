from __future__ import annotations

from carepath.domain.benchmarking import profiles


def test_practices_in_locality_use_links_valid_at_the_date(rug_workspace):
    with rug_workspace.connect(read_only=True) as con:
        assert [a.code for a in profiles.practices_in(con, "L1")] == ["P1", "P2"]
        assert profiles.find_locality(con, "south locality").code == "L2"
        assert profiles.find_locality(con, "Nowhere") is None


def test_outliers_list_only_judged_indicators_outside_998_limits(rug_workspace, meta):
    with rug_workspace.connect(read_only=True) as con:
        pr = profiles.practices_in(con, "L1")
        out = profiles.outliers(con, pr, meta)
    # P1 early stage is low and high is good -> worse; the no-judgement ratio is not listed
    assert out[["indicator_id", "area_code", "judgement"]].values.tolist() == [
        ["early_stage", "P1", "worse"]
    ]


def test_profile_places_practice_against_national_and_keeps_suppressed(rug_workspace, meta):
    with rug_workspace.connect(read_only=True) as con:
        p1 = {r["indicator_id"]: r for r in profiles.practice_profile(con, "P1", meta)}
        p3 = {r["indicator_id"]: r for r in profiles.practice_profile(con, "P3", meta)}
    assert p1["early_stage"]["pos"]["value"] < 0.5  # worse than national sits left
    assert {c["name"]: c["value"] for c in p1["early_stage"]["comparators"]} == {
        "locality": 50.0, "icb": 54.0}
    assert p3["early_stage"]["significance"] == "suppressed"
    assert p3["early_stage"]["pos"]["value"] is None  # no dot drawn for a suppressed value


def test_a_missing_value_reads_no_data_not_suppressed(rug_workspace, meta):
    """A DSR missing for fewer than 10 events read "Suppressed" (a check)."""
    with rug_workspace.transaction() as con:
        con.execute("UPDATE indicator_values SET value_state = 'missing', value = NULL "
                    "WHERE area_code = 'P1' AND indicator_id = 'early_stage'")
    with rug_workspace.connect(read_only=True) as con:
        p1 = {r["indicator_id"]: r for r in profiles.practice_profile(con, "P1", meta)}
    assert p1["early_stage"]["significance"] == "missing"
    from carepath.web.render import significance_tag

    assert ">No data<" in significance_tag("missing")
    assert ">Suppressed<" in significance_tag("suppressed")
