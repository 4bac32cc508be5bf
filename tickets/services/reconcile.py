"""The reconcile poll: repairs what pushes missed, both ways. Failed jobs are tried again; each route's tickets
updated since its watermark are read, and a status or comment a person set there that AIMS has not taken in is
taken in now (webhooks and callbacks can be lost). Idempotent: running it twice changes nothing more."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from aimsweb.crypto import SecretDecryptionError
from tickets.clients.base import TicketSystemError
from tickets.models import TicketRoute, TicketRouteLink, TicketSyncJob
from tickets.services.inbound import ticket_comment_take, ticket_status_take
from tickets.services.worker import OPEN_STATES
from tickets.systems import system_for

logger = logging.getLogger(__name__)


def ticket_routes_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Reconcile every enabled route; returns counts summed over them."""
    totals = {"retried": 0, "tickets": 0, "statuses": 0, "comments": 0, "errors": 0}
    for route_id in TicketRoute.objects.filter(enabled=True).values_list("pk", flat=True):
        for name, value in ticket_route_reconcile(route_id=route_id, now=now).items():
            totals[name] += value
    return totals


def ticket_route_reconcile(*, route_id: int, now: datetime | None = None) -> dict[str, int]:
    """Try the route's failed jobs again, then take in what changed on its tickets since the watermark (less
    AIMS_TICKET_RECONCILE_OVERLAP_SECONDS), and move the watermark to the newest change read when all went well."""
    now = now or timezone.now()
    route = TicketRoute.objects.get(pk=route_id)
    counts = {"retried": 0, "tickets": 0, "statuses": 0, "comments": 0, "errors": 0}
    counts["retried"] = TicketSyncJob.objects.filter(route=route, status=TicketSyncJob.Status.FAILED).update(
        status=TicketSyncJob.Status.PENDING, next_attempt_at=now
    )
    overlap = timedelta(seconds=settings.AIMS_TICKET_RECONCILE_OVERLAP_SECONDS)
    since = route.reconciled_until - overlap if route.reconciled_until else None
    try:
        system = system_for(route)
        tickets = system.changed_since(since=since)
    except (TicketSystemError, SecretDecryptionError) as exc:
        logger.warning("Reconcile of ticket route %s could not list tickets: %s", route.name, exc)
        counts["errors"] += 1
        return counts
    ids = {ticket.incident_id for ticket in tickets if ticket.incident_id is not None}
    links = {
        link.incident_id: link
        for link in TicketRouteLink.objects.filter(route=route, incident_id__in=ids).select_related("link")
    }
    # A pair with changes still to send: its ticket is about to change, so what it shows now is no person's word.
    busy = set(
        TicketSyncJob.objects.filter(route=route, incident_id__in=ids, status__in=OPEN_STATES).values_list(
            "incident_id", flat=True
        )
    )
    for ticket in tickets:
        link = links.get(ticket.incident_id or 0)
        if link is None or link.link_id is None or ticket.incident_id in busy:
            continue
        counts["tickets"] += 1
        outcome = ticket_status_take(
            route=route, link=link, status=ticket.status, category=ticket.category, by_person=True
        )
        counts["statuses"] += outcome not in ("no change", "own change")
        if not route.comment_sync:
            continue
        try:
            comments = system.comments(key=ticket.key, external_id=ticket.external_id, since=since)
        except TicketSystemError as exc:
            logger.warning("Reconcile of %s %s could not read comments: %s", route.name, ticket.key, exc)
            counts["errors"] += 1
            continue
        for comment in comments:
            counts["comments"] += ticket_comment_take(route=route, link=link, comment=comment)
    newest = max((ticket.updated for ticket in tickets if ticket.updated), default=None)
    if (
        not counts["errors"]
        and newest is not None
        and (route.reconciled_until is None or newest > route.reconciled_until)
    ):
        TicketRoute.objects.filter(pk=route.pk).update(reconciled_until=newest)
    return counts
