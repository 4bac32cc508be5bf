"""The outbox: for each timeline event that a ticket should follow, one sync job per route, written in the event's
own transaction (incidents.signals.incident_event_recorded) and worked on after commit."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from incidents.models import Incident, IncidentEvent
from tickets import tasks
from tickets.models import TicketRoute, TicketRouteLink, TicketSyncJob

Kind = IncidentEvent.Kind
MOVES = {Kind.ACKNOWLEDGED, Kind.RESOLVED, Kind.AUTO_RESOLVED, Kind.REOPENED}
FOLLOWED = {Kind.OPENED, Kind.COMMENTED, Kind.UPDATED} | MOVES
UPDATED_FIELDS = {"title", "severity"}


def ticket_jobs_enqueue(*, event: IncidentEvent, incident: Incident) -> list[TicketSyncJob]:
    """Write the sync jobs an event calls for (none for one that came from a ticket: it is never sent back) and
    queue the incident's sync after commit."""
    if event.actor_type == IncidentEvent.ActorType.TICKET or event.kind not in FOLLOWED:
        return []
    now = timezone.now()
    linked = {
        link.route_id: link.route for link in TicketRouteLink.objects.filter(incident=incident).select_related("route")
    }
    jobs: list[TicketSyncJob] = []

    def job(route: TicketRoute, action: str, payload: dict | None = None) -> None:
        jobs.append(
            TicketSyncJob(
                incident=incident,
                route=route,
                event_id=event.pk,
                action=action,
                payload=payload or {},
                next_attempt_at=now,
            )
        )

    if event.kind in (Kind.OPENED, Kind.REOPENED):
        routes = [route for route in TicketRoute.objects.filter(enabled=True) if route.pk not in linked]
        new = [route for route in routes if route.applies_to(incident)]
        TicketRouteLink.objects.bulk_create(
            [TicketRouteLink(route=route, incident=incident) for route in new], ignore_conflicts=True
        )
        for route in new:
            job(route, TicketSyncJob.Action.OPEN)
    for route in linked.values():
        if not route.enabled:
            continue
        if event.kind in MOVES:
            job(route, TicketSyncJob.Action.TRANSITION, {"kind": event.kind})
        elif event.kind == Kind.COMMENTED and route.comment_sync and event.note:
            job(route, TicketSyncJob.Action.COMMENT, {"author": event.actor, "text": event.note})
        elif event.kind == Kind.UPDATED and UPDATED_FIELDS & set(event.params.get("changes") or {}):
            job(route, TicketSyncJob.Action.UPDATE)
    if jobs:
        TicketSyncJob.objects.bulk_create(jobs)
        transaction.on_commit(partial(async_task, tasks.ticket_incident_sync_task, incident.pk))
    return jobs
