"""Vega-Lite specs for economics: tornado (one-way sensitivity), Monte Carlo NPV histogram and
the PBMA cost-value chart. Rendered to SVG on the server with carepath.charts.to_svg."""

from __future__ import annotations

import numpy as np

from carepath.charts import FONT, VEGA_LITE_SCHEMA
from carepath.domain.economics.sensitivity import TornadoBar

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_GREEN = "#007F3B"  # the darker NHS green: 5.4:1 on white
NHS_RED = "#DA291C"
ROW_HEIGHT = 22


def _base(width: int, height: int) -> dict:
    return {"$schema": VEGA_LITE_SCHEMA, "width": width, "height": height,
            "config": {"font": FONT, "view": {"stroke": None}}}


def tornado_chart(bars: list[TornadoBar], base_npv: float, *, width: int = 520) -> dict:
    rows = [{"parameter": b.parameter, "low": min(b.npv_at_low, b.npv_at_high),
             "high": max(b.npv_at_low, b.npv_at_high)} for b in bars]
    order = [b.parameter for b in bars]
    spec = _base(width, max(ROW_HEIGHT * len(rows), ROW_HEIGHT))
    spec["layer"] = [
        {"data": {"values": rows}, "mark": {"type": "bar", "color": NHS_BLUE},
         "encoding": {
             "y": {"field": "parameter", "type": "nominal", "sort": order, "title": None},
             "x": {"field": "low", "type": "quantitative", "title": "NPV (GBP)"},
             "x2": {"field": "high"},
             "tooltip": [{"field": "parameter"}, {"field": "low", "format": ",.0f"},
                         {"field": "high", "format": ",.0f"}]}},
        {"data": {"values": [{"base": base_npv}]},
         "mark": {"type": "rule", "color": NHS_DARK_BLUE, "strokeDash": [4, 3]},
         "encoding": {"x": {"field": "base", "type": "quantitative"}}},
    ]
    return spec


def npv_histogram(samples, *, width: int = 520, bins: int = 40) -> dict:
    """Distribution of NPV over the Monte Carlo draws; bins below zero in red."""
    counts, edges = np.histogram(np.asarray(samples, float), bins=bins)
    rows = [{"from": float(a), "to": float(b), "draws": int(n),
             "side": "NPV > 0" if a >= 0 else "NPV <= 0"}
            for a, b, n in zip(edges[:-1], edges[1:], counts, strict=True)]
    spec = _base(width, 180)
    spec["data"] = {"values": rows}
    spec["mark"] = "bar"
    spec["encoding"] = {
        "x": {"field": "from", "type": "quantitative", "title": "NPV (GBP)"},
        "x2": {"field": "to"},
        "y": {"field": "draws", "type": "quantitative", "title": "draws"},
        "y2": {"datum": 0},
        "color": {"field": "side", "type": "nominal",
                  "scale": {"domain": ["NPV <= 0", "NPV > 0"], "range": [NHS_RED, NHS_GREEN]}}}
    return spec


def cost_value_chart(rows: list[dict], *, width: int = 520) -> dict:
    """Cost against weighted benefit, one point per option, coloured by list."""
    spec = _base(width, 300)
    spec["data"] = {"values": rows}
    spec["mark"] = {"type": "point", "filled": True, "size": 90}
    spec["encoding"] = {
        "x": {"field": "weighted_score", "type": "quantitative", "title": "Weighted benefit"},
        "y": {"field": "cost", "type": "quantitative", "title": "Annual cost (GBP)"},
        # The legend in words ("list: wish / shift" read as code: a walkthrough).
        "color": {"field": "list", "type": "nominal", "title": "List",
                  "scale": {"domain": ["wish", "shift"], "range": [NHS_BLUE, NHS_RED]},
                  "legend": {"labelExpr": "datum.label == 'wish' ? 'Wish list (invest)' "
                                          ": 'Shift list (disinvest)'"}},
        "tooltip": [{"field": "name"}, {"field": "cost", "format": ",.0f"},
                    {"field": "weighted_score", "format": ".2f"}]}
    return spec
