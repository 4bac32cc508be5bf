"""Bulk acknowledge / resolve from the incident list: through HTTP as each role sends it, and the service's counts."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from aimsweb.choices import Severity
from incidents.models import Incident, IncidentEvent
from incidents.services import Actor, incidents_bulk_act
from tests.incidents.factories import make_incident
from tests.incidents.incident_list_helpers import HTMX, row_ids

BULK = "/incidents/bulk/"


def statuses(*incidents: Incident) -> list[str]:
    return [Incident.objects.get(pk=incident.pk).status for incident in incidents]


# --- Bulk actions -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_bulk_acknowledge_records_events_by_the_responder(responder, responder_client):
    first, second, third = make_incident(), make_incident(), make_incident(status=Incident.Status.SILENCED)

    response = responder_client.post(
        BULK, {"action": "acknowledge", "ids": [first.pk, second.pk, third.pk], "next": "/incidents/"}
    )

    assert response.status_code == 303
    assert statuses(first, second, third) == ["acknowledged"] * 3
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ACKNOWLEDGED)
    assert sorted(events.values_list("incident_id", flat=True)) == sorted([first.pk, second.pk, third.pk])
    assert set(events.values_list("actor_user", flat=True)) == {responder.pk}


@pytest.mark.django_db
def test_incident_bulk_acknowledge_skips_resolved_and_reports(responder_client):
    triggered = [make_incident(), make_incident(), make_incident()]
    resolved = make_incident(status=Incident.Status.RESOLVED)

    response = responder_client.post(
        BULK,
        {"action": "acknowledge", "ids": [i.pk for i in [*triggered, resolved]], "next": "/incidents/?status=all"},
        follow=True,
    )

    assert "Acknowledged 3, skipped 1 (already resolved)." in response.content.decode()
    assert statuses(*triggered, resolved) == ["acknowledged"] * 3 + ["resolved"]
    assert not resolved.events.filter(kind=IncidentEvent.Kind.ACKNOWLEDGED).exists()


@pytest.mark.django_db
def test_incident_bulk_resolve_records_events_and_skips_resolved(responder, responder_client):
    triggered, acknowledged = make_incident(), make_incident(status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(status=Incident.Status.RESOLVED)

    response = responder_client.post(
        BULK, {"action": "resolve", "ids": [triggered.pk, acknowledged.pk, resolved.pk]}, follow=True
    )

    assert "Resolved 2, skipped 1 (already resolved)." in response.content.decode()
    assert statuses(triggered, acknowledged, resolved) == ["resolved"] * 3
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.RESOLVED)
    assert sorted(events.values_list("incident_id", flat=True)) == sorted([triggered.pk, acknowledged.pk])
    assert set(events.values_list("actor_user", flat=True)) == {responder.pk}


@pytest.mark.django_db
def test_incident_bulk_plain_post_redirects_to_the_same_filters(responder_client):
    incident = make_incident(severity=Severity.HIGH)
    back = "/incidents/?severity=high&sort=-severity&page=1"

    response = responder_client.post(BULK, {"action": "acknowledge", "ids": [incident.pk], "next": back})

    assert response.status_code == 303 and response["Location"] == back


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/incidents/", "//evil.example/", "javascript:alert(1)"])
def test_incident_bulk_foreign_next_redirects_to_the_list(responder_client, next_url):
    incident = make_incident()

    response = responder_client.post(BULK, {"action": "acknowledge", "ids": [incident.pk], "next": next_url})

    assert response.status_code == 303 and response["Location"] == "/incidents/"


@pytest.mark.django_db
def test_incident_bulk_htmx_returns_results_with_outcome_for_the_same_filters(responder_client):
    high = make_incident(severity=Severity.HIGH, title="high one")
    make_incident(severity=Severity.LOW, title="low one")

    response = responder_client.post(
        BULK, {"action": "acknowledge", "ids": [high.pk], "next": "/incidents/?severity=high"}, headers=HTMX
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="incident-results"') and "<html" not in html
    assert "Acknowledged 1." in html
    assert row_ids(html) == [high.pk] and "low one" not in html
    assert re.search(rf'<tr id="incident-{high.pk}">.*?status-acknowledged', html, re.S)


@pytest.mark.django_db
def test_incident_bulk_viewer_forged_post_forbidden_and_unchanged(viewer_client):
    incident = make_incident()

    for action in ("acknowledge", "resolve", "delete"):
        response = viewer_client.post(BULK, {"action": action, "ids": [incident.pk]})
        assert response.status_code == 403
    assert statuses(incident) == ["triggered"]
    assert list(incident.events.values_list("kind", flat=True)) == ["opened"]


@pytest.mark.django_db
def test_incident_bulk_permission_checked_per_action(make_user):
    from django.contrib.auth.models import Permission

    acknowledger = make_user("ack-only")
    acknowledger.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_incident", "acknowledge_incident"])
    )
    client = Client()
    client.force_login(acknowledger)
    incident = make_incident()

    assert client.post(BULK, {"action": "resolve", "ids": [incident.pk]}).status_code == 403
    assert statuses(incident) == ["triggered"]
    assert client.post(BULK, {"action": "acknowledge", "ids": [incident.pk]}).status_code == 303
    assert statuses(incident) == ["acknowledged"]


@pytest.mark.django_db
def test_incident_bulk_more_than_250_ids_rejected_naming_the_field(responder_client):
    incident = make_incident()

    response = responder_client.post(
        BULK, {"action": "resolve", "ids": [incident.pk] + list(range(10**6, 10**6 + 250))}
    )

    assert response.status_code == 400
    assert "Selected incidents (ids): Select at most 250 incidents at a time (251 sent)." in response.content.decode()
    assert statuses(incident) == ["triggered"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "acknowledge"}, "Selected incidents (ids): Select at least one incident."),
        ({"action": "acknowledge", "ids": ["1", "x1"]}, "Selected incidents (ids): “x1” is not an incident number."),
        (
            {"action": "delete", "ids": ["1"]},
            "Action: Unknown action “delete”; use one of acknowledge, resolve, silence, assign, comment.",
        ),
    ],
)
def test_incident_bulk_bad_input_400_naming_the_field(responder_client, data, message):
    response = responder_client.post(BULK, data, headers=HTMX)

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_incident_bulk_get_not_allowed(responder_client):
    assert responder_client.get(BULK).status_code == 405


@pytest.mark.django_db
def test_incidents_bulk_act_counts_done_and_skipped_with_reasons(responder):
    triggered = make_incident()
    acknowledged = make_incident(status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(status=Incident.Status.RESOLVED)

    result = incidents_bulk_act(
        incident_ids=[triggered.pk, acknowledged.pk, resolved.pk, triggered.pk, 10**9],
        action="acknowledge",
        actor=Actor.of_user(responder),
    )

    assert [(outcome.incident_id, outcome.outcome) for outcome in result.pop("outcomes")] == [
        (triggered.pk, "done"),
        (acknowledged.pk, "unchanged"),
        (resolved.pk, "refused"),
        (10**9, "not_found"),
    ]
    assert result == {
        "done": 1,
        "skipped": 3,
        "reasons": {"already acknowledged": 1, "already resolved": 1, "not found": 1},
    }
    assert statuses(triggered) == ["acknowledged"]


@pytest.mark.django_db
def test_incidents_bulk_act_refuses_unknown_action_and_too_many(responder):
    incident = make_incident()
    actor = Actor.of_user(responder)

    with pytest.raises(ValidationError) as unknown:
        incidents_bulk_act(incident_ids=[incident.pk], action="delete", actor=actor)
    with pytest.raises(ValidationError) as too_many:
        incidents_bulk_act(incident_ids=list(range(1, 502)), action="resolve", actor=actor)

    assert "action" in unknown.value.message_dict and "ids" in too_many.value.message_dict
    assert statuses(incident) == ["triggered"]
