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
