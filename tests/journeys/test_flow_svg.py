"""The routes diagram: labels of thin boxes do not overlap, the last fits in the picture, and
codes read as words."""

import itertools
import re

import pandas as pd

from carepath.web.pages._flow_svg import FONT_PX, LAST_LABEL_ROOM, WIDTH, flow_svg


def test_labels_of_small_groups_neither_overlap_nor_fall_off_the_picture():
    stages = ("referral", "outcome")
    big = [("referral", "usc", "outcome", "no_cancer", 5000)]
    small = [("referral", "usc", "outcome", f"died_{i}", 1) for i in range(6)]
    edges = pd.DataFrame(big + small, columns=["from_stage", "source", "to_stage", "target",
                                               "tumours"])
    svg = flow_svg(edges, stages)
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"',
                                                  svg).groups())
    labels = [(float(x), float(y)) for x, y in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"',
                                                          svg)]
    last = sorted(y for x, y in labels if x >= WIDTH)  # right of the last column's boxes
    assert len(last) == 7
    assert all(b - a >= FONT_PX for a, b in itertools.pairwise(last))
    assert max(last) <= height and width >= WIDTH + LAST_LABEL_ROOM
    assert "no cancer (5,000)" in svg and "no_cancer (" not in svg


def test_a_band_takes_its_start_boxs_colour_and_the_picture_is_described():
    """Colours told routes apart and meant nothing (an accessibility audit): each band is
    now the colour of the box it leaves, and the picture's name says what it shows."""
    stages = ("route", "outcome")
    edges = pd.DataFrame([("route", "gp_referral", "outcome", "alive", 300),
                          ("route", "gp_referral", "outcome", "died", 100),
                          ("route", "emergency", "outcome", "alive", 50),
                          ("route", "emergency", "outcome", "died", 80)],
                         columns=["from_stage", "source", "to_stage", "target", "tumours"])
    svg = flow_svg(edges, stages)
    bands = re.findall(r'stroke="(#[0-9A-Fa-f]{6})"[^>]*><title>([^<]+)</title>', svg)
    by_start = {}
    for stroke, title in bands:
        by_start.setdefault(title.split(" → ")[0], set()).add(stroke)
    assert set(by_start) == {"gp referral", "emergency"}  # codes in words (an audit)
    assert all(len(s) == 1 for s in by_start.values())  # one colour per start
    assert by_start["gp referral"] != by_start["emergency"]
    label = re.search(r'aria-label="([^"]+)"', svg).group(1)
    assert "route to diagnosis → outcome" in label
    assert "commonest first step: gp referral then alive, 300 tumours" in label
