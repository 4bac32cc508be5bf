"""Notification rows for every list of them (an incident's page, the notifications page, a digest's page): what
happened to each, in words, linked to what was sent; and the context of those pages."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidents.models import Incident, IncidentEvent, Notification
from incidents.notification_words import NotificationState, notification_state, suppression_state
from incidents.selectors.notifications import (
    digest_waits,
    incident_suppressions,
    notification_digest_items,
    notification_list,
)


@dataclass(frozen=True)
class NotificationRow:
    at: datetime
    channel: str
    event: str
    incident: Incident | None
    state: NotificationState
    attempts: int | None = None  # None: nothing was sent (a suppressed page)
    notification_id: int | None = None


def notification_rows(
    notifications: list[Notification], *, suppressions: list[IncidentEvent] | None = None
) -> list[NotificationRow]:
    """A row per notification (and per suppressed page), newest first; the digest waits of the channels holding
    some back are read in one go."""
    held = {n.channel_id for n in notifications if n.status == Notification.Status.HELD}
    waits = digest_waits(channel_ids=held)
    rows = [
        NotificationRow(
            at=notification.created_at,
            channel=notification.channel.name,
            event=notification.get_event_display(),
            incident=notification.incident,
            state=notification_state(notification, wait=waits.get(notification.channel_id)),
            attempts=notification.attempts,
            notification_id=notification.pk,
        )
        for notification in notifications
    ]
    for event in suppressions or []:
        label = str(event.params.get("event") or "page").capitalize()
        rows.append(NotificationRow(event.created_at, "—", label, None, suppression_state(event)))
    return sorted(rows, key=lambda row: row.at, reverse=True)


def incident_notification_rows(incident: Incident, notifications: list[Notification]) -> list[NotificationRow]:
    """An incident's notifications and the pages nobody was sent about it."""
    return notification_rows(notifications, suppressions=incident_suppressions(incident=incident))


def notifications_page() -> dict[str, Any]:
    return {"notification_rows": notification_rows(notification_list())}


def notification_page(notification: Notification) -> dict[str, Any]:
    """One notification: what was sent where, what happened to it, and for a digest what it carried."""
    items = list(notification_digest_items(digest=notification)) if not notification.incident_id else []
    return {
        "notification": notification,
        "row": notification_rows([notification])[0],
        "item_rows": notification_rows(items),
    }
