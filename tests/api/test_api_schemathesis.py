"""The API tested as an outsider would: schemathesis generates requests from the OpenAPI
schema and checks that no answer is a server error or breaks the schema.

Bounded: a few examples per operation (API_FUZZ_EXAMPLES, default 25), no shrinking
deadline; every request carries a partner's read-write token, so writes are exercised.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from moatapp.wsgi import application
from tests.security.security_world import PARTNER

from .helpers import build_api_world

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(settings, db):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.API_DOCS_PUBLIC = True  # schemathesis reads the schema without signing in
    # Hundreds of calls a minute from one token: the limits are tested in test_hardening.py.
    settings.RATE_LIMITS = False
    # As Django's test client does: the WSGI calls must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def partner_key(db):
    return build_api_world().keys[PARTNER, "read_write"]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_no_5xx_and_keeps_its_schema(case, partner_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {partner_key}"}, checks=CHECKS)
