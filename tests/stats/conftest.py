"""Peer fixtures for the statistics tests, read in place from ../shared/peer (never copied)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

PEER = Path(__file__).resolve().parents[2].parent / "shared" / "peer"

#: Tolerances the issue sets: closed forms and funnel limits (relative).
CLOSED_FORM_RTOL = 1e-9
FUNNEL_RTOL = 1e-6


def read_peer(*parts: str) -> pd.DataFrame:
    path = PEER.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"peer fixture missing: {path}")
    return pd.read_csv(path)


@pytest.fixture
def phe():
    return lambda name: read_peer("phe", name)


@pytest.fixture
def spc_peer():
    return lambda name: read_peer("spc", name)


@pytest.fixture
def peer():
    return read_peer
