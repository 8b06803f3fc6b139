"""Property tests against our own OpenAPI schema (schemathesis): at least 500 generated calls through the real
WSGI application, with a valid token of every scope. No call may end in a server error, and every answer must
match the schema. More examples per operation in `make bench` (SCHEMATHESIS_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.api_support import make_caller

pytestmark = pytest.mark.django_db

# 57 × 16 operations ≈ the 70 × 13 of before the court-document and statistics calls: the same run time.
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "57"))
MINIMUM_CALLS = 500


def test_generated_calls_never_fail_on_the_server_and_match_the_schema(world, settings_override):
    schema = schemathesis.openapi.from_wsgi(reverse("api-v1:openapi-json"), get_wsgi_application())
    caller = make_caller(organisation=world.court, user=world.clerk)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=caller.headers, checks=[
                not_a_server_error, response_schema_conformance, status_code_conformance,
            ])

        call()
    assert calls >= MINIMUM_CALLS


@pytest.fixture
def settings_override(settings):
    """A budget no run reaches, and the test's connection kept open across the WSGI requests (Django's test
    client does the same: ``close_old_connections`` at a request's end would close the test transaction)."""
    settings.API_RATE_LIMIT = "100000/m"
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield settings
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()
