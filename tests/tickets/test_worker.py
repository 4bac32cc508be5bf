"""The outbox and the sync worker, against an in-memory ticket system: one ticket per incident and route, order,
retries, loop protection."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, TicketLink
from incidents.services.events import Actor
from incidents.services.incidents import incident_acknowledge, incident_comment, incident_reopen, incident_resolve
from tests.tickets.helpers import make_route, open_incident
from tickets.clients.base import TicketSystemError
from tickets.models import TicketRouteLink, TicketSyncJob
from tickets.services.worker import backoff_seconds, ticket_jobs_run

pytestmark = pytest.mark.django_db
LATER = timedelta(days=1)


def _drain(rounds: int = 20) -> None:
    now = timezone.now()
    for step in range(rounds):
        if (
            not ticket_jobs_run(now=now + LATER * (step + 1))
            and not TicketSyncJob.objects.filter(status=TicketSyncJob.Status.PENDING).exists()
        ):
            return


def test_outbox_opened_incident_matching_route_one_open_job(fake_system, responder):
    jira = make_route("jira", min_severity="high")
    make_route("servicenow", min_severity="critical")  # the incident is high: not for this one

    incident = open_incident(severity="high").incident

    jobs = list(TicketSyncJob.objects.values_list("route_id", "incident_id", "action"))
    assert jobs == [(jira.pk, incident.pk, "open")]
    assert TicketRouteLink.objects.filter(incident=incident).count() == 1


def test_outbox_route_filters_category_and_pipeline_pattern_exclude(fake_system):
    make_route("jira", categories=["transient"])
    make_route("jira", pipeline_pattern="sales_*")

    open_incident(category="code")

    assert not TicketSyncJob.objects.exists()


def test_worker_open_creates_one_ticket_with_link_and_timeline_event(fake_system):
    route = make_route("jira")
    incident = open_incident().incident

    _drain()

    assert list(fake_system.tickets) == ["OPS-1"]
    assert fake_system.tickets["OPS-1"].correlation == f"aims-incident-{incident.pk}-{route.pk}"
    link = TicketLink.objects.get(incident=incident)
    assert (link.system, link.key, link.sync_state) == ("Jira", "OPS-1", TicketLink.SyncState.SYNCED)
    assert link.route_link.route == route and link.last_synced_at is not None
    opened = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.TICKET_OPENED)
    assert opened.params == {"system": "Jira", "key": "OPS-1", "url": link.url, "route": route.name}


def test_worker_create_answer_lost_searches_marker_no_second_ticket(fake_system):
    make_route("jira")
    fake_system.failures["create"] = ["lost"]
    open_incident()

    _drain()

    assert list(fake_system.tickets) == ["OPS-1"]
    assert fake_system.calls == ["create", "find"]
    assert TicketLink.objects.get().key == "OPS-1"


def test_worker_state_changes_ticket_follows_incident_state_now(fake_system, responder):
    make_route("jira")
    incident = open_incident().incident
    actor = Actor.of_user(responder)

    incident_acknowledge(incident_id=incident.pk, actor=actor)
    incident_resolve(incident_id=incident.pk, actor=actor, note="fixed")
    _drain()
    assert fake_system.tickets["OPS-1"].category == "done"
    # Each job brings the ticket to the incident's state when it runs: the late acknowledgement writes nothing.
    assert [c for c in fake_system.calls if c.startswith("moved")] == ["moved OPS-1 to done"]

    incident_reopen(incident_id=incident.pk, actor=actor)
    _drain()

    assert list(fake_system.tickets) == ["OPS-1"]  # reopen reuses the ticket
    assert fake_system.tickets["OPS-1"].category == "new"


def test_worker_retryable_failure_backs_off_then_succeeds(fake_system):
    make_route("jira")
    fake_system.failures["create"] = [TicketSystemError("busy", status=429, retryable=True, retry_after=120)]
    open_incident()
    now = timezone.now()

    ticket_jobs_run(now=now)
    job = TicketSyncJob.objects.get()
    assert (job.status, job.attempts) == ("pending", 1) and "busy" in job.last_error
    assert job.next_attempt_at >= now + timedelta(seconds=120)  # Retry-After honoured
    assert ticket_jobs_run(now=now + timedelta(seconds=60)) == 0  # not due yet

    ticket_jobs_run(now=now + timedelta(seconds=121))

    assert TicketSyncJob.objects.get().status == "done" and list(fake_system.tickets) == ["OPS-1"]


def test_worker_out_of_attempts_fails_link_and_records_once(fake_system, settings, responder):
    settings.AIMS_TICKET_MAX_ATTEMPTS = 2
    make_route("jira")
    incident = open_incident().incident
    _drain()
    down = TicketSystemError("Jira answered 503", status=503, retryable=True)
    fake_system.failures["move"] = [down] * 10
    incident_acknowledge(incident_id=incident.pk, actor=Actor.of_user(responder))

    _drain()

    job = TicketSyncJob.objects.get(action="transition")
    assert (job.status, job.attempts) == ("failed", 2)
    link = TicketLink.objects.get(incident=incident)
    assert link.sync_state == TicketLink.SyncState.FAILED and "503" in link.last_error
    failed = IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.TICKET_SYNC_FAILED)
    assert [event.params["key"] for event in failed] == ["OPS-1"]


def test_worker_non_retryable_error_fails_at_once(fake_system):
    make_route("jira")
    fake_system.failures["create"] = [TicketSystemError("Jira answered 400: summary: too long", status=400)]
    incident = open_incident().incident

    ticket_jobs_run(now=timezone.now())

    job = TicketSyncJob.objects.get()
    assert (job.status, job.attempts) == ("failed", 1)
    event = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.TICKET_SYNC_FAILED)
    assert event.params["key"] == "" and "summary" in event.params["error"]


def test_worker_comment_answer_lost_not_posted_twice(fake_system, responder):
    make_route("jira")
    incident = open_incident().incident
    _drain()
    fake_system.failures["comment_add"] = ["lost"]

    incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text="Restarted the cluster")
    _drain()

    comments = fake_system.tickets["OPS-1"].comments
    assert len(comments) == 1 and "rory (AIMS): Restarted the cluster" in comments[0].text


def test_outbox_event_from_ticket_never_sent_back(fake_system):
    make_route("jira")
    incident = open_incident().incident
    _drain()
    ticket = Actor(type=IncidentEvent.ActorType.TICKET, label="Jira OPS-1")

    incident_comment(incident_id=incident.pk, actor=ticket, text="from the ticket")
    incident_resolve(incident_id=incident.pk, actor=ticket)

    assert not TicketSyncJob.objects.exclude(action="open").exists()


def test_outbox_comment_sync_off_no_comment_job(fake_system, responder):
    make_route("jira", comment_sync=False)
    incident = open_incident().incident

    incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text="hello")

    assert not TicketSyncJob.objects.filter(action="comment").exists()


def test_worker_disabled_route_skips_jobs(fake_system):
    route = make_route("jira")
    open_incident()
    route.enabled = False
    route.save()

    ticket_jobs_run(now=timezone.now())

    assert TicketSyncJob.objects.get().status == "skipped" and not fake_system.tickets


def test_worker_leased_pair_not_taken_by_second_worker(fake_system):
    make_route("jira")
    incident = open_incident().incident
    TicketRouteLink.objects.filter(incident=incident).update(
        lease_token="other", lease_until=timezone.now() + timedelta(minutes=1)
    )

    assert ticket_jobs_run(now=timezone.now()) == 0
    assert not fake_system.tickets


def test_backoff_grows_and_honours_retry_after(settings):
    settings.AIMS_TICKET_BACKOFF_SECONDS = 10
    settings.AIMS_TICKET_BACKOFF_MAX_SECONDS = 100

    assert 5 <= backoff_seconds(1, None) <= 10
    assert 50 <= backoff_seconds(8, None) <= 100
    assert backoff_seconds(1, 300) == 300


def test_incident_status_mapping_categories():
    from tickets.services.worker import category_for

    assert category_for(Incident(status="triggered")) == "new"
    assert category_for(Incident(status="acknowledged")) == "indeterminate"
    assert category_for(Incident(status="resolved")) == "done"
    assert category_for(Incident(status="silenced", acknowledged_at=timezone.now())) == "indeterminate"
