"""The sync worker: carries the outbox to the tickets, in order per incident and route, exactly one ticket each.

A worker claims an (incident, route) pair by a lease on its TicketRouteLink row before it calls out, so two workers
never work on one ticket at once. Before opening a ticket again after an attempt whose answer was lost, it searches
for the ticket by its marker (a Jira label, ServiceNow's correlation_id). Failures are retried with backoff and
jitter (longer when the system says Retry-After); after AIMS_TICKET_MAX_ATTEMPTS the job fails, the ticket's sync
state says so, the timeline records it once, and the reconcile poll keeps trying."""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from aimsweb.crypto import SecretDecryptionError
from aimsweb.redact import redact
from incidents.models import Incident, IncidentEvent, TicketLink
from incidents.services.events import Actor, incident_event_add
from tickets.clients.base import TicketSystemError
from tickets.models import TicketComment, TicketRoute, TicketRouteLink, TicketSyncJob
from tickets.systems import RemoteTicket, TicketSystem, comment_marker, system_for

SYNC = Actor(type=IncidentEvent.ActorType.SYSTEM, label="ticket sync")
OPEN_STATES = (TicketSyncJob.Status.PENDING, TicketSyncJob.Status.FAILED)


@dataclass(frozen=True)
class TicketRef:
    key: str
    external_id: str


def category_for(incident: Incident) -> str:
    """The ticket status category an incident in this state wants."""
    if incident.status == Incident.Status.RESOLVED:
        return "done"
    if incident.status == Incident.Status.ACKNOWLEDGED or incident.acknowledged_at is not None:
        return "indeterminate"
    return "new"


def ticket_jobs_run(*, now: datetime | None = None, incident_id: int | None = None, limit: int | None = None) -> int:
    """Work on the due jobs (of one incident, or all), each (incident, route) pair by the one worker that claims it;
    returns how many jobs were finished (done, skipped or failed for good)."""
    now = now or timezone.now()
    queue = TicketSyncJob.objects.filter(status__in=OPEN_STATES)
    if incident_id is not None:
        queue = queue.filter(incident_id=incident_id)
    # A pair is due when its oldest unfinished job is pending and due: a failed one holds those after it.
    heads = queue.values("route_id", "incident_id").annotate(head=Min("id")).values("head")
    due = TicketSyncJob.objects.filter(pk__in=heads, status=TicketSyncJob.Status.PENDING, next_attempt_at__lte=now)
    pairs = list(
        due.order_by("next_attempt_at", "id").values_list("route_id", "incident_id")[
            : limit or settings.AIMS_TICKET_BATCH
        ]
    )
    return sum(_pair_run(route_id=route_id, incident_id=pair_incident, now=now) for route_id, pair_incident in pairs)


def _claim(*, route_id: int, incident_id: int) -> tuple[TicketRouteLink, str] | None:
    """Lease the pair's link row for this worker (None when another holds it)."""
    token, wall = uuid.uuid4().hex, timezone.now()
    free = (Q(lease_until__isnull=True) | Q(lease_until__lt=wall)) & (
        Q(unsettled_until__isnull=True) | Q(unsettled_until__lt=wall)
    )
    with transaction.atomic():
        link = (
            TicketRouteLink.objects.select_for_update(skip_locked=True)
            .filter(free, route_id=route_id, incident_id=incident_id)
            .first()
        )
        if link is None:
            return None
        # The conditional update decides where the database has no row locks to skip (SQLite).
        lease = wall + timedelta(seconds=settings.AIMS_TICKET_LEASE_SECONDS)
        if not TicketRouteLink.objects.filter(free, pk=link.pk).update(lease_token=token, lease_until=lease):
            return None
    link.lease_token, link.lease_until = token, lease
    return link, token


def _release(link: TicketRouteLink, token: str) -> None:
    TicketRouteLink.objects.filter(pk=link.pk, lease_token=token).update(lease_token="", lease_until=None)


def _pair_run(*, route_id: int, incident_id: int, now: datetime) -> int:
    claimed = _claim(route_id=route_id, incident_id=incident_id)
    if claimed is None:
        return 0
    link, token = claimed
    finished = 0
    try:
        route = TicketRoute.objects.get(pk=route_id)
        jobs = TicketSyncJob.objects.filter(route_id=route_id, incident_id=incident_id, status__in=OPEN_STATES)
        if not route.enabled:
            return jobs.update(status=TicketSyncJob.Status.SKIPPED, last_error="the route is disabled")
        system: TicketSystem | None = None
        for job in jobs.order_by("id")[: settings.AIMS_TICKET_BATCH]:
            if job.status != TicketSyncJob.Status.PENDING or job.next_attempt_at > now:
                break
            try:
                system = system or system_for(route)
                _job_carry(job=job, link=link, route=route, system=system)
            except (TicketSystemError, SecretDecryptionError) as exc:
                finished += _job_failed(job=job, link=link, route=route, error=exc, now=now)
                break
            finished += 1
    finally:
        _release(link, token)
    return finished


def _job_carry(*, job: TicketSyncJob, link: TicketRouteLink, route: TicketRoute, system: TicketSystem) -> None:
    """Do what the job asks of the ticket (opening it first if it is not there yet), then record it done."""
    incident = Incident.objects.select_related("pipeline", "connection", "analysis").get(pk=job.incident_id)
    ref, ticket = _ticket_ensure(link=link, route=route, system=system, incident=incident)
    if job.action == TicketSyncJob.Action.TRANSITION:
        ticket = system.move(
            key=ref.key, external_id=ref.external_id, category=category_for(incident), incident=incident
        )
    elif job.action == TicketSyncJob.Action.COMMENT:
        _comment_carry(job=job, link=link, system=system, ref=ref)
    elif job.action == TicketSyncJob.Action.UPDATE:
        system.update(key=ref.key, external_id=ref.external_id, incident=incident)
    with transaction.atomic():
        job.attempts += 1
        job.status, job.last_error = TicketSyncJob.Status.DONE, ""
        job.save(update_fields=["attempts", "status", "last_error", "updated_at"])
        _synced(link=link, ticket=ticket)


def _ticket_ensure(
    *, link: TicketRouteLink, route: TicketRoute, system: TicketSystem, incident: Incident
) -> tuple[TicketRef, RemoteTicket | None]:
    """The pair's ticket: the one linked, else the one carrying the marker (an earlier create whose answer was
    lost), else a new one; a ticket found or opened is linked with a `ticket_opened` timeline event."""
    if link.link_id is not None:
        ticket_link = TicketLink.objects.get(pk=link.link_id)
        return TicketRef(key=ticket_link.key, external_id=ticket_link.external_id), None
    correlation = route.correlation(incident.pk)
    found = system.find(correlation=correlation) if link.create_attempts else None
    if found is None:
        # Committed before the call: whoever tries next knows a ticket may exist and searches first.
        TicketRouteLink.objects.filter(pk=link.pk).update(create_attempts=F("create_attempts") + 1)
        link.create_attempts += 1
        found = system.create(incident=incident, correlation=correlation)
    _ticket_link_write(link=link, route=route, incident=incident, ticket=found)
    return TicketRef(key=found.key, external_id=found.external_id), found


@transaction.atomic
def _ticket_link_write(*, link: TicketRouteLink, route: TicketRoute, incident: Incident, ticket: RemoteTicket) -> None:
    ticket_link, created = TicketLink.objects.get_or_create(
        incident=incident,
        system=route.system_label,
        key=ticket.key[:100],
        defaults={
            "url": ticket.url[:500],
            "created_by_label": f"route {route.name}"[:150],
            "external_id": ticket.external_id[:100],
            "sync_state": TicketLink.SyncState.PENDING,
        },
    )
    link.link = ticket_link
    link.save(update_fields=["link", "updated_at"])
    if created:
        params = {"system": route.system_label, "key": ticket_link.key, "url": ticket_link.url, "route": route.name}
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.TICKET_OPENED, actor=SYNC, params=params)


def _comment_carry(*, job: TicketSyncJob, link: TicketRouteLink, system: TicketSystem, ref: TicketRef) -> None:
    """Post the comment with its marker; after an attempt whose answer was lost, look for the marker first."""
    marker = comment_marker(job.event_id or job.pk)
    remote_id = ""
    if job.attempts:
        comments = system.comments(key=ref.key, external_id=ref.external_id, since=None)
        remote_id = next((comment.id or marker for comment in comments if marker in comment.text), "")
    if not remote_id:
        text = f"{job.payload.get('author', 'AIMS')} (AIMS): {job.payload.get('text', '')}\n{marker}"
        remote_id = system.comment_add(key=ref.key, external_id=ref.external_id, text=text) or marker
    TicketComment.objects.get_or_create(
        route_link=link, remote_id=remote_id[:64], defaults={"direction": TicketComment.Direction.OUT}
    )


def _synced(*, link: TicketRouteLink, ticket: RemoteTicket | None) -> None:
    """The ticket is in step: its link says so, with the status last seen."""
    if link.link_id is None:
        return
    fields = {"sync_state": TicketLink.SyncState.SYNCED, "last_synced_at": timezone.now(), "last_error": ""}
    if ticket is not None:
        fields["remote_status"] = ticket.status[:100]
        if ticket.category:
            TicketRouteLink.objects.filter(pk=link.pk).update(remote_category=ticket.category)
            link.remote_category = ticket.category
    TicketLink.objects.filter(pk=link.link_id).update(**fields)


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    """Exponential from AIMS_TICKET_BACKOFF_SECONDS up to AIMS_TICKET_BACKOFF_MAX_SECONDS with jitter, never
    sooner than the system's Retry-After."""
    ceiling = min(settings.AIMS_TICKET_BACKOFF_MAX_SECONDS, settings.AIMS_TICKET_BACKOFF_SECONDS * 2 ** (attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def _job_failed(
    *, job: TicketSyncJob, link: TicketRouteLink, route: TicketRoute, error: Exception, now: datetime
) -> int:
    """Schedule the job again, or (out of attempts, or an error a retry cannot fix) fail it: the link's sync state
    says so and the timeline records it once. Returns 1 when the job is finished (failed), else 0."""
    message = redact(str(error))[:1000]
    if isinstance(error, TicketSystemError) and error.unsettled:
        # Whatever was sent may still be applied: the next call (a search, a read) waits until it would have been.
        settle = timezone.now() + timedelta(seconds=settings.AIMS_TICKET_SETTLE_SECONDS)
        TicketRouteLink.objects.filter(pk=link.pk).update(unsettled_until=settle)
    retryable = isinstance(error, TicketSystemError) and error.retryable
    retry_after = error.retry_after if isinstance(error, TicketSystemError) else None
    with transaction.atomic():
        job.attempts += 1
        job.last_error = message
        gives_up = not retryable or job.attempts >= settings.AIMS_TICKET_MAX_ATTEMPTS
        if gives_up:
            job.status = TicketSyncJob.Status.FAILED
        else:
            job.next_attempt_at = now + timedelta(seconds=backoff_seconds(job.attempts, retry_after))
        job.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"])
        state = TicketLink.SyncState.FAILED if gives_up else TicketLink.SyncState.PENDING
        newly_failed = gives_up
        if link.link_id is not None:
            current = TicketLink.objects.select_for_update().get(pk=link.link_id)
            newly_failed = gives_up and current.sync_state != TicketLink.SyncState.FAILED
            if current.sync_state != TicketLink.SyncState.FAILED or gives_up:
                current.sync_state, current.last_error = state, message
                current.save(update_fields=["sync_state", "last_error", "updated_at"])
        elif gives_up:
            newly_failed = (
                not TicketSyncJob.objects.filter(
                    route=route, incident_id=job.incident_id, status=TicketSyncJob.Status.FAILED
                )
                .exclude(pk=job.pk)
                .exists()
            )
        if newly_failed:
            incident = Incident.objects.get(pk=job.incident_id)
            ticket_key = link.link.key if link.link_id and link.link else ""
            params = {"system": route.system_label, "key": ticket_key, "error": message, "attempts": job.attempts}
            incident_event_add(incident=incident, kind=IncidentEvent.Kind.TICKET_SYNC_FAILED, actor=SYNC, params=params)
    return 1 if gives_up else 0
