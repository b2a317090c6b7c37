"""Chart components shared by web pages and printed packs.

Each builder takes plain rows and returns a Vega-Lite spec (a dict). The web page hands the
spec to the vega-embed bundle shipped in the package; packs and PDFs render it to SVG on the
server with vl-convert (no browser, no network), so the printed chart is the one on screen.
Every chart has a table alternative built from the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
FONT = "Arial, Helvetica, sans-serif"

# Significance colours (Fingertips convention), with NHS palette equivalents that keep
# WCAG contrast on white. Text labels always accompany colour.
SIGNIFICANCE_COLOURS = {
    "better": "#007F3B",  # NHS green (#009639 is 3.8:1 on white, under the 4.5:1 of text)
    "similar": "#FFB81C",  # NHS warm yellow
    "worse": "#DA291C",  # NHS emergency-services red
    "higher": "#003087",  # NHS dark blue (no judgement)
    "lower": "#41B6E6",  # NHS light blue (no judgement)
    "not_compared": "#AEB7BD",  # NHS mid grey
    "suppressed": "#FFFFFF",
    "missing": "#FFFFFF",
}
SIGNIFICANCE_LABELS = {
    "better": "Better",
    "similar": "Similar",
    "worse": "Worse",
    "higher": "Higher",
    "lower": "Lower",
    "not_compared": "Not compared",
    "suppressed": "Suppressed",
    "missing": "No data",
}
# Shapes beside the colours, so a judgement never rests on colour alone (green and red are
# alike to many colour-blind readers: an accessibility audit): up for better, down for
# worse, as the rug's tick and cross.
SIGNIFICANCE_SHAPES = {
    "better": "triangle-up", "similar": "circle", "worse": "triangle-down",
    "higher": "square", "lower": "diamond", "not_compared": "cross", "suppressed": "circle",
    "missing": "circle",
}
# The same, as text beside a bar (bars have no shapes): the rug's marks.
SIGNIFICANCE_MARKS = {"better": "\u2713", "worse": "\u2717", "similar": "\u2248",
                      "higher": "\u2191", "lower": "\u2193"}
# Marks' outline: light fills (similar's yellow, 1.7:1 on white) are seen by it.
MARK_OUTLINE = "#212B32"
RANGE_GREYS = ("#768692", "#AEB7BD", "#E8EDEE")  # NHS grey tints: outer, inner, background
# A spine's comparators by name, and the hollow shape each is drawn as.
COMPARATOR_WORDS = {"locality": "Locality", "icb": "ICB", "pcn": "PCN", "sub_icb": "Sub-ICB"}
# (Hollow, and not the judgements' shapes: circles, triangles up and down, squares and
# diamonds.)
COMPARATOR_SHAPES = {"Locality": "cross", "ICB": "wedge", "PCN": "triangle-right",
                     "Sub-ICB": "triangle-left"}


# Axis labels are shortened here rather than by Vega's labelLimit: measuring text to
# truncate it made server-side rendering four times slower (vl-convert, 40-row spines).
LABEL_CHARS = 46
# On a web page the whole titles fit beside the chart (the longest built-in is 89).
WIDE_LABEL_CHARS = 90
LABEL_HEAD = 30


def short_labels(labels: Sequence[str], chars: int = LABEL_CHARS) -> dict[str, str]:
    """Full label -> short, unique label of at most ``chars``: the middle elided between
    whole words, so endings such as '(quarterly)' that tell two indicators apart survive
    and no word is cut ('after an eme…cy presentation': a walkthrough)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for full in labels:
        if full in out:
            continue
        short = full if len(full) <= chars else _elided(full, chars)
        n = 2
        while short in used:
            short, n = f"{short[:chars - 3]} ({n})", n + 1
        used.add(short)
        out[full] = short
    return out


def _elided(full: str, chars: int) -> str:
    head_chars = chars * LABEL_HEAD // LABEL_CHARS
    head = full[:head_chars]
    if " " in head and full[head_chars:head_chars + 1] not in ("", " "):
        head = head.rsplit(" ", 1)[0]  # not into a word
    room = chars - len(head.rstrip()) - len(" … ")
    tail = full[-room:] if room > 0 else ""
    if " " in tail and full[-room - 1:-room] not in ("", " "):
        tail = tail.split(" ", 1)[1]
    return f"{head.rstrip()} … {tail.lstrip()}"


def _config(width: int, height: int) -> dict:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "width": width,
        "height": height,
        "config": {
            "font": FONT,
            "axis": {"labelFontSize": 11, "titleFontSize": 12},
            "legend": {"labelFontSize": 11, "titleFontSize": 12},
            "view": {"stroke": None},
        },
    }


def _colour_scale(rows: Sequence[dict] = ()) -> dict:
    """Significance colours; the legend lists only the categories present."""
    present = {r.get("significance") for r in rows}
    keys = [k for k in SIGNIFICANCE_COLOURS if SIGNIFICANCE_LABELS[k] in present] or list(
        SIGNIFICANCE_COLOURS
    )
    return {
        "domain": [SIGNIFICANCE_LABELS[k] for k in keys],
        "range": [SIGNIFICANCE_COLOURS[k] for k in keys],
    }


def _marked_labels() -> str:
    """A Vega expression giving each legend label its mark ("Better \u2713")."""
    expr = "datum.label"
    for key, mark in SIGNIFICANCE_MARKS.items():
        expr = f"datum.label === '{SIGNIFICANCE_LABELS[key]}' ? '{SIGNIFICANCE_LABELS[key]} " \
               f"{mark}' : ({expr})"
    return expr


def _shape_scale(rows: Sequence[dict] = ()) -> dict:
    """The shapes of the categories present, in the colour scale's order (one legend)."""
    domain = _colour_scale(rows)["domain"]
    by_label = {SIGNIFICANCE_LABELS[k]: v for k, v in SIGNIFICANCE_SHAPES.items()}
    return {"domain": domain, "range": [by_label[label] for label in domain]}


def spine_positions(value, national, low, q1, q3, high, *, higher_is_better) -> dict | None:
    """Place a value on a Fingertips-style spine: national at 0.5, worst left, best right."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (national, low, high)):
        return None
    half = max(abs(high - national), abs(national - low)) or 1.0
    flip = -1.0 if higher_is_better is False else 1.0

    def pos(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return 0.5 + flip * (v - national) / (2 * half)

    ends = sorted([pos(low), pos(high)])
    quart = sorted(p for p in (pos(q1), pos(q3)) if p is not None) or [0.5, 0.5]
    return {"value": pos(value), "lo": ends[0], "hi": ends[1], "q_lo": quart[0],
            "q_hi": quart[-1]}


def _on_spine(position: float) -> float:
    """Keep a marker on the chart: a comparator far outside the practices' range (narrow
    ranges) is drawn at the edge rather than stretching the axis."""
    return min(max(position, 0.0), 1.0)


def spine_chart(rows: Sequence[dict], *, width: int = 420,
                label_chars: int = LABEL_CHARS) -> dict:
    """rows: indicator (label), pos dict from ``spine_positions``, significance, value_text,
    comparators: optional list of {"name", "pos"} (locality, ICB markers). ``label_chars``:
    the longest label (a page has room for whole titles, a printed pack less)."""
    bars, points, marks = [], [], []
    label = short_labels([r["indicator"] for r in rows], label_chars)
    for r in rows:
        p = r.get("pos")
        if not p:
            continue
        name = label[r["indicator"]]
        bars.append({"indicator": name, "lo": p["lo"], "hi": p["hi"],
                     "q_lo": p["q_lo"], "q_hi": p["q_hi"]})
        if p["value"] is not None:
            points.append({"indicator": name, "title": r["indicator"], "x": _on_spine(p["value"]),
                           "significance": SIGNIFICANCE_LABELS.get(r.get("significance"),
                                                                   "Not compared"),
                           "value": r.get("value_text", "")})
        for c in r.get("comparators", []):
            if c.get("pos") is not None:
                marks.append({"indicator": name, "x": _on_spine(c["pos"]),
                              "name": COMPARATOR_WORDS.get(c["name"], c["name"])})
    y = {"field": "indicator", "type": "nominal", "title": None, "sort": None,
         "axis": {"labelLimit": 0}}
    x_scale = {"domain": [0, 1]}
    present = list(dict.fromkeys(m["name"] for m in marks))
    spec = _config(width, max(24 * len(bars), 40))
    spec["layer"] = [
        {"data": {"values": bars}, "mark": {"type": "bar", "color": RANGE_GREYS[1], "height": 12},
         "encoding": {"y": y, "x": {"field": "lo", "type": "quantitative", "scale": x_scale,
                                     "axis": None}, "x2": {"field": "hi"}}},
        {"data": {"values": bars}, "mark": {"type": "bar", "color": RANGE_GREYS[0], "height": 12},
         "encoding": {"y": y, "x": {"field": "q_lo", "type": "quantitative", "scale": x_scale},
                      "x2": {"field": "q_hi"}}},
        {"data": {"values": [{"x": 0.5}]}, "mark": {"type": "rule", "color": "#212B32",
                                                     "strokeWidth": 2},
         "encoding": {"x": {"field": "x", "type": "quantitative", "scale": x_scale}}},
        # Each comparator its own hollow shape, named in a legend (the locality's and the
        # ICB's ticks looked alike and were named nowhere: a walkthrough).
        {"data": {"values": marks}, "mark": {"type": "point", "filled": False, "size": 110,
                                              "strokeWidth": 2, "color": "#212B32"},
         "encoding": {"y": y, "x": {"field": "x", "type": "quantitative", "scale": x_scale},
                      "shape": {"field": "name", "type": "nominal", "title": "Comparators",
                                "scale": {"domain": present,
                                          "range": [COMPARATOR_SHAPES.get(n, "cross")
                                                    for n in present]},
                                "legend": {"orient": "bottom", "direction": "horizontal"}},
                      "tooltip": [{"field": "name"}]}},
        {"data": {"values": points},
         "mark": {"type": "point", "filled": True, "size": 110, "stroke": "#212B32",
                  "strokeWidth": 1, "opacity": 1},
         "encoding": {"y": y, "x": {"field": "x", "type": "quantitative", "scale": x_scale},
                      "color": {"field": "significance", "type": "nominal",
                                "scale": _colour_scale(points), "title": "Compared with national",
                                # below the chart: long indicator names push a side legend
                                # off an A4 page
                                "legend": {"orient": "bottom", "direction": "horizontal"}},
                      # shaped as the funnel's: similar and worse were both circles
                      "shape": {"field": "significance", "type": "nominal",
                                "scale": _shape_scale(points), "title": "Compared with national",
                                "legend": {"orient": "bottom", "direction": "horizontal"}},
                      "tooltip": [{"field": "title", "title": "indicator"},
                                  {"field": "value"}, {"field": "significance"}]}},
    ]
    # The comparators' shapes are not the judgements': two legends, not one merged.
    spec["resolve"] = {"scale": {"shape": "independent", "color": "independent"}}
    return spec


def funnel_plot(points: Sequence[dict], limits: Sequence[dict], *, average: float,
                x_title: str, y_title: str, width: int = 520, height: int = 320,
                compared_with: str = "average") -> dict:
    """points: name, denominator, value, significance; limits: denominator, and
    lower95/upper95/lower998/upper998 columns. ``compared_with``: what the significance
    compares with, for the legend."""
    pts = [dict(p, significance=SIGNIFICANCE_LABELS.get(p.get("significance"), "Not compared"))
           for p in points]
    lim_long = [
        {"denominator": r["denominator"], "limit": r[k], "line": label, "key": k}
        for r in limits
        for k, label in (("lower95", "95%"), ("upper95", "95%"),
                         ("lower998", "99.8%"), ("upper998", "99.8%"))
        if r.get(k) is not None
    ]
    x = {"field": "denominator", "type": "quantitative", "title": x_title}
    spec = _config(width, height)
    spec["layer"] = [
        {"data": {"values": lim_long},
         "mark": {"type": "line", "interpolate": "monotone"},
         "encoding": {"x": x, "y": {"field": "limit", "type": "quantitative", "title": y_title,
                                   "scale": {"zero": False}},
                      "detail": {"field": "key"},
                      "strokeDash": {"field": "line", "type": "nominal", "title": "Limits",
                                     "scale": {"domain": ["95%", "99.8%"],
                                               "range": [[4, 3], [1, 0]]}},
                      "color": {"value": "#425563"}}},
        {"data": {"values": [{"y": average}]},
         "mark": {"type": "rule", "color": "#212B32"},
         "encoding": {"y": {"field": "y", "type": "quantitative", "title": y_title}}},
        {"data": {"values": pts},
         "mark": {"type": "point", "filled": True, "size": 70, "opacity": 1,
                  "stroke": MARK_OUTLINE, "strokeWidth": 0.75},
         # Every layer titles the axis: without limits, the empty line layer's title was
         # lost and the axis read "y, value".
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative",
                                    "title": y_title},
                      "color": {"field": "significance", "type": "nominal",
                                "scale": _colour_scale(pts),
                                "title": f"Compared with {compared_with}"},
                      "shape": {"field": "significance", "type": "nominal",
                                "scale": _shape_scale(pts),
                                "title": f"Compared with {compared_with}"},
                      "tooltip": [{"field": "name"}, {"field": "value", "format": ".1f"},
                                  {"field": "denominator", "format": ",.0f"},
                                  {"field": "significance"}]}},
    ]
    return spec


def bar_with_intervals(rows: Sequence[dict], *, average: float | None, y_title: str,
                       width: int = 520, compared_with: str = "average",
                       keep_order: bool = False) -> dict:
    """rows: name, value, lower, upper, significance; ordered by value, highest first, or
    as given (``keep_order``: groups with an order of their own, such as age bands).
    ``compared_with``: what the significance compares with, for the legend."""
    label = short_labels([r["name"] for r in rows if r.get("value") is not None])
    data = [dict(r, name=label[r["name"]], full_name=r["name"],
                 significance=SIGNIFICANCE_LABELS.get(r.get("significance"), "Not compared"),
                 mark=SIGNIFICANCE_MARKS.get(r.get("significance"), ""),
                 mark_at=max(v for v in (r["value"], r.get("upper")) if v is not None))
            for r in rows if r.get("value") is not None]
    y = {"field": "name", "type": "nominal", "title": None,
         "sort": [d["name"] for d in data] if keep_order else
         {"field": "value", "op": "max", "order": "descending"},
         "axis": {"labelLimit": 0}}
    spec = _config(width, max(16 * len(data), 40))
    layers = [
        {"mark": {"type": "bar", "height": 11, "stroke": MARK_OUTLINE, "strokeWidth": 0.5},
         "encoding": {"y": y, "x": {"field": "value", "type": "quantitative", "title": y_title},
                      "color": {"field": "significance", "type": "nominal",
                                "scale": _colour_scale(data),
                                "title": f"Compared with {compared_with}",
                                "legend": {"labelExpr": _marked_labels()}},
                      "tooltip": [{"field": "full_name", "title": "name"},
                                  {"field": "value", "format": ".1f"},
                                  {"field": "lower", "format": ".1f"},
                                  {"field": "upper", "format": ".1f"}]}},
    ]
    if any(r.get("lower") is not None for r in data):  # none published for some figures
        # 1.5 px: one pixel read 2.8:1 against the green and red bars (an audit)
        layers.append({"mark": {"type": "rule", "color": "#212B32", "strokeWidth": 1.5},
                       "encoding": {"y": y, "x": {"field": "lower", "type": "quantitative"},
                                    "x2": {"field": "upper"}}})
    if average is not None:
        layers.append({"data": {"values": [{"avg": average}]},
                       "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#212B32"},
                       "encoding": {"x": {"field": "avg", "type": "quantitative"}}})
    if any(r["mark"] for r in data):  # the judgement in a mark, not by colour alone
        layers.append({"mark": {"type": "text", "align": "left", "dx": 6, "fontSize": 13,
                                "fontWeight": "bold", "color": MARK_OUTLINE},
                       "encoding": {"y": y, "x": {"field": "mark_at", "type": "quantitative"},
                                    "text": {"field": "mark"}}})
    spec["data"] = {"values": data}
    spec["layer"] = layers
    return spec


def trend_chart(rows: Sequence[dict], *, y_title: str, width: int = 520,
                height: int = 220) -> dict:
    """rows: period, series (area name), value, lower, upper. Series with the same values
    in every period (an ICB that is the whole workspace) are one line named for both:
    drawn twice, one hid the other and the legend had two entries for one line; the
    legend shows the lines' colours, not the bands' (a walkthrough)."""
    spec = _config(width, height)
    spec["data"] = {"values": _one_line_per_series(
        [r for r in rows if r.get("value") is not None])}
    x = {"field": "period", "type": "ordinal", "title": None, "sort": None}
    spec["layer"] = [
        # Dashed edges: the faint fill alone was 1.3:1 on white (an accessibility audit).
        {"mark": {"type": "errorband", "opacity": 0.2,
                  "borders": {"strokeDash": [3, 2], "opacity": 0.9}},
         "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative", "title": y_title},
                      "y2": {"field": "upper"},
                      "color": {"field": "series", "type": "nominal", "title": None,
                                "legend": TREND_LEGEND}}},
        {"mark": {"type": "line", "point": True},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"},
                      "color": {"field": "series", "type": "nominal", "title": None,
                                "legend": TREND_LEGEND},
                      "tooltip": [{"field": "series"}, {"field": "period"},
                                  {"field": "value", "format": ".1f"}]}},
    ]
    return spec


TREND_LEGEND_LABEL_PX = 320
# One legend for both layers (two that differ made Vega warn), its symbols the lines'
# solid colour, not the bands' pale one.
TREND_LEGEND = {"labelLimit": TREND_LEGEND_LABEL_PX, "symbolOpacity": 1,
                "symbolType": "stroke"}


def _one_line_per_series(rows: list[dict]) -> list[dict]:
    by_series: dict[str, list[dict]] = {}
    for r in rows:
        by_series.setdefault(r["series"], []).append(r)
    names: dict[tuple, list[str]] = {}
    for series, own in by_series.items():
        key = tuple(sorted((str(r["period"]), r["value"]) for r in own))
        names.setdefault(key, []).append(series)
    kept = {group[0]: " = ".join(group) for group in names.values()}
    return [{**r, "series": kept[r["series"]]} for r in rows if r["series"] in kept]


def to_svg(spec: dict) -> str:
    """Render a spec to SVG on the server (packs, PDFs). Offline: vl-convert embeds Vega."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)
