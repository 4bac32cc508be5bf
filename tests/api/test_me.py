"""/api/v1/me: the caller, reachable with any key whatever its scopes."""

import pytest
from django.test import Client

from aimsweb.roles import Role

pytestmark = pytest.mark.django_db


def test_me_with_key_names_key_role_and_permissions(key_client):
    client, key = key_client(Role.RESPONDER, scopes=["pipelines:read"])

    response = client.get("/api/v1/me")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["username"] == key.user.username and body["role"] == "Responder"
    assert body["authentication"] == "api_key"
    assert body["key"]["prefix"] == key.prefix and body["key"]["scopes"] == ["pipelines:read"]
    assert "incidents.acknowledge_incident" in body["permissions"]
    assert "monitors.change_connection" not in body["permissions"]
    assert "admin:read" not in body["scopes_allowed"]
    assert "digest" not in response.content.decode()


def test_me_with_session_has_every_scope_and_no_key(viewer_client):
    body = viewer_client.get("/api/v1/me").json()

    assert body["authentication"] == "session" and body["key"] is None
    assert "admin:read" in body["scopes"] and body["role"] == "Viewer"


def test_me_without_credentials_is_401():
    assert Client().get("/api/v1/me").status_code == 401


def test_me_user_without_role_answers_null_role(no_role_user):
    client = Client()
    client.force_login(no_role_user)

    body = client.get("/api/v1/me").json()

    assert body["role"] is None and body["permissions"] == [] and body["scopes_allowed"] == []


def test_unknown_api_path_with_line_break_is_problem_not_login_redirect():
    response = Client().get("/api/v1/pipelines/%0Ax/health")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
