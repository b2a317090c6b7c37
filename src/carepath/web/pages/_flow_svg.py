"""A small server-rendered flow (Sankey-style) diagram of routes through the pathway: one
column per stage, a box per category sized by count, and a band per flow. Plain SVG, so it
needs no script and prints in packs."""

from __future__ import annotations

from html import escape

import pandas as pd

WIDTH, HEIGHT = 760, 360
NODE_WIDTH = 12
GAP = 6
LABEL_PAD = 4
COLOURS = ("#005EB8", "#007F3B", "#ED8B00", "#7C2855", "#330072", "#00A499", "#768692")


def flow_svg(edges: pd.DataFrame, stages: tuple[str, ...]) -> str:
    """edges: from_stage, source, to_stage, target, tumours."""
    if edges.empty:
        return ""
    nodes = _layout(edges, stages)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             'role="img" aria-label="Routes through the pathway" class="flow-diagram">')]
    offsets_out: dict[tuple[str, str], float] = {}
    offsets_in: dict[tuple[str, str], float] = {}
    for i, e in enumerate(edges.sort_values(["from_stage", "tumours"],
                                            ascending=[True, False]).itertuples()):
        a, b = nodes[(e.from_stage, e.source)], nodes[(e.to_stage, e.target)]
        h = e.tumours * a["scale"]
        y0 = a["y"] + offsets_out.get((e.from_stage, e.source), 0)
        y1 = b["y"] + offsets_in.get((e.to_stage, e.target), 0)
        offsets_out[(e.from_stage, e.source)] = offsets_out.get((e.from_stage, e.source), 0) + h
        offsets_in[(e.to_stage, e.target)] = offsets_in.get((e.to_stage, e.target), 0) + h
        x0, x1 = a["x"] + NODE_WIDTH, b["x"]
        mid = (x0 + x1) / 2
        parts.append(
            f'<path d="M{x0:.1f},{y0 + h / 2:.1f} C{mid:.1f},{y0 + h / 2:.1f} '
            f'{mid:.1f},{y1 + h / 2:.1f} {x1:.1f},{y1 + h / 2:.1f}" fill="none" '
            f'stroke="{COLOURS[i % len(COLOURS)]}" stroke-opacity="0.35" '
            f'stroke-width="{max(h, 1):.1f}"><title>{escape(str(e.source))} → '
            f'{escape(str(e.target))}: {e.tumours:,}</title></path>')
    for (_stage, name), n in nodes.items():
        parts.append(f'<rect x="{n["x"]:.1f}" y="{n["y"]:.1f}" width="{NODE_WIDTH}" '
                     f'height="{max(n["h"], 1):.1f}" fill="#212B32"/>')
        anchor, dx = ("end", -LABEL_PAD) if n["last"] else ("start", NODE_WIDTH + LABEL_PAD)
        parts.append(f'<text x="{n["x"] + dx:.1f}" y="{n["y"] + n["h"] / 2 + 4:.1f}" '
                     f'font-size="11" text-anchor="{anchor}">{escape(str(name))} '
                     f'({n["count"]:,})</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _layout(edges: pd.DataFrame, stages: tuple[str, ...]) -> dict:
    counts: dict[tuple[str, str], int] = {}
    for e in edges.itertuples():
        counts[(e.from_stage, e.source)] = counts.get((e.from_stage, e.source), 0) + e.tumours
    last = stages[-1]
    for e in edges[edges.to_stage == last].itertuples():
        counts[(last, e.target)] = counts.get((last, e.target), 0) + e.tumours
    total = max(sum(v for (s, _), v in counts.items() if s == stages[0]), 1)
    step = (WIDTH - NODE_WIDTH) / max(len(stages) - 1, 1)
    out = {}
    for i, stage in enumerate(stages):
        mine = sorted(((n, c) for (s, n), c in counts.items() if s == stage),
                      key=lambda t: -t[1])
        scale = (HEIGHT - GAP * max(len(mine) - 1, 0)) / total
        y = 0.0
        for name, c in mine:
            out[(stage, name)] = {"x": i * step, "y": y, "h": c * scale, "count": c,
                                  "scale": scale, "last": i == len(stages) - 1}
            y += c * scale + GAP
    return out
