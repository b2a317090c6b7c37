"""A small server-rendered flow (Sankey-style) diagram of routes through the pathway: one
column per stage, a box per category sized by count, and a band per flow. Plain SVG, so it
needs no script and prints in packs."""

from __future__ import annotations

from html import escape

import pandas as pd

from carepath.model.codes import in_words

WIDTH, HEIGHT = 760, 360
NODE_WIDTH = 12
GAP = 6
LABEL_PAD = 4
FONT_PX = 11
# Baselines of labels in one column at least this far apart: 11 px text never overlaps.
LABEL_LINE = 13
BASELINE_DROP = 4  # from a box's middle to its label's baseline
# Room right of the last column for its labels: inside the picture they met the labels of
# the column before, which run rightwards into the same gap.
LAST_LABEL_ROOM = 190
COLOURS = ("#005EB8", "#007F3B", "#ED8B00", "#7C2855", "#330072", "#00A499", "#768692")


def flow_svg(edges: pd.DataFrame, stages: tuple[str, ...]) -> str:
    """edges: from_stage, source, to_stage, target, tumours."""
    if edges.empty:
        return ""
    nodes = _layout(edges, stages)
    labels = _label_baselines(nodes)
    height = max(HEIGHT, max(labels.values()) + BASELINE_DROP)  # the last label fits
    width = WIDTH + LAST_LABEL_ROOM
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
             f'role="img" aria-label="{escape(_summary(edges, stages))}" '
             'class="flow-diagram">')]
    # A band takes the colour of the box it leaves, so colour repeats what its start says
    # (an accessibility audit: colours told the routes apart, and meant nothing).
    colour = {key: COLOURS[i % len(COLOURS)] for i, key in enumerate(
        k for k in sorted(nodes, key=lambda k: (stages.index(k[0]), nodes[k]["y"])))}
    offsets_out: dict[tuple[str, str], float] = {}
    offsets_in: dict[tuple[str, str], float] = {}
    for e in edges.sort_values(["from_stage", "tumours"],
                               ascending=[True, False]).itertuples():
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
            f'stroke="{colour[(e.from_stage, e.source)]}" stroke-opacity="0.35" '
            f'stroke-width="{max(h, 1):.1f}"><title>{escape(in_words(e.source))} → '
            f'{escape(in_words(e.target))}: {e.tumours:,}</title></path>')
    for key, n in nodes.items():
        parts.append(f'<rect x="{n["x"]:.1f}" y="{n["y"]:.1f}" width="{NODE_WIDTH}" '
                     f'height="{max(n["h"], 1):.1f}" fill="#212B32"/>')
        anchor, dx = "start", NODE_WIDTH + LABEL_PAD
        words = in_words(key[1])
        parts.append(f'<text x="{n["x"] + dx:.1f}" y="{labels[key]:.1f}" '
                     f'font-size="{FONT_PX}" text-anchor="{anchor}">{escape(words)} '
                     f'({n["count"]:,})</text>')
    parts.append("</svg>")
    return "\n".join(parts)


# What each stage's boxes are, as the figure's caption says them.
STAGE_WORDS = {"route": "route to diagnosis", "first_treatment": "first treatment",
               "follow_up": "follow-up", "outcome": "outcome"}


def _summary(edges: pd.DataFrame, stages: tuple[str, ...]) -> str:
    """The picture in words for a screen reader, as its caption says it: its stages and
    the commonest first step (the data table beside it has every route)."""
    first = edges[edges.from_stage == stages[0]]
    words = " → ".join(STAGE_WORDS.get(s, in_words(s)) for s in stages)
    said = ""
    if not first.empty:
        top = first.loc[first.tumours.idxmax()]
        said = (f"; the commonest first step: {in_words(top.source)} then "
                f"{in_words(top.target)}, {int(top.tumours):,} tumours")
    return f"Routes through the pathway: {words}{said}. Every route is in the data table."


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
                                  "scale": scale}
            y += c * scale + GAP
    return out


def _label_baselines(nodes: dict) -> dict:
    """Each box's label beside its middle, pushed down where the box above is too thin for
    both labels to be read (small groups at the bottom of a column)."""
    out = {}
    for stage in dict.fromkeys(k[0] for k in nodes):
        previous = float("-inf")
        for key in sorted((k for k in nodes if k[0] == stage), key=lambda k: nodes[k]["y"]):
            n = nodes[key]
            previous = max(n["y"] + n["h"] / 2 + BASELINE_DROP, previous + LABEL_LINE)
            out[key] = previous
    return out
