"""Schemathesis against the OpenAPI document: generated requests for every operation, as a
signed-in analyst and as the public, must answer as documented and never with a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import login


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("user", ["analyst", "northlead", None])
def test_every_operation_answers_as_documented(api_schema, app, user):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        if user:
            login(client, user)
        cookies = dict(client.cookies)
    checked = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for case in _cases(operation):
            case.call_and_validate(cookies=cookies)
            checked += 1
    assert checked > 20


def _cases(operation):
    """A few generated cases per operation."""
    found = []

    @settings(max_examples=5, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def collect(case):
        found.append(case)

    collect()
    return found
