"""The services behind the incident API's writes: incident_update, incident_merge, incident_ticket_unlink and
incidents_bulk_apply."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Occurrence, TicketLink
from incidents.services import (
    Actor,
    incident_merge,
    incident_reopen,
    incident_ticket_unlink,
    incident_update,
    incidents_bulk_apply,
)
from remediation.models import RetryAttempt
from tests.incidents.factories import make_incident
from tests.incidents.incident_page_helpers import events, make_failed_incident
from tests.monitors.factories import make_retry_attempt, make_retry_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(responder) -> Actor:
    return Actor.of_user(responder)


# --- incident_update ------------------------------------------------------------------------------------------------


def test_incident_update_only_given_fields_change_with_one_event(actor):
    incident = make_incident(title="Copy failed", severity="high")

    incident_update(incident_id=incident.pk, actor=actor, severity="low")

    incident.refresh_from_db()
    assert (incident.title, incident.severity) == ("Copy failed", "low")
    event = incident.events.get(kind=IncidentEvent.Kind.UPDATED)
    assert event.params == {"changes": {"severity": ["high", "low"]}}
    assert event.text == "Changed severity from high to low."


def test_incident_update_errors_name_every_field_and_save_nothing(actor, viewer):
    incident = make_incident(title="Kept", severity="high")

    with pytest.raises(ValidationError) as error:
        incident_update(incident_id=incident.pk, actor=actor, title="a\tb", severity="urgent", assignee=viewer)

    assert set(error.value.message_dict) == {"title", "severity", "assignee"}
    incident.refresh_from_db()
    assert (incident.title, incident.severity, incident.assignee) == ("Kept", "high", None)
    assert events(incident) == ["opened"]


def test_incident_update_inactive_assignee_refused(actor, make_user):
    gone = make_user("gone", Role.RESPONDER)
    gone.is_active = False
    gone.save()
    incident = make_incident()

    with pytest.raises(ValidationError) as error:
        incident_update(incident_id=incident.pk, actor=actor, assignee=gone)

    assert "deactivated" in error.value.message_dict["assignee"][0]


def test_incident_update_missing_incident_raises_does_not_exist(actor):
    with pytest.raises(Incident.DoesNotExist):
        incident_update(incident_id=10**12, actor=actor, title="x")


# --- incident_merge -------------------------------------------------------------------------------------------------


def test_incident_merge_resolved_source_keeps_its_resolution_and_gets_the_event(actor):
    target = make_incident()
    resolved_at = timezone.now() - timedelta(hours=1)
    source = make_incident(status=Incident.Status.RESOLVED, resolved_at=resolved_at)

    incident_merge(incident_id=target.pk, actor=actor, source_ids=[source.pk], note="same outage")

    source.refresh_from_db()
    assert source.resolved_at == resolved_at
    assert events(source) == ["opened", "merged"]
    assert source.events.get(kind="merged").text == f"Merged into incident #{target.pk}: same outage"
    assert Occurrence.objects.get(pk=source.latest_occurrence_id).incident_id == target.pk


def test_incident_merge_keeps_the_moved_runs_scheduled_retries(actor):
    target, source = make_failed_incident(), make_failed_incident()
    attempt = make_retry_attempt(source.latest_run, policy=make_retry_policy())

    incident_merge(incident_id=target.pk, actor=actor, source_ids=[source.pk])

    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.SCHEDULED
    assert FailureAnalysis.objects.get(run=source.latest_run).incident_id == target.pk


def test_incident_merge_spans_first_and_last_seen(actor):
    now = timezone.now()
    target = make_incident(first_seen_at=now - timedelta(hours=1), last_seen_at=now - timedelta(minutes=30))
    source = make_incident(first_seen_at=now - timedelta(days=1), last_seen_at=now)

    merged = incident_merge(incident_id=target.pk, actor=actor, source_ids=[source.pk])

    assert (merged.first_seen_at, merged.last_seen_at) == (source.first_seen_at, source.last_seen_at)


def test_incident_merge_source_reopened_after_its_merge_may_be_merged_again(actor):
    first_target, second_target, source = make_incident(), make_incident(), make_incident()
    incident_merge(incident_id=first_target.pk, actor=actor, source_ids=[source.pk])
    incident_reopen(incident_id=source.pk, actor=actor)

    incident_merge(incident_id=second_target.pk, actor=actor, source_ids=[source.pk])

    source.refresh_from_db()
    assert source.status == Incident.Status.RESOLVED
    assert [event.params for event in source.events.filter(kind="merged")] == [
        {"into": first_target.pk},
        {"into": second_target.pk},
    ]


def test_incident_merge_check_sees_the_locked_target_before_any_write(actor):
    target, source = make_incident(), make_incident()

    def refuse(incident: Incident) -> None:
        assert incident.pk == target.pk
        raise ValidationError("stale", code="stale")

    with pytest.raises(ValidationError):
        incident_merge(incident_id=target.pk, actor=actor, source_ids=[source.pk], check=refuse)

    assert events(source) == ["opened"] and Occurrence.objects.filter(incident=source).exists()


@pytest.mark.parametrize("count", [0, 51])
def test_incident_merge_source_count_bounded(actor, count):
    target = make_incident()

    with pytest.raises(ValidationError) as error:
        incident_merge(incident_id=target.pk, actor=actor, source_ids=list(range(10**6, 10**6 + count)))

    assert "sources" in error.value.message_dict


# --- incident_ticket_unlink -----------------------------------------------------------------------------------------


def test_incident_ticket_unlink_deletes_and_words_the_change(actor):
    incident = make_incident()
    ticket = TicketLink.objects.create(incident=incident, system="Jira", key="OPS-1")

    incident_ticket_unlink(incident_id=incident.pk, link_id=ticket.pk, actor=actor)

    assert not TicketLink.objects.exists()
    assert incident.events.get(kind="ticket_unlinked").text == "Unlinked Jira OPS-1."


# --- incidents_bulk_apply -------------------------------------------------------------------------------------------


def test_incidents_bulk_apply_reopen_reports_refusals_with_codes(actor):
    resolved = make_incident(status=Incident.Status.RESOLVED)
    open_one = make_incident()

    outcomes = incidents_bulk_apply(incident_ids=[open_one.pk, resolved.pk], action="reopen", actor=actor)

    assert {(o.incident_id, o.outcome, o.code) for o in outcomes} == {
        (resolved.pk, "done", ""),
        (open_one.pk, "refused", "not_resolved"),
    }


def test_incidents_bulk_apply_silence_without_until_refused_before_any_change(actor):
    incident = make_incident()

    with pytest.raises(ValidationError) as error:
        incidents_bulk_apply(incident_ids=[incident.pk], action="silence", actor=actor)

    assert "until" in error.value.message_dict
    assert events(incident) == ["opened"]


def test_incidents_bulk_apply_assign_same_assignee_unchanged(actor, responder):
    incident = make_incident(assignee=responder)

    [outcome] = incidents_bulk_apply(incident_ids=[incident.pk], action="assign", actor=actor, assignee=responder)

    assert (outcome.outcome, outcome.code) == ("unchanged", "already_assigned")
    assert events(incident) == ["opened"]
