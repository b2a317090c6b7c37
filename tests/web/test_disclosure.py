"""The one disclosure-control policy: known answers and Hypothesis invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepath.disclosure import (
    DisclosurePolicy,
    apply_disclosure,
    round_count,
)


def row(code, num, den, *, area_type="practice", parent="L1", state="published",
        statistic="proportion", ind="early", breakdown="all", category="all"):
    value = None if num is None or not den else num / den * 100
    return {"indicator_id": ind, "period": "2024/25", "area_code": code, "area_type": area_type,
            "parent_code": parent, "breakdown": breakdown, "category": category,
            "numerator": num, "denominator": den, "value": value,
            "lower95": None if value is None else value - 1,
            "upper95": None if value is None else value + 1, "lower998": None,
            "upper998": None, "statistic": statistic, "value_state": state, "value_note": None}


def by_code(rows):
    return {r["area_code"]: r for r in rows}


def test_small_counts_are_suppressed_with_reason_and_others_rounded():
    out = by_code(apply_disclosure([row("A", 3, 40, parent="L0"), row("A2", 5, 40, parent="L0"),
                                    row("B", 12, 40), row("C", 23, 41), row("D", 30, 50)]))
    assert out["A"]["value_state"] == "suppressed"
    assert out["A"]["value"] is None and out["A"]["numerator"] is None
    assert "a count from 1 to 7" in out["A"]["value_note"]
    assert out["B"]["numerator"] == 10 and out["B"]["denominator"] == 40
    assert out["B"]["value"] == pytest.approx(25.0)  # percentage from the rounded counts
    assert out["B"]["disclosure"] == "counts rounded to the nearest 5"
    assert out["C"]["numerator"] == 25 and out["C"]["denominator"] == 40


def test_intervals_are_recomputed_from_rounded_counts():
    out = apply_disclosure([row("B", 12, 40), row("X", 30, 60)])[0]
    # Wilson 95% interval for 10/40, not the exact row's interval (which would leak 12)
    assert out["lower95"] == pytest.approx(14.19, abs=0.01)
    assert out["upper95"] == pytest.approx(40.19, abs=0.01)
    assert out["lower998"] < out["lower95"] < out["value"] < out["upper95"] < out["upper998"]


def test_rate_intervals_use_the_engines_method_on_rounded_counts():
    from carepath import stats

    rate = row("R", 23, 100_000, statistic="crude_rate")
    rate.update(value=23.0, lower95=20.0, upper95=26.0)  # per 100,000
    out = apply_disclosure([rate, row("S", 40, 100_000, statistic="crude_rate")])[0]
    expected = stats.rate(25, 100_000, confidence=0.95)  # 25 after rounding; Byar's from 10
    assert out["value"] == pytest.approx(25.0)
    assert (out["lower95"], out["upper95"]) == pytest.approx(
        (float(expected.lower), float(expected.upper)))


def test_a_sum_over_weighted_events_publishes_rounded_figures_and_no_interval():
    """Bed days per death. Moved with the rounded total, the interval's shape gave back the
    exact number of admissions (12 here), and a value over the exact deaths gave back the
    deaths (43) from the published count; Poisson limits on the rounded days would be the
    too-narrow interval the engine no longer gives."""
    from carepath import stats

    days = stats.weighted_rate(107, 1809, 12, 43)
    beds = row("B", 107, 43, statistic="crude_rate")
    beds.update(value=float(days.value), lower95=float(days.lower), upper95=float(days.upper),
                lower998=float(days.lower) - 0.1, upper998=float(days.upper) + 0.1,
                method=days.method)
    out = apply_disclosure([beds, row("S", 40, 100, statistic="crude_rate")])[0]
    assert (out["numerator"], out["denominator"]) == (105, 45)
    assert out["value"] == pytest.approx(105 / 45)  # rounded over rounded
    assert [out[c] for c in ("lower95", "upper95", "lower998", "upper998")] == [None] * 4
    assert "interval not published" in out["disclosure"]


def test_zero_missing_and_suppressed_stay_distinct():
    out = by_code(apply_disclosure([
        row("Z", 0, 40, parent="L9"), row("M", None, None, state="missing"),
        row("S", None, None, state="suppressed"), row("S2", 20, 40), row("S3", 30, 40)]))
    assert out["Z"]["value_state"] == "published" and out["Z"]["value"] == 0
    assert out["Z"]["numerator"] == 0
    assert out["M"]["value_state"] == "missing" and out["M"]["value"] is None
    assert out["S"]["value_state"] == "suppressed"


def test_national_is_published_unrounded_but_can_be_rounded_too():
    rows = [row("national", 13, 40, area_type="national", parent=None)]
    assert apply_disclosure(rows)[0]["numerator"] == 13
    assert apply_disclosure(rows, national_exempt=False)[0]["numerator"] == 15


def test_small_counts_are_suppressed_at_national_level_too():
    """A county workspace's "national" is the county: '2 of 3 deaths aged 10-14' was
    published unrounded (found by a user test). Its lone small category is protected
    from subtraction from the national total as any area's is."""
    rows = [row("national", 2, 3, area_type="national", parent=None, breakdown="age",
                category="10-14"),
            row("national", 400, 900, area_type="national", parent=None, breakdown="age",
                category="15-19"),
            row("national", 402, 903, area_type="national", parent=None)]
    out = {r["category"]: r for r in apply_disclosure(rows)}
    assert out["10-14"]["value_state"] == out["15-19"]["value_state"] == "suppressed"
    assert out["10-14"]["numerator"] is None and out["15-19"]["numerator"] is None
    assert out["all"]["numerator"] == 402  # the total itself stays, unrounded


@pytest.mark.parametrize("statistic", ["crude_rate", "mean"])
def test_a_small_count_denominator_of_a_rate_or_mean_is_suppressed(statistic):
    """Emergency admissions per death over 5 deaths (13 admissions) was published as
    15 / 5 = 300 (found by a user test): deaths are people, as a proportion's are."""
    rate = row("W1", 13, 5, statistic=statistic)
    rate["value"] = 13 / 5 * 100
    out = apply_disclosure([rate, row("W2", 40, 50, statistic=statistic)])[0]
    assert out["value_state"] == "suppressed" and out["denominator"] is None
    assert "a count from 1 to 7" in out["value_note"]


def test_secondary_suppression_protects_a_lone_suppressed_sibling():
    out = by_code(apply_disclosure([row("A", 3, 40), row("B", 50, 90), row("C", 20, 45),
                                    row("D", 40, 60)]))
    assert out["A"]["value_state"] == "suppressed"
    assert out["C"]["value_state"] == "suppressed"  # the smallest other sibling
    # One note for both: with a note of its own, C was known not to be 1 to 7.
    assert out["C"]["value_note"] == out["A"]["value_note"]
    assert out["B"]["value_state"] == out["D"]["value_state"] == "published"


def test_secondary_suppression_covers_breakdown_categories():
    rows = [row("A", 5, 40, breakdown="sex", category="female", parent=None),
            row("A", 20, 40, breakdown="sex", category="male", parent=None),
            row("B", 30, 40, breakdown="sex", category="female", parent=None),
            row("B", 25, 40, breakdown="sex", category="male", parent=None)]
    out = apply_disclosure(rows)
    states = {(r["area_code"], r["category"]): r["value_state"] for r in out}
    assert states[("A", "female")] == states[("A", "male")] == "suppressed"
    # ...which leaves B alone-suppressed in the male siblings group, so B is protected too
    assert list(states.values()).count("suppressed") % 2 == 0


def test_small_denominator_of_a_proportion_is_suppressed():
    assert apply_disclosure([row("A", 0, 5)])[0]["value_state"] == "suppressed"


def test_dataframe_in_dataframe_out_with_the_reason_column():
    df = pd.DataFrame([row("A", 3, 40), row("B", 12, 40), row("C", 9, 40)])
    out = apply_disclosure(df)
    assert isinstance(out, pd.DataFrame) and "disclosure" in out.columns
    assert list(out["area_code"]) == ["A", "B", "C"]
    assert df.loc[0, "numerator"] == 3  # input untouched


def test_a_dataframe_without_states_gets_them():
    """Without the column a suppressed row came out blank, as if published empty."""
    df = pd.DataFrame([row("A", 3, 40), row("B", 12, 40), row("C", 9, 40)]).drop(
        columns=["value_state", "value_note"])
    out = apply_disclosure(df).set_index("area_code")
    assert out.loc["A", "value_state"] == "suppressed" and out.loc["A", "value_note"]
    assert out.loc["B", "value_state"] == "suppressed"  # beside A
    assert out.loc["C", "value_state"] == "published"


def test_policy_from_workspace_config_and_validation():
    policy = DisclosurePolicy.from_config({"disclosure": {"suppress_below": 11, "round_to": 10}})
    assert (policy.suppress_below, policy.round_to) == (11, 10)
    assert "1 to 10" in policy.describe()
    # A page of a DSR or a mean says what is done to its values too; a proportion's no more.
    assert "fewer than 10 events" in policy.describe("dsr") and \
        "weight of one event" in policy.describe("dsr")
    assert "1 decimal place" in policy.describe("mean")
    assert policy.describe("proportion") == policy.describe()
    with pytest.raises(ValueError, match="round_to"):
        DisclosurePolicy(round_to=0)


@pytest.mark.parametrize(("setting", "message"), [
    ({"suppress_below": "eight"}, "suppress_below: must be a whole number, at least 2"),
    ({"suppress_below": 1}, "suppress_below: must be a whole number, at least 2, not 1"),
    ({"suppress_below": True}, "suppress_below: must be a whole number"),
    ({"round_to": 0}, "round_to: must be a whole number, at least 1"),
    ({"round_to": 2.5}, "round_to: must be a whole number"),
    ({"national_exempt": "no"}, "national_exempt: must be true or false"),
    ({"supress_below": 10}, "unknown setting 'supress_below'"),  # a typo is not ignored
])
def test_a_workspace_policy_that_is_not_one_is_refused_saying_where(setting, message):
    """A threshold of "eight" stopped the export with a traceback; one of 1 published
    every count."""
    from carepath.errors import ValidationError

    with pytest.raises(ValidationError, match=message) as refused:
        DisclosurePolicy.from_config({"disclosure": setting})
    assert str(refused.value).startswith("carepath.toml [disclosure]")


def test_a_workspace_config_that_is_not_toml_is_refused_saying_where(tmp_path):
    from carepath.errors import WorkspaceError
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text() + "\nsuppress_below = 8 x\n")
    with pytest.raises(WorkspaceError, match=r"carepath.toml: not valid TOML: .*line \d+"):
        ws.config()


def test_an_empty_workspace_config_is_refused_not_read_as_the_defaults(tmp_path):
    """An editor empties carepath.toml before writing it: read then, a threshold of 40 was
    the default 8 and a public page published counts of 10 (a code review)."""
    from carepath.errors import WorkspaceError
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    ws.config_path.write_text("\n")
    with pytest.raises(WorkspaceError, match="carepath.toml: is empty"):
        ws.config()
    ws.config_path.write_bytes(b'name = "caf\xe9"\n')  # Windows-1252, not UTF-8
    with pytest.raises(WorkspaceError, match="not UTF-8"):
        ws.config()


def test_one_request_publishes_under_one_reading_of_the_settings():
    """The policy, the figures' settings and their cache key come from one reading of
    carepath.toml: read again for the key, a file edited in between cached figures of
    threshold 8 under threshold 40's key (a code review)."""
    from types import SimpleNamespace

    from carepath.web.cache import VersionedCache
    from carepath.web.pages.public import policy_of, publication, publication_key

    readings = iter([{"disclosure": {"suppress_below": 8}},
                     {"disclosure": {"suppress_below": 40}}])
    ws = SimpleNamespace(config=lambda: next(readings))
    request = SimpleNamespace(state=SimpleNamespace(),
                              app=SimpleNamespace(state=SimpleNamespace(
                                  ws=ws, cache=VersionedCache())))
    settings = publication(request)
    assert settings.policy.suppress_below == 8
    assert policy_of(request) is settings.policy and publication_key(request) is settings.key
    assert publication_key(request)[0].suppress_below == 8


def test_rounding_goes_half_up():
    assert [round_count(x, 5) for x in (7.5, 8, 12, 12.5, 13, 22.5)] == [10, 10, 10, 15, 15, 25]


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=400))


@st.composite
def groups(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    rows = []
    for i in range(n):
        num = draw(counts)
        den = None if num is None else num + draw(st.integers(min_value=0, max_value=400))
        state = draw(st.sampled_from(["published", "published", "published", "suppressed",
                                      "missing"]))
        if num is None and state == "published":
            state = "missing"
        rows.append(row(f"P{i}", num, den, state=state, parent=draw(st.sampled_from("XY"))))
    return rows


@settings(max_examples=150, deadline=None)
@given(groups(), st.integers(min_value=2, max_value=12), st.sampled_from([1, 5, 10]))
def test_invariants(rows, k, to):
    out = apply_disclosure(rows, suppress_below=k, round_to=to)
    assert len(out) == len(rows)
    for before, after in zip(rows, out, strict=True):
        assert after["value_state"] in ("published", "suppressed", "missing")
        if before["value_state"] != "published":
            assert after["value_state"] == before["value_state"]  # never un-suppressed
        if after["value_state"] != "published":
            assert after["numerator"] is None and after["value"] is None
            continue
        num = after["numerator"]
        assert not (0 < before["numerator"] < k)  # the exact count was not small
        assert abs(num - before["numerator"]) <= to / 2
        assert num % to == 0
        if after["denominator"]:
            assert math.isclose(after["value"], num / after["denominator"] * 100)
    # no group under one parent has exactly one hidden member among published neighbours
    # (hidden: suppressed, or missing with a count, which is not shown either)
    for parent in "XY":
        grp = [(b, a) for b, a in zip(rows, out, strict=True) if b["parent_code"] == parent]
        hidden = [a for b, a in grp if a["value_state"] == "suppressed" or (
            a["value_state"] == "missing" and b["numerator"])]
        shown = [a for b, a in grp if a["value_state"] == "published"]
        assert not (len(hidden) == 1 and shown), "a lone suppressed cell could be derived"


def _scaled(code, num, den, statistic, scale):
    """A row whose value is num / den x scale, with the engine's intervals."""
    from carepath import stats

    r = row(code, num, den, statistic=statistic)
    method = stats.proportion if statistic == "proportion" else stats.rate
    lim95, lim998 = (method(num, den, confidence=c, multiplier=scale) for c in (0.95, 0.998))
    r.update(value=float(lim95.value), lower95=float(lim95.lower), upper95=float(lim95.upper),
             lower998=float(lim998.lower), upper998=float(lim998.upper))
    return r


@pytest.mark.parametrize("statistic, den, scale", [
    ("isratio", 812.37, 100),           # observed / expected x 100
    ("isr", 812.37, 100 * 0.0042),      # observed / expected x reference rate
    ("crude_rate", 20_000, 100_000 / 0.25),  # per 100,000 a year, over one quarter
    ("crude_rate", 20_000, 50),         # a multiplier that is not a power of 10
    ("proportion", 2_000, 100),
])
def test_published_value_gives_back_only_the_rounded_count(statistic, den, scale):
    """Value x denominator / scale must be the published (rounded) count, never the exact
    one: an ISR published with its exact value and expected count gave the count back."""
    out = apply_disclosure([_scaled("A", 1956, den, statistic, scale),
                            _scaled("B", 1002, den, statistic, scale)])
    a = out[0]
    assert a["numerator"] == 1955
    published_den = a["denominator"]
    assert a["value"] * published_den / scale == pytest.approx(1955)
    assert a["lower95"] < a["value"] < a["upper95"]
    assert a["value"] / scale * published_den != pytest.approx(1956, abs=0.5)


@pytest.mark.parametrize("statistic, scale", [("isratio", 100), ("isr", 100 * 0.0042)])
def test_an_expected_count_equal_to_the_observed_is_rounded_as_it_is(statistic, scale):
    """In the reference population's own area (the workspace, not exempt) the expected
    count is the observed by construction: published exact beside the rounded count, it
    gave the count back (national 39204.0 beside 39205: a red team)."""
    reference = _scaled("N", 39_204, 39_204.0, statistic, scale)
    out = apply_disclosure([reference, _scaled("B", 1002, 812.37, statistic, scale)])
    n, b = out
    assert n["numerator"] == n["denominator"] == 39_205
    assert n["value"] == pytest.approx(scale)
    # Elsewhere rounded too: areas' exact expected counts added up to the reference's (a
    # review); the published value still gives back only the rounded count.
    assert b["denominator"] == 810
    assert b["value"] * b["denominator"] / scale == pytest.approx(b["numerator"])


def test_a_count_is_published_as_its_rounded_count():
    from carepath import stats

    r = row("A", 883, None, statistic="count")
    iv = stats.rate(883, 1, confidence=0.95, multiplier=1)
    r.update(value=883.0, lower95=float(iv.lower), upper95=float(iv.upper))
    out = apply_disclosure([r, row("B", 40, None, statistic="count")])[0]
    assert out["numerator"] == out["value"] == 885
    expected = stats.rate(885, 1, confidence=0.95, multiplier=1)
    assert (out["lower95"], out["upper95"]) == pytest.approx(
        (float(expected.lower), float(expected.upper)))


def test_no_events_keeps_the_rate_scale_for_the_interval():
    zero = _scaled("Z", 0, 20_000, "crude_rate", 100_000 / 0.25)
    out = apply_disclosure([zero, _scaled("B", 40, 20_000, "crude_rate", 100_000 / 0.25)])[0]
    assert out["value"] == 0
    assert out["upper95"] == pytest.approx(zero["upper95"])  # 20,000 rounds to itself


@settings(max_examples=60, deadline=None)
@given(num=st.integers(8, 5_000), den=st.floats(50, 1e6),
       statistic=st.sampled_from(["isratio", "crude_rate", "count"]),
       scale=st.sampled_from([1, 50, 100, 100_000, 400_000]))
def test_value_always_agrees_with_the_published_count(num, den, statistic, scale):
    den = None if statistic == "count" else den
    r = _scaled("A", num, den or 1, statistic, scale)
    r["denominator"] = den
    out = apply_disclosure([r, _scaled("B", 500, den or 1, statistic, scale)])[0]
    assert out["numerator"] == round_count(num, 5)
    assert out["value"] == pytest.approx(out["numerator"] / (out["denominator"] or 1) * scale,
                                         rel=1e-9)


def test_the_public_view_treats_a_weighted_sum_as_the_export_does(tmp_path):
    """The public pages read no method column, so bed days went through the rate path on
    rounded days: a narrow Poisson interval, unlike `export --public`."""
    from carepath.disclosure import DisclosurePolicy
    from carepath.stats.intervals import METHOD_WEIGHTED
    from carepath.web.pages.public import public_values
    from carepath.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    with ws.transaction() as con:
        con.execute("""INSERT INTO indicator_values (indicator_id, indicator_version,
            definition_hash, area_code, area_name, area_type, period, period_start,
            period_end, breakdown, category, numerator, denominator, value, lower95, upper95,
            statistic, method, value_state, load_ids, carepath_version, computed_at)
            VALUES ('beds', '1', 'h', 'L1', 'North', 'locality', '2024/25',
            DATE '2024-04-01', DATE '2025-03-31', 'all', 'all', 107, 43, ?, 0.8, 5.1,
            'crude_rate', ?, 'published', '', '0', TIMESTAMP '2025-06-01 00:00:00')""",
                    [107 / 43, METHOD_WEIGHTED])
        frame = public_values(con, DisclosurePolicy(), "beds")
    got = frame.iloc[0]
    assert got.value == pytest.approx(105 / 45)
    assert got.lower95 is None or math.isnan(got.lower95)


def test_secondary_suppression_covers_a_workspaces_own_groups():
    """Coastal = W1 + W2 + W3 is published; W2 alone suppressed came out of the group's
    total less the others (found by a user test): W2's protection under its PCN fell on
    a practice outside the group."""
    rows = [row("W2", 7, 40, parent="PCN1"), row("W5", 60, 90, parent="PCN1"),
            row("W7", 20, 40, parent="PCN1"),
            row("W1", 30, 40, parent="PCN2"), row("W3", 40, 50, parent="PCN2"),
            row("W4", 35, 50, parent="PCN2"), row("W6", 50, 90, parent="PCN2"),
            row("COAST", 77, 130, area_type="group", parent=None)]
    coast = ("W1", "W2", "W3")

    def hidden(out):
        return {c for c, r in by_code(out).items() if r["value_state"] == "suppressed"}

    assert hidden(apply_disclosure(rows)) & set(coast) == {"W2"}  # derivable from COAST
    out = hidden(apply_disclosure(rows, groups={"COAST": list(coast)}))
    assert len(out & set(coast)) == 2 and "COAST" not in out
    assert out == {"W2", "W7", "W1", "W4"}  # W1 for the group, W4 then for W1 under PCN2


def _national(category, num, den, state="published", statistic="proportion"):
    return row("national", num, den, area_type="national", parent=None, state=state,
               breakdown="all" if category == "all" else "age", category=category,
               statistic=statistic)


def test_a_national_category_is_not_given_back_by_a_zero_or_the_exact_total():
    """Found by a code review: 5-9 (0) was hidden to protect 10-14 (2), and with the exact
    total and exact categories, 432 - 30 - 400 = 2 gave the 2 back."""
    rows = [_national("5-9", 0, 9), _national("10-14", 2, 10), _national("15-19", 30, 60),
            _national("20-24", 402, 900), _national("all", 434, 979)]
    out = {r["category"]: r for r in apply_disclosure(rows)}
    assert out["10-14"]["value_state"] == "suppressed"
    assert out["5-9"]["value_state"] == "published" and out["5-9"]["numerator"] == 0
    assert out["15-19"]["value_state"] == "suppressed"  # the smallest that is not zero
    assert out["20-24"]["numerator"] == 400  # categories rounded, as any area's
    assert out["all"]["numerator"] == 434  # the headline stays exact


def test_a_missing_category_hiding_a_small_count_is_protected_too():
    """A national DSR for men from 6 events is missing (under 10 events), its count blanked;
    with persons and women published exactly it came back as 606 - 600 (code review)."""
    rows = [_national("all", 606, 9e5, statistic="dsr"),
            _national("F", 600, 4.5e5, statistic="dsr"),
            _national("M", 6, 4.5e5, state="missing", statistic="dsr")]
    out = {r["category"]: r for r in apply_disclosure(rows)}
    assert out["M"]["value_state"] == "missing" and out["M"]["numerator"] is None
    assert out["F"]["value_state"] == "suppressed"


def test_a_dsr_interval_does_not_give_its_exact_count_back():
    """Dobson limits are value + s x (Byar's limit of O - O): their lower and upper parts
    are in a ratio only O decides, so every published DSR gave its exact count back (found
    by a review). They are moved to those of the rounded count."""
    from carepath.stats.intervals import byars_lower, byars_upper

    def dobson(events, value, spread):
        r = row("P1", events, 5e4, statistic="dsr")
        r.update(value=value)
        for level, low, high in ((0.95, "lower95", "upper95"), (0.998, "lower998", "upper998")):
            r[low] = value + spread * (float(byars_lower(events, level)) - events)
            r[high] = value + spread * (float(byars_upper(events, level)) - events)
        return r

    out = apply_disclosure([dobson(12, 80.0, 6.5), row("P2", 40, 90)])[0]
    assert out["numerator"] == 10 and out["value"] == 80.0
    as_ten = dobson(10, 80.0, 1.0)
    shape = (out["value"] - out["lower95"]) / (out["upper95"] - out["value"])
    assert shape == pytest.approx((80 - as_ten["lower95"]) / (as_ten["upper95"] - 80))
    assert out["lower998"] < out["lower95"] < 80 < out["upper95"] < out["upper998"]


def test_a_means_interval_does_not_give_its_exact_number_of_people_back():
    """The 95% and 99.8% half-widths are t quantiles of n - 1 apart: their ratio gave n
    (458 behind a published 460; found by a review)."""
    from scipy import special

    def t(n, level):
        return float(special.stdtrit(n - 1, 1 - (1 - level) / 2))

    mean = row("R1", 458, None, statistic="mean")
    half95, half998 = (t(458, lv) * 3.0 / 458 ** 0.5 for lv in (0.95, 0.998))
    mean.update(value=5.0, lower95=5 - half95, upper95=5 + half95, lower998=5 - half998,
                upper998=5 + half998)
    out = apply_disclosure([mean, row("R2", 40, 90)])[0]
    assert out["numerator"] == 460
    ratio = (out["upper998"] - 5) / (out["upper95"] - 5)
    assert ratio == pytest.approx(t(460, 0.998) / t(460, 0.95))
    assert out["upper95"] - 5 == pytest.approx(t(460, 0.95) * 3.0 / 460 ** 0.5)


def test_a_missing_cell_hiding_any_count_is_protected():
    """A DSR of 9 events (missing: under 10) came back as 99 - 40 - 50 (found by a review)."""
    rows = [row("A", 40, 90), row("B", 50, 90), row("C", 9, 90, state="missing"),
            row("L", 99, 270, area_type="locality", parent=None)]
    out = by_code(apply_disclosure(rows))
    assert out["C"]["numerator"] is None
    assert out["A"]["value_state"] == "suppressed"


def test_a_dsr_interval_rests_on_published_figures_alone():
    """The exact spread s kept a floor of value / s under the exact count, and the DSR's
    population was published unrounded (a privacy review): s is now value / rounded count
    and the population is rounded."""
    from carepath.stats.intervals import byars_lower

    r = row("P1", 12, 50_003, statistic="dsr")
    r.update(value=80.0, lower95=50.0, upper95=120.0, lower998=40.0, upper998=140.0)
    out = apply_disclosure([r, row("P2", 40, 90)])[0]
    assert out["numerator"] == 10 and out["denominator"] == 50_005
    spread = (out["value"] - out["lower95"]) / (10 - float(byars_lower(10, 0.95)))
    assert spread == pytest.approx(80.0 / 10)  # the published value over the published count


def test_a_mean_is_published_rounded_so_its_whole_totals_do_not_pin_the_count():
    """408 people scoring 3589 in all: mean x n was whole for n = 408 only of the five a
    published 410 allows, and gave the exact count back (a privacy review)."""
    mean = row("R1", 408, None, statistic="mean")
    exact = 3589 / 408
    mean.update(value=exact, lower95=exact - 0.2, upper95=exact + 0.2,
                lower998=exact - 0.3, upper998=exact + 0.3)
    out = apply_disclosure([mean, row("R2", 40, 90)])[0]
    assert out["numerator"] == 410 and out["value"] == round(exact, 1)
    whole = [n for n in range(408, 413) if abs(out["value"] * n - round(out["value"] * n))
             <= n * 0.05]
    assert len(whole) > 1  # several counts fit the published mean


def test_a_rate_whose_scale_cannot_be_read_publishes_no_exact_figure():
    """A value of 0 over 12 events gives no scale to recompute with: the exact interval
    stayed beside the rounded count (a code review)."""
    r = row("P1", 12, 100, statistic="crude_rate")
    r.update(value=0.0, lower95=1.0, upper95=2.0)
    out = apply_disclosure([r, row("P2", 40, 90)])[0]
    assert out["numerator"] == 10 and out["value"] is None and out["lower95"] is None


def test_a_published_value_keeps_only_notes_the_public_may_read():
    """An analysts' note can hold a count (a DSR's events with no recorded age: '3 counted
    ...'); it went out in the public export's Value note. What an area leaves out (the
    publisher's suppressed practices, a count of practices) goes out, with the rounding."""
    counted = row("L1", 120, 400, area_type="locality", parent="I1")
    counted["value_note"] = "3 counted with no recorded age: not in the standardised rate"
    left_out = row("L2", 130, 400, area_type="locality", parent="I1")
    left_out["value_note"] = "leaves out 1 practice whose figures the publisher suppressed"
    out = by_code(apply_disclosure([counted, left_out]))
    assert out["L1"]["value_note"] is None and "3 counted" not in out["L1"]["disclosure"]
    assert out["L2"]["value_note"] == left_out["value_note"]
    assert out["L2"]["disclosure"] == ("counts rounded to the nearest 5; leaves out 1 "
                                       "practice whose figures the publisher suppressed")


def test_a_dsr_is_published_to_one_events_weight_so_it_does_not_tell_the_ages():
    """A DSR is sum(weight x count / population) over age bands, the weights and list sizes
    public. Published to sixteen digits, the one equation told a small practice's ages:
    of every way 12 cancers can fall in six age bands, one alone gives the exact value.
    Published to one event's weight (190 for 193.99), thousands do."""
    import itertools

    from carepath.stats.standardise import ESP2013

    weights = ESP2013[-6:] / ESP2013.sum() * 1e5 / np.array([313, 287, 241, 179, 122, 57])
    ages = np.array([1, 3, 2, 4, 0, 2])  # 12 cancers aged 65 and over
    exact = float(weights @ ages)
    r = row("P1", 12, 5e4, statistic="dsr")
    r.update(value=exact, lower95=exact * 0.6, upper95=exact * 1.6, lower998=exact * 0.5,
             upper998=exact * 1.9)
    out = apply_disclosure([r, row("P2", 40, 90)])[0]
    assert out["numerator"] == 10 and out["value"] != exact
    step = 10.0 ** math.floor(math.log10(out["value"] / 10))
    assert abs(out["value"] - exact) <= step / 2

    def fits(value: float, within: float) -> int:
        return sum(abs(float(weights @ np.array(c)) - value) <= within
                   for n in range(10, 15)  # what a published 10 allows
                   for c in itertools.product(range(n + 1), repeat=6) if sum(c) == n)

    assert fits(exact, 1e-9) == 1
    assert fits(out["value"], step / 2) > 1000  # 4,040 of 33,755


def test_a_national_dsr_keeps_its_count_but_not_its_exact_value_and_interval():
    """National's headline count is published exactly. Its DSR's exact value and Dobson
    limits were too: two exact equations in the age bands' counts (the value's sum of
    weight x count / population, the interval's of weight squared), with the exact total
    and the rounded bands they gave every national age band of a county back, the hidden
    ones of 1 to 7 too (a red team, 2026-12-07). Now its value is to one event's weight
    and its interval rests on the published value and count alone, as every area's."""
    import itertools

    from carepath.stats.intervals import byars_lower, byars_upper
    from carepath.stats.standardise import ESP2013

    weights = ESP2013[-6:] / ESP2013.sum() * 1e5 / np.array([313, 287, 241, 179, 122, 57])
    ages = np.array([1, 3, 2, 4, 0, 2])  # 12 cancers aged 65 and over
    exact, events = float(weights @ ages), int(ages.sum())
    sd = math.sqrt(float((weights ** 2) @ ages) / events)  # Dobson's, from the ages
    national = row("national", events, 5e4, area_type="national", parent=None,
                   statistic="dsr")
    national["value"] = exact
    for level, low, high in ((0.95, "lower95", "upper95"), (0.998, "lower998", "upper998")):
        national[low] = exact + sd * (float(byars_lower(events, level)) - events)
        national[high] = exact + sd * (float(byars_upper(events, level)) - events)
    out = apply_disclosure([national])[0]
    assert out["numerator"] == events and out["value"] != exact  # the count still exact
    spread = (out["value"] - out["lower95"]) / (events - float(byars_lower(events, 0.95)))
    assert spread == pytest.approx(out["value"] / events)  # published figures alone
    step = 10.0 ** math.floor(math.log10(out["value"] / events))

    def fits(value: float, within: float) -> int:
        return sum(abs(float(weights @ np.array(c)) - value) <= within
                   for c in itertools.product(range(events + 1), repeat=6)
                   if sum(c) == events)

    assert fits(exact, 1e-9) == 1
    assert fits(out["value"], step / 2) > 1000  # 1,905 of the 6,188 ways 12 fall in 6
