"""Making Data Count chart per outcome (Vega-Lite) and the variation/assurance icons used in
the summary table across outcomes. Colours follow the MDC convention: blue improvement,
orange concern, grey common cause, purple neutral."""

from __future__ import annotations

from html import escape

from carepath import charts

MDC_BLUE, MDC_ORANGE, MDC_GREY, MDC_PURPLE = "#289de0", "#fab428", "#7b7d7d", "#361475"
TARGET_RED = "#de1b1b"
POINT_COLOURS = {"common_cause": MDC_GREY, "special_cause_improvement": MDC_BLUE,
                 "special_cause_concern": MDC_ORANGE,
                 "special_cause_neutral_high": MDC_PURPLE,
                 "special_cause_neutral_low": MDC_PURPLE}
VARIATION = {  # icon -> (colour, letter, words)
    "common_cause": (MDC_GREY, "~", "Common cause variation"),
    "improvement_high": (MDC_BLUE, "H", "Special cause improvement (high)"),
    "improvement_low": (MDC_BLUE, "L", "Special cause improvement (low)"),
    "concern_high": (MDC_ORANGE, "H", "Special cause concern (high)"),
    "concern_low": (MDC_ORANGE, "L", "Special cause concern (low)"),
    "neutral_high": (MDC_PURPLE, "H", "Special cause, neither better nor worse (high)"),
    "neutral_low": (MDC_PURPLE, "L", "Special cause, neither better nor worse (low)"),
}
ASSURANCE = {
    "consistent_pass": (MDC_BLUE, "P", "Will consistently meet the target"),
    "consistent_fail": (MDC_ORANGE, "F", "Will consistently fail the target"),
    "inconsistent": (MDC_GREY, "?", "May meet or miss the target: not assured"),
}
ICON_SIZE = 28


def spc_chart(rows: list[dict], *, title: str | None, y_title: str, width: int = 520,
              height: int = 220) -> dict:
    """rows: period, value, mean, lpl, upl, point_type, target (from the assessment)."""
    spec = charts._config(width, height)
    if title:  # a web page's figure caption already names it
        spec["title"] = title
    shown = [r for r in rows if r.get("value") is not None]
    spec["data"] = {"values": shown}
    x = {"field": "period", "type": "ordinal", "title": None, "sort": None}
    y = {"type": "quantitative", "title": y_title, "scale": {"zero": False}}

    def drawn(field: str) -> bool:  # a line of no values: Vega warned 'Infinite extent'
        return any(r.get(field) is not None for r in shown)

    rule = [{"mark": {"type": "line", "color": MDC_GREY, **style},
             "encoding": {"x": x, "y": {**y, "field": f}}}
            for f, style in (("mean", {}), ("lpl", {"strokeDash": [4, 3]}),
                             ("upl", {"strokeDash": [4, 3]})) if drawn(f)]
    target = [{"mark": {"type": "line", "color": TARGET_RED, "strokeDash": [8, 4]},
               "encoding": {"x": x, "y": {**y, "field": "target"}}}] if drawn("target") else []
    colour = {"field": "point_type", "type": "nominal", "title": None,
              "scale": {"domain": list(POINT_COLOURS), "range": list(POINT_COLOURS.values())},
              "legend": None}
    spec["layer"] = [
        *rule, *target,
        {"mark": {"type": "line", "color": MDC_GREY}, "encoding": {"x": x, "y": {
            **y, "field": "value"}}},
        {"mark": {"type": "circle", "size": 60, "opacity": 1},
         "encoding": {"x": x, "y": {**y, "field": "value"}, "color": colour,
                      "tooltip": [{"field": "period"}, {"field": "value", "format": ".1f"},
                                  {"field": "point_type"}]}},
    ]
    return spec


def icon_svg(kind: str, icon: str | None) -> str:
    """A small inline SVG icon (no images fetched) with its words as the title."""
    table = VARIATION if kind == "variation" else ASSURANCE
    if icon not in table:
        return '<span class="icon-none">–</span>'
    colour, letter, words = table[icon]
    r = ICON_SIZE // 2
    return (f'<svg class="mdc-icon" role="img" width="{ICON_SIZE}" height="{ICON_SIZE}" '
            f'viewBox="0 0 {ICON_SIZE} {ICON_SIZE}"><title>{escape(words)}</title>'
            f'<circle cx="{r}" cy="{r}" r="{r - 2}" fill="white" stroke="{colour}" '
            f'stroke-width="3"/><text x="{r}" y="{r + 5}" text-anchor="middle" '
            f'font-family="Arial" font-size="14" font-weight="bold" fill="{colour}">'
            f'{escape(letter)}</text></svg>')


def icon_words(kind: str, icon: str | None) -> str:
    table = VARIATION if kind == "variation" else ASSURANCE
    return table[icon][2] if icon in table else "Too few points or no target"


def icon_summary(assessment) -> list[dict]:
    """The summary table across outcomes: one row each with its icons and judgement."""
    return [{"outcome_id": o.outcome_id, "title": o.title, "domain": o.domain,
             "value": o.point.value, "target": o.target, "judgement": o.judgement,
             "value_text": o.shown(o.point.value), "target_text": o.target_text,
             "variation": o.variation_icon, "assurance": o.assurance_icon,
             "variation_words": icon_words("variation", o.variation_icon),
             "assurance_words": icon_words("assurance", o.assurance_icon),
             "dq_status": o.dq_status, "dq_reasons": list(o.dq_reasons),
             "warnings": list(o.warnings), "pot": o.pot, "payment": o.payment,
             "status": o.status}
            for o in assessment.outcomes]
