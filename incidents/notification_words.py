"""What happened to a notification, in words, for every list of them: "Delivered to #ops-alerts 00:21", "Held for the
digest at 00:27 (14 waiting)", "Sent in the digest of 00:27", "Failed: HTTP 503 — retrying at 00:24", and for a page
nobody was sent, "Suppressed: maintenance window X". Each says where it links: the notification's own page (what
was sent), or for one sent in a digest, the digest's."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents.models import IncidentEvent, Notification
from incidents.selectors.notifications import DigestWait


@dataclass(frozen=True)
class NotificationState:
    text: str
    tone: str  # ok, waiting, failed or muted: the badge's colour
    url: str = ""  # where the row links ('' for none)


def _hhmm(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%H:%M}" if moment else "—"


def _failure(notification: Notification) -> str:
    if notification.last_status_code:
        return f"HTTP {notification.last_status_code}"
    return notification.last_error.split(":")[0][:80] if notification.last_error else "no answer"


def notification_state(notification: Notification, *, wait: DigestWait | None = None) -> NotificationState:
    """The words for one notification; `wait` is its channel's digest wait when it is held back."""
    status, channel = notification.status, notification.channel.name
    own_page = reverse("incidents:notification", args=[notification.pk])
    if status == Notification.Status.SENT:
        what = "Digest delivered to" if notification.event == Notification.Event.DIGEST else "Delivered to"
        return NotificationState(f"{what} {channel} {_hhmm(notification.sent_at)}", "ok", own_page)
    if status == Notification.Status.PENDING:
        return NotificationState(f"Sending to {channel}", "waiting", own_page)
    if status == Notification.Status.RETRYING:
        text = f"Failed: {_failure(notification)} — retrying at {_hhmm(notification.next_attempt_at)}"
        return NotificationState(text, "failed", own_page)
    if status == Notification.Status.FAILED:
        attempts = notification.attempts
        text = f"Failed: {_failure(notification)} — gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
        return NotificationState(text, "failed", own_page)
    if status == Notification.Status.HELD:
        if wait is None:
            return NotificationState("Held for the next digest (rate limit)", "waiting", own_page)
        return NotificationState(
            f"Held for the digest at {_hhmm(wait.due_at)} ({wait.waiting} waiting)", "waiting", own_page
        )
    digest = notification.digest
    if digest is None:  # the digest was deleted (retention)
        return NotificationState("Sent in a digest", "ok")
    digest_page = reverse("incidents:notification", args=[digest.pk])
    if digest.status == Notification.Status.SENT:
        return NotificationState(f"Sent in the digest of {_hhmm(digest.sent_at)}", "ok", digest_page)
    return NotificationState(f"In the digest of {_hhmm(digest.created_at)}, not delivered yet", "waiting", digest_page)


def suppression_state(event: IncidentEvent) -> NotificationState:
    """The words for a page nobody was sent (an incident's suppressed timeline entry)."""
    params = event.params or {}
    until = parse_datetime(params["until"]) if params.get("until") else None
    reason = params.get("reason")
    if reason == "maintenance":
        text = f"Suppressed: maintenance window {params.get('window', '')} (until {_hhmm(until)})"
    elif reason == "silenced":
        text = f"Suppressed: silenced until {_hhmm(until)}"
    else:
        text = "Deferred: a retry is under way (pages if it fails)"
    return NotificationState(text, "muted")
