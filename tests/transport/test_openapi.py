"""The OpenAPI document validates, and schemathesis finds no server error in the REST API.

Bounded: a few hundred generated requests in all (DECISIONS.md, heavy tests are bounded)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from tests.transport.conftest import AUTH, LiveServer
from tests.transport.test_http import event_json


def test_the_openapi_document_is_valid(live: LiveServer) -> None:
    document = httpx.get(f"{live.url}/openapi.json").json()
    validate(document)
    paths = document["paths"]
    for path in (
        "/messages",
        "/meters",
        "/meters/{mrid}",
        "/meters/{mrid}/readings",
        "/usage-points/{mrid}/readings",
        "/events",
        "/controls",
        "/headend/messages",
        "/health",
    ):
        assert path in paths, path
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    readings = paths["/meters/{mrid}/readings"]["get"]["responses"]["200"]["content"]
    assert set(readings) == {"application/json", "application/x-ndjson", "text/csv"}


def test_schemathesis_finds_no_server_error(live: LiveServer) -> None:
    # Some data first, so that generated requests also reach existing resources.
    body = event_json(str(uuid.uuid4()))
    assert httpx.post(f"{live.url}/messages", json=body, headers=AUTH).status_code == 200
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    schema.config.base_url = live.url
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: Any) -> None:
            nonlocal calls
            response = case.call(headers=AUTH)
            calls += 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}"
            )

        no_server_error()
    assert calls >= 100  # a few hundred in all, bounded
