"""Connections through the API: Admins only, polling health, and never a secret or credential."""

import json

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from monitors.models import Monitor
from tests.monitors.factories import make_connection

pytestmark = pytest.mark.django_db


def test_connection_list_shows_health_never_secrets(key_client, monkeypatch):
    client, _ = key_client(Role.ADMIN)
    monkeypatch.setenv("AIMS_TEST_SECRET", "s3cr3t-value")
    connection = make_connection(
        name="prod-adf", tenant_id="tenant-0001", client_id="client-0001", secret_env_var="AIMS_TEST_SECRET"
    )
    connection.set_webhook_secret("hook-secret-value")
    connection.save()
    Monitor.objects.create(connection=connection, name="all", last_polled_at=timezone.now(), last_error="HTTP 401")
    make_connection(name="quiet")
    make_connection(name="off", enabled=False)

    response = client.get("/api/v1/connections?sort=name")

    assert response.status_code == 200, response.content
    text = response.content.decode()
    for secret in ("AIMS_TEST_SECRET", "s3cr3t", "hook-secret", "tenant-0001", "client-0001", "secret", "factory"):
        assert secret not in text
    health = {row["name"]: row["health"] for row in json.loads(text)["results"]}
    assert health == {"off": "disabled", "prod-adf": "failing", "quiet": "unknown"}


def test_connection_get_healthy_after_successful_poll(key_client):
    client, _ = key_client(Role.ADMIN)
    connection = make_connection()
    now = timezone.now()
    Monitor.objects.create(connection=connection, name="all", last_polled_at=now, last_success_at=now)

    body = client.get(f"/api/v1/connections/{connection.pk}").json()

    assert body["health"] == "ok" and body["monitors"] == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER])
def test_connection_list_refused_below_admin_even_with_scope(key_client, role):
    from api.models import ApiKey

    client, key = key_client(role, scopes=["incidents:read"])
    ApiKey.objects.filter(pk=key.pk).update(scopes=["admin:read"])  # a key whose user lost the Admin role

    response = client.get("/api/v1/connections")

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"


def test_connection_list_queries_constant_whatever_rows(key_client, django_assert_num_queries):
    client, _ = key_client(Role.ADMIN)
    make_connection()
    client.get("/api/v1/connections")

    with django_assert_num_queries(4) as one:
        client.get("/api/v1/connections")
    for _ in range(8):
        Monitor.objects.create(connection=make_connection(), name="all")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/connections").json()["results"]) == 9
