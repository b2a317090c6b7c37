"""Small hand-checkable economic models."""

from __future__ import annotations

import copy

import pytest

from carepath.domain.economics.definitions import CBAModel

EXAMPLES = "src/carepath/domain/economics/examples"

# One service paid 60/40 by A and B; one benefit felt by C. Grades 1: no optimism bias.
TINY = {
    "id": "tiny", "title": "Tiny", "base_year": 2025, "horizon_years": 3,
    "organisations": {"A": "Payer A", "B": "Payer B", "C": "Beneficiary C"},
    "unit_values": [{"id": "v", "value": 50, "unit": "per thing", "source": "hand", "confidence": 1}],
    "services": [{"id": "s", "name": "Service", "unit_cost": 1000, "activity": 1,
                  "payers": {"A": 0.6, "B": 0.4}, "confidence": 1}],
    "benefits": [{"id": "b", "outcome": "things", "quantity": 10, "unit_value": "v",
                  "beneficiary": "C", "deadweight": 0.2, "attribution": 0.5}],
}


def tiny(**changes) -> dict:
    data = copy.deepcopy(TINY)
    data.update(changes)
    return data


@pytest.fixture
def tiny_model() -> CBAModel:
    return CBAModel.model_validate(tiny())
