"""Schemathesis against the committed OpenAPI document (api/openapi.yaml), calling the Django app in-process (WSGI):
every operation with generated valid and invalid input, every check, and stateful sequences along the document's
links, as an Admin whose key holds every scope, over a seeded world. Every 4xx must be a problem document."""

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from aimsweb.roles import Role
from api.idempotency import IDEMPOTENCY_KEY_PATTERN
from api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from api.scopes import SCOPES
from api.services.keys import api_key_create
from tests.api.world import world_seed

OPENAPI = Path(settings.BASE_DIR) / "api" / "openapi.yaml"
EXAMPLES_PER_OPERATION = 25
STATEFUL_SCENARIOS = 40


@schemathesis.check
def problem_details_on_4xx(ctx, response, case):
    """Every client error is an RFC 9457 problem document with a stable code."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.split(";")[0] == PROBLEM_CONTENT_TYPE, f"4xx answered as {content_type!r}"
        body = response.json()
        assert isinstance(body, dict) and body.get("code") and body.get("status") == response.status_code
    return None


@pytest.fixture
def admin_key(db, make_user, settings) -> Iterator[str]:
    settings.AIMS_API_RATE_PER_MINUTE = 1_000_000  # generated requests come far faster than a person's
    world_seed()
    admin = make_user("fuzz-admin", Role.ADMIN)
    _, plaintext = api_key_create(user=admin, name="schemathesis", scopes=list(SCOPES), created_by=admin)
    # As Django's test client does: the handler's end-of-request hook would close the test's open transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield plaintext
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# The pytest plugin's lazy (fixture) schema does not run under pytest 9; the schema is loaded here instead and the key
# comes from a fixture, sent with each call.
schema = schemathesis.openapi.from_path(
    OPENAPI,
    config=schemathesis.Config.from_dict(
        {
            # NUL cannot be stored or searched in PostgreSQL text; Django's forms refuse it (400) wherever it is sent.
            "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION, "allow-x00": False},
            # A well-formed value naming nothing that exists (an unknown username) is a 422, and an If-Match naming
            # another version a 412: the generator cannot know which names or versions exist, so schema-valid input
            # may rightly be refused so.
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
                },
                # Too many ids in a bulk request is refused as too large (413), as documented.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "412",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                        "5xx",
                    ]
                },
            },
            # A cursor is opaque: only one a list gave out is valid (a forged one is a 400 the document cannot express
            # as a schema), so generated cases start at the first page and the stateful phase follows `next` links.
            "parameters": {"query.cursor": ""},
        }
    ),
)
schema.app = WSGIHandler()


@schema.parametrize()
@hypothesis_settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_operations_conform_to_document(case, admin_key):
    headers = {"Authorization": f"Bearer {admin_key}"}
    generated = (case.headers or {}).get("Idempotency-Key")
    valid = isinstance(generated, str) and len(generated) <= 255 and re.match(IDEMPOTENCY_KEY_PATTERN, generated)
    if case.method == "POST" and valid:
        # A valid key is per request: generated cases share values, and another body under a used key is rightly a
        # 422. An invalid one is left as generated (it must be refused).
        headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(headers=headers, additional_checks=[problem_details_on_4xx])


def _links_of(operation: dict) -> list[str]:
    return [name for answer in operation.get("responses", {}).values() for name in answer.get("links", {})]


def test_api_stateful_links_conform_to_document(admin_key):
    """Sequences along the document's links (a list to its first row, a row to its runs, health, violations,
    connection, incidents), every answer checked like the ones above."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    links = [link for item in schema.raw_schema["paths"].values() for op in item.values() for link in _links_of(op)]
    assert len(links) >= 10, "the document lost its links: the stateful test would walk nothing"

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            if case.query:
                case.query.pop("cursor", None)  # opaque, as above (the parameters override is not applied here)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # The key is named as the request's credentials, so the auth checks probe without it and with a bad one.
            case.validate_response(
                response,
                additional_checks=[problem_details_on_4xx],
                headers=headers,
                transport_kwargs=kwargs,
                recorder=getattr(self, "recorder", None),
            )

    Workflow.run(
        settings=hypothesis_settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
