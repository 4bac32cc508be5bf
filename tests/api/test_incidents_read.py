"""Reading incidents through the API: filters, keyset pages, problems, ETag, rate-limit fields."""

import pytest
from django.test import Client

from aimsweb.roles import Role
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def test_incident_list_with_key_returns_rows_and_quota(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident(title="Copy failed")

    response = client.get("/api/v1/incidents")

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [incident.pk]
    assert response.headers["RateLimit-Limit"] == "600"
    assert response.headers["RateLimit"].startswith('"default";r=')


def test_incident_list_bad_filter_is_problem_naming_parameter(key_client):
    client, _ = key_client(Role.VIEWER)

    response = client.get("/api/v1/incidents?status=bogus")

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid" and body["errors"][0]["field"] == "status"


def test_incident_list_forged_cursor_is_400(key_client):
    client, _ = key_client(Role.VIEWER)
    make_incident()

    response = client.get("/api/v1/incidents?cursor=cD1ub3RhZGF0ZQ%3D%3D&sort=-last_seen_at")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_incident_list_unknown_key_is_401_problem():
    response = Client(HTTP_AUTHORIZATION="Bearer aims_00000000_nope").get("/api/v1/incidents")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_incident_list_key_without_scope_is_403(key_client):
    client, _ = key_client(Role.VIEWER, scopes=["pipelines:read"])

    response = client.get("/api/v1/incidents")

    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"


def test_incident_get_has_etag_and_missing_is_404_problem(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident()

    found = client.get(f"/api/v1/incidents/{incident.pk}")
    missing = client.get("/api/v1/incidents/999999")

    assert found.status_code == 200 and found.headers["ETag"].startswith('"')
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_incident_list_pages_by_cursor_without_repeats(key_client):
    client, _ = key_client(Role.VIEWER)
    ids = {make_incident(fingerprint=f"f{n}").pk for n in range(5)}

    seen, url = [], "/api/v1/incidents?limit=2"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(ids)


def test_incident_method_not_offered_is_405_problem(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = client.put(f"/api/v1/incidents/{incident.pk}", "{}", content_type="application/json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_incident_comment_body_over_limit_is_413_problem(key_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = client.post(
        f"/api/v1/incidents/{incident.pk}/comment", {"text": "x" * 5000}, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("query", ["fingerprint=a%00b", "ticket=JIRA%3AOPS%00", "assignee=%00"])
def test_incident_list_unstorable_query_is_400_naming_it(key_client, query):
    client, _ = key_client(Role.VIEWER)

    response = client.get(f"/api/v1/incidents?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


def test_incident_comment_with_nul_is_400_naming_the_field(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = client.post(
        f"/api/v1/incidents/{incident.pk}/comment", '{"text": "a\\u0000b"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "text"


def test_idempotency_answers_pruned_after_their_window(key_client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from api.idempotency import idempotency_prune
    from api.models import IdempotencyRecord

    fresh = IdempotencyRecord.objects.create(owner="key:a", key="k1", fingerprint="f")
    old = IdempotencyRecord.objects.create(
        owner="key:a", key="k2", fingerprint="f", created_at=timezone.now() - timedelta(hours=25)
    )

    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
