"""One synthetic Wessex per test session (about 3-8 s), shared read-only by the tests."""

from __future__ import annotations

import pytest

WESSEX_SEED = 7


@pytest.fixture(scope="session")
def wessex(tmp_path_factory):
    from carepath.synth.generator import SynthOptions, synthesise

    path = tmp_path_factory.mktemp("synth") / "wessex"
    return synthesise(path, SynthOptions(seed=WESSEX_SEED, scale="county", years=5))
