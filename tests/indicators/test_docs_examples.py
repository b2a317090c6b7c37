"""The example in docs/indicator-definitions.md is a valid definition (docs checked by tests)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from carepath.indicators.definition import from_mapping

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicator-definitions.md"


def test_the_documented_example_validates():
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL).group(1)
    defn = from_mapping(yaml.safe_load(block), source=str(DOC))
    assert defn.id == "early_stage_known_local"
