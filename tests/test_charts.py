from __future__ import annotations

import math

import pytest

from carepath import charts


def test_spine_positions_put_national_in_the_middle_and_best_on_the_right():
    p = charts.spine_positions(60, 50, 30, 45, 55, 70, higher_is_better=True)
    assert p["value"] == pytest.approx(0.75)
    q = charts.spine_positions(60, 50, 30, 45, 55, 70, higher_is_better=False)
    assert q["value"] == pytest.approx(0.25)  # high is bad: a high value sits left
    assert 0 <= p["lo"] <= p["q_lo"] <= p["q_hi"] <= p["hi"] <= 1


def test_spine_positions_missing_national_gives_no_position():
    assert charts.spine_positions(1, math.nan, 0, 0, 1, 2, higher_is_better=True) is None


def test_charts_render_to_svg_offline():
    rows = [{"indicator": "Early stage", "significance": "worse", "value_text": "41%",
             "pos": charts.spine_positions(41, 55, 30, 50, 60, 70, higher_is_better=True)}]
    svg = charts.to_svg(charts.spine_chart(rows))
    assert svg.startswith("<svg") and "Early stage" in svg and "Worse" in svg


def test_legend_lists_only_categories_present():
    spec = charts.bar_with_intervals(
        [{"name": "A", "value": 1, "lower": 0, "upper": 2, "significance": "better"}],
        average=1, y_title="%")
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Better"]


def test_short_labels_are_unique_and_keep_distinguishing_endings():
    from hypothesis import given
    from hypothesis import strategies as st

    from carepath.charts import short_labels

    long = "Cancers diagnosed after an emergency presentation"
    got = short_labels([long, long + " (quarterly)", "Deaths in hospital"])
    assert got["Deaths in hospital"] == "Deaths in hospital"
    assert got[long + " (quarterly)"].endswith("(quarterly)")
    assert len(set(got.values())) == 3

    @given(st.lists(st.text(min_size=1, max_size=90), max_size=30),
           st.integers(min_value=20, max_value=90))
    def unique_and_short(labels, chars):
        out = short_labels(labels, chars)
        assert len(set(out.values())) == len(set(labels))
        assert all(len(v) <= max(chars, len(k)) for k, v in out.items())

    unique_and_short()
    # Elided between whole words ('after an eme…cy presentation': a walkthrough).
    words = set(long.split())
    assert all(w in words for w in got[long].replace("…", " ").split())


def test_a_web_page_spine_keeps_whole_titles():
    longest = "x" * 40 + " " + "y" * 48  # 89 characters, the longest built-in title
    spec = charts.spine_chart([{"indicator": longest, "pos": {
        "lo": 0, "hi": 1, "q_lo": .25, "q_hi": .75, "value": .5}}],
        label_chars=charts.WIDE_LABEL_CHARS)
    assert spec["layer"][0]["data"]["values"][0]["indicator"] == longest


def test_a_funnel_without_limits_keeps_its_axis_title():
    spec = charts.funnel_plot([{"name": "A", "denominator": 10, "value": 8.0,
                                "significance": "similar"}], [], average=8.0,
                              x_title="Deaths", y_title="Bed days per death")
    titles = {layer["encoding"]["y"].get("title") for layer in spec["layer"]}
    assert titles == {"Bed days per death"}


def test_a_bar_chart_without_intervals_draws_no_interval_layer():
    """Public bed days carry no interval: an empty rule layer made Vega warn of an
    infinite extent."""
    rows = [{"name": n, "value": v, "lower": None, "upper": None} for n, v in (("A", 1), ("B", 2))]
    spec = charts.bar_with_intervals(rows, average=1.5, y_title="Bed days")
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "rule"]
    with_limits = [dict(r, lower=0.5, upper=3) for r in rows]
    spec = charts.bar_with_intervals(with_limits, average=1.5, y_title="Bed days")
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "rule", "rule"]


def test_a_trend_draws_one_line_for_series_with_the_same_values():
    """An ICB that is the whole workspace hid under national's line, with two legend
    entries for one line (a walkthrough)."""
    rows = [{"period": p, "series": s, "value": v, "lower": v - 1, "upper": v + 1}
            for p, v in (("2023/24", 19.0), ("2024/25", 18.3))
            for s in ("All areas in the workspace", "NHS Wessex ICB")]
    rows += [{"period": "2024/25", "series": "North", "value": 12.0, "lower": 10.0,
              "upper": 14.0}]
    spec = charts.trend_chart(rows, y_title="%")
    assert {r["series"] for r in spec["data"]["values"]} == {
        "All areas in the workspace = NHS Wessex ICB", "North"}
    assert len(spec["data"]["values"]) == 3
    band, line = spec["layer"]
    legend = line["encoding"]["color"]["legend"]
    assert legend["labelLimit"] >= 300 and legend["symbolOpacity"] == 1
    assert band["encoding"]["color"]["legend"] == legend  # one legend: Vega warned of two


def test_a_judgement_never_rests_on_colour_alone():
    """Green and red are alike to many colour-blind readers (an accessibility audit): the
    funnel's points take a shape per judgement, and each bar a mark the legend explains."""
    points = [{"name": n, "denominator": d, "value": v, "significance": s}
              for n, d, v, s in (("A", 100, 60, "better"), ("B", 200, 50, "similar"),
                                 ("C", 300, 40, "worse"))]
    funnel = charts.funnel_plot(points, [], average=50, x_title="n", y_title="%")
    shape = funnel["layer"][-1]["encoding"]["shape"]
    assert dict(zip(shape["scale"]["domain"], shape["scale"]["range"], strict=True)) == {
        "Better": "triangle-up", "Similar": "circle", "Worse": "triangle-down"}
    colour = funnel["layer"][-1]["encoding"]["color"]
    assert shape["title"] == colour["title"]  # one legend, shape and colour together
    bars = charts.bar_with_intervals([dict(p, lower=p["value"] - 5, upper=p["value"] + 5)
                                      for p in points], average=50, y_title="%")
    text = next(layer for layer in bars["layer"] if layer["mark"]["type"] == "text")
    assert text["encoding"]["text"] == {"field": "mark"}
    marked = {r["full_name"]: (r["mark"], r["mark_at"]) for r in bars["data"]["values"]}
    assert marked == {"A": ("\u2713", 65), "B": ("\u2248", 55), "C": ("\u2717", 45)}
    svg = charts.to_svg(bars)
    assert "Better \u2713" in svg and "Worse \u2717" in svg  # the legend says which is which


def test_spine_comparators_are_told_apart_and_named_in_a_legend():
    """The locality's and the ICB's ticks looked alike and were named nowhere (a
    walkthrough)."""
    rows = [{"indicator": "A", "title": "A", "significance": "similar", "value_text": "1",
             "pos": {"lo": 0, "q_lo": 0.3, "q_hi": 0.7, "hi": 1, "value": 0.6},
             "comparators": [{"name": "locality", "pos": 0.4}, {"name": "icb", "pos": 0.55}]}]
    spec = charts.spine_chart(rows)
    marks = next(layer for layer in spec["layer"]
                 if layer["encoding"].get("shape", {}).get("title") == "Comparators")
    shape = marks["encoding"]["shape"]
    assert shape["scale"]["domain"] == ["Locality", "ICB"]
    assert len(set(shape["scale"]["range"])) == 2
    judged = next(layer for layer in spec["layer"]
                  if layer["encoding"].get("shape", {}).get("title") == "Compared with national")
    assert not set(shape["scale"]["range"]) & set(judged["encoding"]["shape"]["scale"]["range"])
    assert spec["resolve"]["scale"]["shape"] == "independent"
    charts.to_svg(spec)  # draws
