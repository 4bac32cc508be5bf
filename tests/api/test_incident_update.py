"""PATCH /api/v1/incidents/{id}: severity, assignee and title, If-Match required and checked under the row lock."""

import json

import pytest

from aimsweb.roles import Role
from incidents.models import Incident, IncidentEvent
from tests.api.incident_helpers import demoted_key_client
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def patch(client, incident: Incident, body, *, etag: str | None = None):
    headers = {"HTTP_IF_MATCH": etag} if etag is not None else {}
    return client.patch(
        f"/api/v1/incidents/{incident.pk}", data=json.dumps(body), content_type="application/json", **headers
    )


def etag(client, incident: Incident) -> str:
    return client.get(f"/api/v1/incidents/{incident.pk}").headers["ETag"]


def updates(incident: Incident) -> list[IncidentEvent]:
    return list(incident.events.filter(kind=IncidentEvent.Kind.UPDATED))


def test_incident_update_with_etag_changes_fields_and_records_one_event(key_client, make_user):
    client, key = key_client(Role.RESPONDER)
    rory = make_user("rory2", Role.RESPONDER)
    incident = make_incident(title="Old title", severity="high")
    before = etag(client, incident)

    response = patch(
        client, incident, {"severity": "critical", "assignee": "rory2", "title": " New title "}, etag=before
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["severity"], body["assignee"], body["title"]) == ("critical", "rory2", "New title")
    incident.refresh_from_db()
    assert (incident.severity, incident.assignee, incident.title) == ("critical", rory, "New title")
    [event] = updates(incident)
    assert event.params == {
        "changes": {"severity": ["high", "critical"], "assignee": [None, "rory2"], "title": ["Old title", "New title"]}
    }
    assert (event.actor_type, event.actor_label, event.actor_user) == ("api_key", key.actor_label, key.user)
    assert response.headers["ETag"] == etag(client, incident) != before


def test_incident_update_without_if_match_is_428_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(severity="high")

    response = patch(client, incident, {"severity": "low"})

    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    incident.refresh_from_db()
    assert incident.severity == "high" and updates(incident) == []


def test_incident_update_stale_if_match_is_412_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(severity="high", title="Before")
    stale = etag(client, incident)
    assert patch(client, incident, {"title": "Someone else's"}, etag=stale).status_code == 200

    response = patch(client, incident, {"severity": "low"}, etag=stale)

    assert response.status_code == 412
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "precondition_failed"
    incident.refresh_from_db()
    assert incident.severity == "high" and len(updates(incident)) == 1


def test_incident_update_same_values_records_no_event(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(severity="high", title="Same")

    response = patch(client, incident, {"severity": "high", "title": "Same"}, etag=etag(client, incident))

    assert response.status_code == 200
    assert updates(incident) == []


def test_incident_update_unassign_with_null(key_client, make_user):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(assignee=make_user("someone", Role.RESPONDER))

    response = patch(client, incident, {"assignee": None}, etag=etag(client, incident))

    assert response.status_code == 200 and response.json()["assignee"] is None
    assert updates(incident)[0].params == {"changes": {"assignee": ["someone", None]}}


@pytest.mark.parametrize("username", ["nobody-here", "gone"])
def test_incident_update_unknown_or_inactive_assignee_is_422_naming_assignee(key_client, make_user, username):
    client, _ = key_client(Role.RESPONDER)
    gone = make_user("gone", Role.RESPONDER)
    gone.is_active = False
    gone.save()
    incident = make_incident()

    response = patch(client, incident, {"assignee": username}, etag=etag(client, incident))

    assert response.status_code == 422 and response.json()["code"] == "unknown_reference"
    assert [error["field"] for error in response.json()["errors"]] == ["assignee"]
    incident.refresh_from_db()
    assert incident.assignee is None


def test_incident_update_viewer_assignee_is_400_naming_assignee(key_client, viewer):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = patch(client, incident, {"assignee": viewer.username}, etag=etag(client, incident))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "assignee"
    assert "Responder" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "title",
    ["", "   ", "x" * 301, "two\nlines", "bell\x07", "esc\x1b[31m", "nul\x00", "rtl\u202eevil", "half\ud800"],
)
def test_incident_update_hostile_title_is_400_naming_title(key_client, title):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(title="Kept")

    response = patch(client, incident, {"title": title}, etag=etag(client, incident))

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "title"
    incident.refresh_from_db()
    assert incident.title == "Kept"


@pytest.mark.parametrize(
    "body",
    [
        {"severity": "apocalyptic"},
        {"severity": ["high"]},
        {"title": None},
        {"assignee": {"username": "x"}},
        {"assignee": "x" * 10_000},
        ["not", "an", "object"],
    ],
)
def test_incident_update_malformed_body_is_400(key_client, body):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = patch(client, incident, body, etag=etag(client, incident))

    assert response.status_code == 400, response.content
    assert response.headers["Content-Type"] == "application/problem+json"


def test_incident_update_viewer_key_with_write_scope_is_403_role_forbidden(key_client):
    client, _ = demoted_key_client(key_client)
    incident = make_incident(severity="high")

    response = patch(client, incident, {"severity": "low"}, etag='"*"')

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
    incident.refresh_from_db()
    assert incident.severity == "high"


def test_incident_update_responder_key_without_scope_is_403_scope_missing(key_client):
    client, _ = key_client(Role.RESPONDER, scopes=["incidents:read"])
    incident = make_incident(severity="high")

    response = patch(client, incident, {"severity": "low"}, etag=etag(client, incident))

    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    incident.refresh_from_db()
    assert incident.severity == "high"


@pytest.mark.parametrize("pk", ["99999999999999999999999", str(2**63), "-1", "abc", "0"])
def test_incident_update_unknown_ids_are_404(key_client, pk):
    client, _ = key_client(Role.RESPONDER)

    response = client.patch(
        f"/api/v1/incidents/{pk}", data='{"severity": "low"}', content_type="application/json", HTTP_IF_MATCH="*"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_incident_update_put_is_not_offered(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = client.put(f"/api/v1/incidents/{incident.pk}", data="{}", content_type="application/json")

    assert response.status_code in (403, 405)
    assert response.headers["Content-Type"] == "application/problem+json"
