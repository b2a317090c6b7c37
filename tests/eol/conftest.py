from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# Reuse the hand-made journeys workspace (its three 2024/25 deaths have known answers).
_spec = importlib.util.spec_from_file_location(
    "journeys_conftest", Path(__file__).parents[1] / "journeys" / "conftest.py")
journeys = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(journeys)


@pytest.fixture
def jws(tmp_path):
    return journeys.build_journeys_workspace(tmp_path / "ws")
