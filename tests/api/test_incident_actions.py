"""Lifecycle actions through the API: each a timeline event with the key as actor, refusals as coded problems, an
optional If-Match, and the attacks (role, scope, hostile ids and bodies)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import Incident, IncidentEvent
from tests.api.incident_helpers import demoted_key_client, kinds, last_event, post
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def path(incident: Incident, action: str) -> str:
    return f"/api/v1/incidents/{incident.pk}/{action}"


def in_days(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("action", "body", "status", "kind"),
    [
        ("acknowledge", None, Incident.Status.ACKNOWLEDGED, IncidentEvent.Kind.ACKNOWLEDGED),
        ("resolve", {"note": "Restarted the gateway"}, Incident.Status.RESOLVED, IncidentEvent.Kind.RESOLVED),
        ("silence", {"until": in_days(1), "reason": "Vendor window"}, Incident.Status.SILENCED, "silenced"),
    ],
)
def test_incident_action_with_key_changes_status_and_records_key_as_actor(key_client, action, body, status, kind):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, path(incident, action), body)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == status and response.headers["ETag"].startswith('"')
    event = last_event(incident)
    assert event.kind == kind
    assert (event.actor_type, event.actor_user, event.actor_label) == ("api_key", key.user, key.actor_label)
    assert key.prefix in event.actor_label


def test_incident_reopen_resolved_with_key_triggers_new_generation(key_client):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    response = post(client, path(incident, "reopen"))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["generation"]) == ("triggered", 2)
    assert last_event(incident).actor_label == key.actor_label


def test_incident_comment_answers_201_with_the_timeline_event(key_client):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, path(incident, "comment"), {"text": "Looking into it\nwith the DBA"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["text"], body["note"]) == ("commented", "Looking into it\nwith the DBA", body["note"])
    assert body["actor"] == {"type": "api_key", "label": key.actor_label, "username": key.user.username}
    assert last_event(incident).pk == body["id"]


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        ("acknowledge", Incident.Status.RESOLVED, "already_resolved"),
        ("silence", Incident.Status.RESOLVED, "already_resolved"),
        ("reopen", Incident.Status.TRIGGERED, "not_resolved"),
    ],
)
def test_incident_action_refused_transition_is_409_with_code(key_client, action, status, code):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(status=status)
    before = kinds(incident)

    response = post(client, path(incident, action), {"until": in_days(1)} if action == "silence" else None)

    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code and response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == status and kinds(incident) == before


def test_incident_reopen_while_another_is_open_is_409_already_open(key_client):
    client, _ = key_client(Role.RESPONDER)
    resolved = make_incident(status=Incident.Status.RESOLVED)
    make_incident(fingerprint=resolved.fingerprint)

    response = post(client, path(resolved, "reopen"))

    assert response.status_code == 409 and response.json()["code"] == "already_open"


def test_incident_action_stale_if_match_is_412_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()
    stale = client.get(f"/api/v1/incidents/{incident.pk}").headers["ETag"]
    post(client, path(incident, "acknowledge"))
    before = kinds(incident)

    response = post(client, path(incident, "resolve"), {"note": "done"}, HTTP_IF_MATCH=stale)

    assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED and kinds(incident) == before


def test_incident_action_current_if_match_acts(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()
    current = client.get(f"/api/v1/incidents/{incident.pk}").headers["ETag"]

    response = post(client, path(incident, "acknowledge"), HTTP_IF_MATCH=current)

    assert response.status_code == 200 and response.json()["status"] == "acknowledged"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "yesterday"}, "until"),
        ({"until": "2001-01-01T00:00:00Z"}, "until"),
        ({"until": "in_days:31"}, "until"),
        ({}, "until"),
        ({"until": "in_days:1", "reason": "r" * 5001}, "reason"),
        ({"until": "in_days:1", "reason": "bad\ud800"}, "reason"),
    ],
)
def test_incident_silence_bad_input_is_refused_naming_field(key_client, body, field):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()
    # A well-formed moment outside now..30 days is unprocessable (422 out_of_window); the rest is malformed (400).
    outside = body.get("until") in {"2001-01-01T00:00:00Z", "in_days:31"}
    body = {
        name: in_days(int(value[8:])) if str(value).startswith("in_days:") else value for name, value in body.items()
    }

    response = post(client, path(incident, "silence"), body)

    assert response.status_code == (422 if outside else 400), response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001, "esc\x1b]0;title\x07", "half\udfff", None, ["a"]])
def test_incident_comment_hostile_text_is_400_naming_text(key_client, text):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, path(incident, "comment"), {"text": text})

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "text"
    assert IncidentEvent.Kind.COMMENTED not in kinds(incident)


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "reopen", "silence", "comment", "merge"])
def test_incident_action_viewer_key_with_write_scope_is_403_role_forbidden(key_client, action):
    client, _ = demoted_key_client(key_client)
    incident = make_incident()
    before = kinds(incident)

    response = post(client, path(incident, action), {"text": "x", "until": in_days(1), "sources": [1]})

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
    assert kinds(incident) == before


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "comment", "merge"])
def test_incident_action_responder_key_without_scope_is_403_scope_missing(key_client, action):
    client, _ = key_client(Role.RESPONDER, scopes=["incidents:read", "tickets:write"])
    incident = make_incident()
    before = kinds(incident)

    response = post(client, path(incident, action), {"text": "x", "sources": [1]})

    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    assert kinds(incident) == before


def test_incident_action_with_session_records_the_user(responder_client, responder):
    incident = make_incident()

    response = post(responder_client, path(incident, "acknowledge"))

    assert response.status_code == 200
    event = last_event(incident)
    assert (event.actor_type, event.actor_user) == ("user", responder)


@pytest.mark.parametrize(
    "pk", ["99999999999999999999999", str(2**63), str(2**63 - 1), "9" * 5000, "-5", "abc", "%C2%B2"]
)
def test_incident_action_hostile_ids_are_404(key_client, pk):
    client, _ = key_client(Role.RESPONDER)

    response = post(client, f"/api/v1/incidents/{pk}/acknowledge")

    assert response.status_code == 404, response.content
    assert response.headers["Content-Type"] == "application/problem+json"


def test_incident_action_huge_body_is_413(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, path(incident, "comment"), {"text": "x" * 5_000_000})

    # Refused by Django's request size limit (DATA_UPLOAD_MAX_MEMORY_SIZE) before the view reads it.
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert IncidentEvent.Kind.COMMENTED not in kinds(incident)


@pytest.mark.parametrize("raw", ["{", "null", "[]", '"text"'])
def test_incident_action_malformed_json_is_400(key_client, raw):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = client.post(path(incident, "comment"), data=raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("big", [2**63, 2**64, 10**30])
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("get", "/api/v1/incidents/{big}/timeline"),
        ("get", "/api/v1/incidents/{big}/runs"),
        ("get", "/api/v1/incidents/{big}/analyses"),
        ("get", "/api/v1/incidents/{big}/attempts"),
        ("get", "/api/v1/incidents/{big}/tickets"),
        ("post", "/api/v1/incidents/{big}/tickets"),
        ("delete", "/api/v1/incidents/{big}/tickets/1"),
        ("delete", "/api/v1/incidents/{pk}/tickets/{big}"),
        ("post", "/api/v1/incidents/{big}/runs/1/retry"),
        ("post", "/api/v1/incidents/{pk}/runs/{big}/retry"),
        ("post", "/api/v1/incidents/{big}/merge"),
    ],
)
def test_incident_nested_paths_with_ids_past_64_bits_are_404(key_client, method, template, big):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()
    url = template.format(big=big, pk=incident.pk)
    body = {"system": "Jira", "key": "OPS-1", "sources": [incident.pk]}

    response = getattr(client, method)(url, data=body, content_type="application/json")

    assert response.status_code == 404, response.content
    assert response.headers["Content-Type"] == "application/problem+json"
