"""Reads of the notification log: recent notifications, one with what a digest carried, suppressed pages, and for
each channel holding notifications back how many wait for its digest and when it is due, all in a fixed number of
queries whatever the page's size."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Notification, NotificationChannel

NOTIFICATION_RELATIONS = ("channel", "incident", "digest")
# Notifications that count against a channel's rate limit (incidents.services.notifications.channel_over_limit).
_UNCOUNTED = (Notification.Status.HELD, Notification.Status.DIGESTED)


@dataclass(frozen=True)
class DigestWait:
    """What waits for a channel's next digest: how many held notifications, and from when the digest is due (the
    minute tick after it sends it)."""

    waiting: int
    due_at: datetime


def digest_waits(*, channel_ids: set[int], now: datetime | None = None) -> dict[int, DigestWait]:
    """For each of these channels that holds notifications back: how many wait and when their digest is due, which
    is when the channel's window has room again or its oldest held notification is a window old, whichever is first
    (incidents.services.notification_ticks). Two queries, however many channels."""
    if not channel_ids:
        return {}
    now = now or timezone.now()
    held = {
        row["channel_id"]: row
        for row in Notification.objects.filter(channel_id__in=channel_ids, status=Notification.Status.HELD)
        .values("channel_id")
        .annotate(waiting=Count("id"), oldest=Min("created_at"), limit=Min("channel__rate_limit_count"))
        .annotate(minutes=Min("channel__rate_limit_minutes"))
    }
    if not held:
        return {}
    longest = max(row["minutes"] for row in held.values())
    # The counted notifications of those channels within the longest of their windows, newest first.
    counted: dict[int, list[datetime]] = {}
    for channel_id, created_at in (
        Notification.objects.filter(channel_id__in=held.keys(), created_at__gte=now - timedelta(minutes=longest))
        .exclude(status__in=_UNCOUNTED)
        .order_by("channel_id", "-created_at")
        .values_list("channel_id", "created_at")
    ):
        counted.setdefault(channel_id, []).append(created_at)
    waits = {}
    for channel_id, row in held.items():
        window = timedelta(minutes=row["minutes"])
        in_window = [at for at in counted.get(channel_id, []) if at >= now - window]
        # Room again once the limit-th newest counted notification leaves the window.
        room_at = in_window[row["limit"] - 1] + window if len(in_window) >= row["limit"] else now
        waits[channel_id] = DigestWait(waiting=row["waiting"], due_at=min(room_at, row["oldest"] + window))
    return waits


def notification_list(*, limit: int = 100) -> list[Notification]:
    """The newest notifications of every channel (digests included), with their channel, incident and digest."""
    return list(Notification.objects.select_related(*NOTIFICATION_RELATIONS).order_by("-created_at", "-id")[:limit])


def notification_get(*, notification_id: int) -> Notification | None:
    """One notification with its channel, incident and digest, or None."""
    return Notification.objects.select_related(*NOTIFICATION_RELATIONS).filter(pk=notification_id).first()


def notification_digest_items(*, digest: Notification) -> QuerySet[Notification]:
    """What a digest carried (or will carry), oldest first, with their incidents."""
    return digest.held_items.select_related("channel", "incident").order_by("created_at", "id")


def incident_suppressions(*, incident: Incident, limit: int = 20) -> list[IncidentEvent]:
    """The pages nobody was sent for this incident (silenced, in a maintenance window, a retry under way)."""
    return list(
        IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.SUPPRESSED).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def channel_names(*, channel_ids: set[int]) -> dict[int, str]:
    return dict(NotificationChannel.objects.filter(Q(pk__in=channel_ids)).values_list("pk", "name"))
