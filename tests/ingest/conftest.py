"""Fixtures for ingest tests: a workspace, and one with practices loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ingest_helpers import ORGS, write

from carepath.ingest import load_files
from carepath.workspace import Workspace


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


@pytest.fixture
def ws_orgs(ws, tmp_path) -> Workspace:
    load_files(ws, "organisations", [write(tmp_path / "orgs.csv", ORGS)])
    return ws


