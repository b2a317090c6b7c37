"""Outcomes frameworks and prime-provider contracts (capability C7): definitions as
validated YAML, assessment of each contract year with uncertainty, payment statements,
SPC summaries and the risk of paying for chance. See docs/contracts.md."""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).parent / "examples"
