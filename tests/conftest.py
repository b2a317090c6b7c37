"""Shared fixtures. Peer fixtures and public data are read from ../shared, never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PEER = SHARED / "peer"
PUBLIC_DATA = SHARED / "data" / "public"


@pytest.fixture
def empty_workspace(tmp_path):
    from carepath.workspace import Workspace

    return Workspace.init(tmp_path / "ws")
