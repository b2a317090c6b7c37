"""A locality pack reads the workspace's library: its own definitions and the built-ins.
Read without them, a workspace's indicator was titled by its id, with no unit or direction,
and its spine pointed the wrong way; every built-in read as domain 'Other' (a walkthrough)."""

from __future__ import annotations

import yaml

from carepath.indicators.library import LIBRARY_DIR
from carepath.reports import batch


def test_a_pack_titles_and_explains_the_workspaces_own_indicator(rug_workspace, tmp_path):
    own = yaml.safe_load((LIBRARY_DIR / "early_stage_known.yaml").read_text())
    own.update(id="early_stage", title="Early stage, our own count", polarity="high_is_good")
    folder = rug_workspace.definitions_dir("indicators")
    (folder / "early_stage.yaml").write_text(yaml.safe_dump(own))
    html = batch.generate(rug_workspace, tmp_path, locality="L1")[0].read_text()
    assert "Early stage, our own count" in html
    assert "early stage</" not in html.lower()  # not the id with spaces for a title
    assert "Polarity: higher is better" in html and "Numerator:" in html


def test_the_table_against_national_gives_each_rows_period(rug_workspace, tmp_path):
    """Rows of 2023/24, 2024/25 and 2024/25 Q4 sat in one table unsaid (a walkthrough)."""
    html = batch.generate(rug_workspace, tmp_path, locality="L1")[0].read_text()
    table = html.split("against national</h3>")[1].split("</table>")[0]
    assert "<th>Period</th>" in table
    with rug_workspace.connect(read_only=True) as con:
        (period,) = con.execute("SELECT DISTINCT period FROM indicator_values WHERE "
                                "area_code = 'L1'").fetchone()
    assert f"<td>{period}</td>" in table


def test_a_locality_may_be_named_without_the_word_locality(rug_workspace, tmp_path):
    assert batch.generate(rug_workspace, tmp_path, locality="north")[0].name == \
        "north-locality.html"
