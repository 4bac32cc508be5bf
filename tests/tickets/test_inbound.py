"""Inbound Jira webhooks and ServiceNow callbacks: authentication, de-duplication, junk, and what a person's change
on the ticket does to the incident (never sent back)."""

import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, TicketLink
from tests.tickets.helpers import INBOUND_SECRET, make_route, open_incident, person_comment
from tickets.models import TicketComment, TicketRouteLink, TicketSyncJob
from tickets.services.reconcile import ticket_route_reconcile
from tickets.services.worker import ticket_jobs_run

pytestmark = pytest.mark.django_db
ALICE = "557058:alice"


def _synced(fake_system, system="jira"):
    route = make_route(system)
    incident = open_incident().incident
    ticket_jobs_run(now=timezone.now())
    return route, incident, next(iter(fake_system.tickets))


def _jira_body(route, incident, *, category="done", status="Done", author=ALICE, event="jira:issue_updated", **extra):
    return {
        "timestamp": 1,
        "webhookEvent": event,
        "user": {"accountId": author},
        "issue": {
            "id": "10001",
            "key": "OPS-1",
            "fields": {
                "status": {"name": status, "statusCategory": {"key": category}},
                "labels": [f"aims-incident-{incident.pk}-{route.pk}"],
            },
        },
        "changelog": {"items": [{"field": "status", "toString": status}]},
        **extra,
    }


def _post_jira(route, body, *, secret=INBOUND_SECRET, identifier="wh-1", signature=None):
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER": identifier}
    sign = (
        signature if signature is not None else "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    )
    if sign:
        headers["HTTP_X_HUB_SIGNATURE"] = sign
    return Client().post(f"/integrations/jira/{route.pk}/", raw, content_type="application/json", **headers)


def test_jira_webhook_person_resolves_incident_as_ticket_not_sent_back(fake_system):
    route, incident, _ = _synced(fake_system)

    response = _post_jira(route, _jira_body(route, incident))

    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    resolved = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.RESOLVED)
    assert (resolved.actor_type, resolved.actor_label) == ("ticket", "Jira OPS-1")
    changed = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.TICKET_CHANGED)
    assert changed.params["action"] == "resolved the incident"
    assert not TicketSyncJob.objects.exclude(action="open").exists()  # 0 echo


def test_jira_webhook_duplicate_identifier_taken_once(fake_system):
    route, incident, _ = _synced(fake_system)
    body = _jira_body(
        route,
        incident,
        event="comment_created",
        comment={"id": "77", "author": {"accountId": ALICE}, "body": "Looking"},
    )

    first = _post_jira(route, body, identifier="same")
    second = _post_jira(route, body, identifier="same")

    assert first.json()["status"] == "comment taken" and second.json()["status"] == "duplicate"
    comments = IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.COMMENTED)
    assert [(c.note, c.actor_type) for c in comments] == [("Looking", "ticket")]
    assert not TicketSyncJob.objects.filter(action="comment").exists()


def test_jira_webhook_own_account_change_ignored(fake_system):
    route, incident, _ = _synced(fake_system)

    response = _post_jira(route, _jira_body(route, incident, author="aims-bot@example.com"))

    assert response.json()["status"] == "own change"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


def test_jira_webhook_aims_comment_coming_back_not_taken(fake_system):
    route, incident, _ = _synced(fake_system)
    body = _jira_body(
        route,
        incident,
        event="comment_created",
        comment={"id": "8", "author": {"accountId": ALICE}, "body": "x\naims-event-12"},
    )

    assert _post_jira(route, body).json()["status"] == "comment not taken"
    assert not IncidentEvent.objects.filter(kind=IncidentEvent.Kind.COMMENTED).exists()


@pytest.mark.parametrize(
    ("signature", "status"),
    [("", 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403), ("sha256=zz\u00e9", 403)],
)
def test_jira_webhook_bad_signature_refused_as_problem(fake_system, signature, status):
    route, incident, _ = _synced(fake_system)

    response = _post_jira(route, _jira_body(route, incident), signature=signature)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json" and response.json()["status"] == status
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


def test_jira_webhook_unknown_or_other_system_route_forbidden(fake_system):
    route, incident, _ = _synced(fake_system, system="servicenow")

    response = _post_jira(route, _jira_body(route, incident))

    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"issue": 5}',
        b'{"issue": {"key": 5}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"issue": {"key": "X-1", "fields": {"labels": ["aims-incident-99999999999999999999999-1"]}}}',
    ],
)
def test_jira_webhook_junk_never_500(fake_system, body):
    route, _, _ = _synced(fake_system)

    response = _post_jira(route, body)

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response["Content-Type"] == "application/problem+json"


def test_jira_webhook_body_over_limit_413(fake_system, settings):
    settings.AIMS_TICKET_INBOUND_MAX_BYTES = 100
    route, incident, _ = _synced(fake_system)

    assert _post_jira(route, _jira_body(route, incident, padding="x" * 200)).status_code == 413


def test_jira_webhook_get_not_allowed(fake_system):
    route, _, _ = _synced(fake_system)

    assert Client().get(f"/integrations/jira/{route.pk}/").status_code == 405


def _post_snow(route, body, token=INBOUND_SECRET):
    headers = {"HTTP_X_AIMS_TOKEN": token} if token else {}
    return Client().post(
        f"/integrations/servicenow/{route.pk}/", json.dumps(body), content_type="application/json", **headers
    )


def _snow_body(route, incident, *, state="6", by="alice.oncall", journal=()):
    record = {
        "sys_id": "id-OPS-1",
        "number": "OPS-1",
        "state": state,
        "correlation_id": f"aims-incident-{incident.pk}-{route.pk}",
    }
    return {"event": "incident.updated", "record": record, "journal": list(journal), "sys_updated_by": by}


def test_servicenow_callback_person_resolves_and_work_note_taken(fake_system):
    route, incident, _ = _synced(fake_system, system="servicenow")
    note = {
        "element": "work_notes",
        "value": "DB restored",
        "sys_created_by": "alice.oncall",
        "sys_created_on": "2026-01-01 10:00:00",
    }

    response = _post_snow(route, _snow_body(route, incident, journal=[note]))

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert IncidentEvent.objects.get(incident=incident, kind="commented").note == "DB restored"
    assert _post_snow(route, _snow_body(route, incident, journal=[note])).json()["status"] == "duplicate"
    assert not TicketSyncJob.objects.exclude(action="open").exists()


def test_servicenow_callback_api_user_change_ignored(fake_system):
    route, incident, _ = _synced(fake_system, system="servicenow")

    response = _post_snow(route, _snow_body(route, incident, by="aims.integration"))

    assert response.status_code == 200
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.parametrize(("token", "status"), [("", 401), ("wrong", 403)])
def test_servicenow_callback_bad_secret_refused(fake_system, token, status):
    route, incident, _ = _synced(fake_system, system="servicenow")

    response = _post_snow(route, _snow_body(route, incident), token=token)

    assert response.status_code == status and response["Content-Type"] == "application/problem+json"


def test_reconcile_person_change_missed_push_resolves_and_takes_comment(fake_system):
    route, incident, key = _synced(fake_system)
    fake_system.tickets[key].category = "done"
    person_comment(key, "Closing: fixed upstream")

    counts = ticket_route_reconcile(route_id=route.pk)
    again = ticket_route_reconcile(route_id=route.pk)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert counts["statuses"] == 1 and counts["comments"] == 1
    assert again["statuses"] == 0 and again["comments"] == 0  # idempotent
    assert TicketComment.objects.filter(direction="in").count() == 1
    assert not TicketSyncJob.objects.exclude(action="open").exists()


def test_reconcile_retries_failed_jobs(fake_system):
    route, incident, _ = _synced(fake_system)
    TicketSyncJob.objects.update(status=TicketSyncJob.Status.FAILED)

    assert ticket_route_reconcile(route_id=route.pk)["retried"] == 1
    assert TicketSyncJob.objects.get().status == TicketSyncJob.Status.PENDING


def test_reconcile_pair_with_pending_jobs_left_alone(fake_system, responder):
    route, incident, key = _synced(fake_system)
    fake_system.tickets[key].category = "done"
    TicketSyncJob.objects.create(incident=incident, route=route, action="transition", next_attempt_at=timezone.now())

    ticket_route_reconcile(route_id=route.pk)

    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED
    assert TicketRouteLink.objects.get().remote_category == "new"


def test_incident_page_shows_ticket_sync_state_and_error(fake_system, viewer_client):
    route, incident, _ = _synced(fake_system)
    TicketLink.objects.filter(incident=incident).update(
        remote_status="In Progress", sync_state="failed", last_error="Jira answered 503 <b>busy</b>"
    )

    page = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Jira OPS-1" in page and "In Progress" in page and "Sync failing" in page
    assert "Last error: Jira answered 503 &lt;b&gt;busy&lt;/b&gt;" in page  # escaped
