"""The incident page's actions through HTTP: who may take them, each action's outcome and timeline event, bad input
answered 400 naming the field, and the htmx partial they answer with."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import Incident, IncidentEvent, TicketLink
from remediation.models import RetryAttempt
from tests.incidents.incident_page_helpers import ACTIONS, events, make_failed_incident, url


def post_data(action: str, *, assignee=None) -> dict:
    return {
        "resolve": {"note": "fixed by hand"},
        "assign": {"assignee": assignee.pk if assignee else ""},
        "comment": {"text": "looking into it"},
        "silence": {"duration": "1", "reason": "known outage"},
        "ticket": {"system": "Jira", "key": "OPS-1", "url": "https://jira.example.com/browse/OPS-1"},
    }.get(action, {})


# --- Permissions --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("action", [*ACTIONS, "retry"])
def test_incident_action_viewer_forged_post_forbidden_and_unchanged(viewer_client, responder, action):
    incident = make_failed_incident(status=Incident.Status.SILENCED, silenced_until=timezone.now() + timedelta(hours=1))
    path = url(incident, f"runs/{incident.latest_run_id}/retry" if action == "retry" else action)
    data = {**post_data(action, assignee=responder), "request_key": "k" * 32}
    before = events(incident)

    response = viewer_client.post(path, data)

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Incident.Status.SILENCED and incident.assignee is None
    assert events(incident) == before
    assert not TicketLink.objects.exists() and not RetryAttempt.objects.exists()


@pytest.mark.django_db
def test_incident_action_get_not_allowed(responder_client):
    incident = make_failed_incident()

    assert responder_client.get(url(incident, "acknowledge")).status_code == 405
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


# --- Actions ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_acknowledge_responder_acknowledges_with_event(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "acknowledge"))

    assert response.status_code == 303 and response["Location"] == url(incident)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    event = incident.events.get(kind=IncidentEvent.Kind.ACKNOWLEDGED)
    assert event.actor_user == responder


@pytest.mark.django_db
def test_incident_acknowledge_resolved_incident_400_explains(responder_client):
    incident = make_failed_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    response = responder_client.post(url(incident, "acknowledge"))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="incident-problems"' in html and "reopen it first" in html
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_incident_resolve_with_note_resolves_and_records_note(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "resolve"), {"note": "restarted the gateway"})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    event = incident.events.get(kind=IncidentEvent.Kind.RESOLVED)
    assert (
        event.text == "Resolved: restarted the gateway"
        and event.note == "restarted the gateway"
        and event.actor_user == responder
    )


@pytest.mark.django_db
def test_incident_reopen_resolved_incident_triggers_new_generation(responder_client):
    incident = make_failed_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    response = responder_client.post(url(incident, "reopen"))

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.generation == 2
    assert events(incident)[-1] == IncidentEvent.Kind.REOPENED


@pytest.mark.django_db
def test_incident_reopen_open_incident_400(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "reopen"))

    assert response.status_code == 400
    assert "Only a resolved incident can be reopened." in response.content.decode()
    assert events(incident) == [IncidentEvent.Kind.OPENED]


@pytest.mark.django_db
def test_incident_assign_to_responder_sets_assignee(responder_client, make_user):
    colleague = make_user("casey", Role.RESPONDER)
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "assign"), {"assignee": colleague.pk})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.assignee == colleague
    assert incident.events.get(kind=IncidentEvent.Kind.ASSIGNED).text == "Assigned to casey."


@pytest.mark.django_db
def test_incident_assign_form_offers_only_responders_and_admins(responder_client, viewer, admin_user):
    incident = make_failed_incident()

    html = responder_client.get(url(incident)).content.decode()

    form = html[html.index(f'action="{url(incident, "assign")}"') :]
    form = form[: form.index("</form>")]
    assert f'value="{admin_user.pk}"' in form and ">rory<" in form
    assert f'value="{viewer.pk}"' not in form


@pytest.mark.django_db
def test_incident_assign_to_viewer_400_names_field(responder_client, viewer):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "assign"), {"assignee": viewer.pk})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Assignee: Choose someone with the Responder or Admin role." in html
    assert 'aria-invalid="true"' in html
    incident.refresh_from_db()
    assert incident.assignee is None


@pytest.mark.django_db
def test_incident_assign_empty_unassigns(responder_client, responder):
    incident = make_failed_incident(assignee=responder)

    response = responder_client.post(url(incident, "assign"), {"assignee": ""})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.assignee is None


@pytest.mark.django_db
def test_incident_comment_adds_event_by_responder(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": "  gateway restarted  "})

    assert response.status_code == 303
    event = incident.events.get(kind=IncidentEvent.Kind.COMMENTED)
    assert event.note == event.text == "gateway restarted" and event.actor_user == responder


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "Comment: Write a comment."), ("x" * 5001, "Comment: Ensure this value has at most 5000 characters")],
)
def test_incident_comment_bad_text_400_names_field(responder_client, text, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": text})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not incident.events.filter(kind=IncidentEvent.Kind.COMMENTED).exists()


@pytest.mark.django_db
def test_incident_silence_one_hour_then_unsilence(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "silence"), {"duration": "1", "reason": "known outage"})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.SILENCED
    ahead = incident.silenced_until - timezone.now()
    assert timedelta(minutes=59) < ahead <= timedelta(hours=1)
    assert incident.events.get(kind=IncidentEvent.Kind.SILENCED).text.endswith(": known outage")

    response = responder_client.post(url(incident, "unsilence"))

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.silenced_until is None
    assert events(incident)[-1] == IncidentEvent.Kind.UNSILENCED


@pytest.mark.django_db
def test_incident_silence_custom_until_sets_that_time(responder_client):
    incident = make_failed_incident()
    until = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)

    response = responder_client.post(
        url(incident, "silence"), {"duration": "custom", "until": until.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.silenced_until == until


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration": "custom"}, "Until: Give the time the silence ends."),
        ({"duration": "custom", "until": "2001-01-01T00:00"}, "Until: Must be in the future."),
        ({"duration": "custom", "until": "2999-01-01T00:00"}, "Until: At most 30 days ahead."),
        ({"duration": "forever"}, "For: Select a valid choice."),
    ],
)
def test_incident_silence_bad_until_400_names_field(responder_client, data, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "silence"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_incident_ticket_link_shows_link(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(
        url(incident, "ticket"), {"system": "Jira", "key": "OPS-7", "url": "https://jira.example.com/browse/OPS-7"}
    )

    assert response.status_code == 303
    ticket = TicketLink.objects.get(incident=incident)
    assert (ticket.system, ticket.key) == ("Jira", "OPS-7")
    html = responder_client.get(url(incident)).content.decode()
    assert '<a href="https://jira.example.com/browse/OPS-7"' in html and "Jira OPS-7</a>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"system": "Jira", "key": "OPS-7", "url": "javascript:alert(1)"}, "Link: Give a full http(s) link"),
        ({"system": "Jira", "key": "OPS-7", "url": "ftp://files.example.com/x"}, "Link: Give a full http(s) link"),
        ({"system": "Jira", "key": ""}, "Key: This field is required."),
    ],
)
def test_incident_ticket_link_bad_input_400_names_field(responder_client, data, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "ticket"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TicketLink.objects.exists()


# --- htmx ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_action_htmx_request_gets_main_partial(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "acknowledge"), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="incident-main">') and "<html" not in html
    assert 'data-testid="status">Acknowledged<' in html


@pytest.mark.django_db
def test_incident_action_htmx_bad_input_gets_400_partial_with_error(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": ""}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<div id="incident-main">') and "<html" not in html
    assert 'id="incident-problems"' in html and "Comment: Write a comment." in html
    assert response["HX-Reswap"] == "outerHTML show:#incident-problems:top"
