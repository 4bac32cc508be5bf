"""Ticket links through the API: an incident's links (link, list, unlink) and /tickets with its sync state."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aimsweb.roles import Role
from incidents.models import Incident, IncidentEvent, TicketLink
from tests.api.incident_helpers import demoted_key_client, kinds, last_event, post
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

OPS_12 = {"system": "Jira", "key": "OPS-12", "url": "https://acme.atlassian.net/browse/OPS-12"}


def link(incident: Incident, **fields) -> TicketLink:
    return TicketLink.objects.create(incident=incident, **{**OPS_12, **fields})


def tickets_path(incident: Incident) -> str:
    return f"/api/v1/incidents/{incident.pk}/tickets"


def test_incident_ticket_link_201_with_key_as_actor(key_client):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, tickets_path(incident), OPS_12)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["system"], body["key"], body["url"], body["sync_state"]) == ("Jira", "OPS-12", OPS_12["url"], "manual")
    assert body["incident"] == incident.pk
    ticket = TicketLink.objects.get()
    assert (ticket.incident, ticket.created_by, ticket.created_by_label) == (incident, key.user, key.actor_label)
    event = last_event(incident)
    assert (event.kind, event.actor_type, event.actor_label) == ("ticket_linked", "api_key", key.actor_label)


def test_incident_ticket_link_same_ticket_again_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    first = post(client, tickets_path(incident), OPS_12)
    again = post(client, tickets_path(incident), OPS_12)

    assert first.json()["id"] == again.json()["id"]
    assert TicketLink.objects.count() == 1
    assert kinds(incident).count("ticket_linked") == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "http://acme.atlassian.net/browse/OPS-12"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://" + "a" * 600 + ".example"}, "url"),
        ({"system": ""}, "system"),
        ({"system": "J" * 51}, "system"),
        ({"system": "Jira\nX-Injected: 1"}, "system"),
        ({"key": ""}, "key"),
        ({"key": "OPS\x1b[2J"}, "key"),
        ({"key": "OPS-\ud800"}, "key"),
        ({"key": ["OPS-1"]}, "key"),
    ],
)
def test_incident_ticket_link_hostile_fields_are_400_naming_field(key_client, fields, field):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, tickets_path(incident), {**OPS_12, **fields})

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not TicketLink.objects.exists()


def test_incident_ticket_link_without_url_is_allowed(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = post(client, tickets_path(incident), {"system": "ServiceNow", "key": "INC0010001"})

    assert response.status_code == 201 and response.json()["url"] == ""


def test_incident_ticket_link_unknown_incident_is_404(key_client):
    client, _ = key_client(Role.RESPONDER)

    response = post(client, f"/api/v1/incidents/{2**63 - 1}/tickets", OPS_12)

    assert response.status_code == 404
    assert not TicketLink.objects.exists()


def test_incident_ticket_link_needs_tickets_write_scope(key_client):
    client, _ = key_client(Role.RESPONDER, scopes=["incidents:read", "incidents:write"])
    incident = make_incident()

    response = post(client, tickets_path(incident), OPS_12)

    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    assert not TicketLink.objects.exists()


def test_incident_ticket_link_viewer_key_is_403_role_forbidden(key_client):
    client, _ = demoted_key_client(key_client)
    incident = make_incident()

    response = post(client, tickets_path(incident), OPS_12)

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
    assert not TicketLink.objects.exists()


def test_incident_ticket_unlink_204_records_the_change(key_client):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident()
    ticket = link(incident)

    response = client.delete(f"{tickets_path(incident)}/{ticket.pk}")

    assert response.status_code == 204
    assert not TicketLink.objects.exists()
    event = last_event(incident)
    assert (event.kind, event.params["system"], event.params["key"]) == ("ticket_unlinked", "Jira", "OPS-12")
    assert event.text == "Unlinked Jira OPS-12."
    assert event.actor_label == key.actor_label


def test_incident_ticket_unlink_of_another_incident_is_404_and_keeps_it(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident, other = make_incident(), make_incident()
    ticket = link(other)

    response = client.delete(f"{tickets_path(incident)}/{ticket.pk}")

    assert response.status_code == 404
    assert TicketLink.objects.filter(pk=ticket.pk).exists()
    assert IncidentEvent.Kind.UPDATED not in kinds(incident)


def test_incident_ticket_unlink_viewer_key_is_403(key_client):
    client, _ = demoted_key_client(key_client)
    incident = make_incident()
    ticket = link(incident)

    response = client.delete(f"{tickets_path(incident)}/{ticket.pk}")

    assert response.status_code == 403
    assert TicketLink.objects.filter(pk=ticket.pk).exists()


def test_incident_tickets_list_shows_sync_state(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident()
    link(incident, sync_state=TicketLink.SyncState.FAILED, last_error="Jira answered 503", remote_status="To Do")

    [row] = client.get(tickets_path(incident)).json()["results"]

    assert (row["sync_state"], row["last_error"], row["remote_status"]) == ("failed", "Jira answered 503", "To Do")
    assert row["last_synced_at"] is None


def test_tickets_list_filters_by_system_key_state_and_incident(key_client):
    client, _ = key_client(Role.VIEWER)
    first, second = make_incident(), make_incident()
    jira = link(first, sync_state=TicketLink.SyncState.SYNCED)
    snow = link(second, system="ServiceNow", key="INC001", url="", sync_state=TicketLink.SyncState.FAILED)
    link(second)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("system=servicenow") == {snow.pk}
    assert ids("key=ops-12&incident=" + str(first.pk)) == {jira.pk}
    assert ids("sync_state=synced&sync_state=failed") == {jira.pk, snow.pk}


@pytest.mark.parametrize(
    "query", ["sync_state=bogus", "incident=abc", "incident=1.5", f"incident={2**64}", "incident=-1", "sort=key"]
)
def test_tickets_list_bad_filter_is_400(key_client, query):
    client, _ = key_client(Role.VIEWER)

    response = client.get(f"/api/v1/tickets?{query}")

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def queries(client, url: str) -> int:
    client.get(url)  # the key's last use is written once a minute: not on the measured request
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_ticket_lists_queries_constant_with_1_or_20_links(key_client):
    client, _ = key_client(Role.VIEWER)
    few, many = make_incident(), make_incident()
    link(few)
    for n in range(20):
        link(many, key=f"OPS-{n}")

    assert queries(client, tickets_path(few)) == queries(client, tickets_path(many))
    assert queries(client, f"/api/v1/tickets?incident={few.pk}") == queries(client, "/api/v1/tickets")
