"""Notifications: who is told about an incident event (routes, escalation steps), once per state change, within
each channel's rate limit (the rest in one digest), delivered by a task and retried with backoff."""

import dataclasses
import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from aimsweb.crypto import SecretDecryptionError
from aimsweb.memo import memoized
from aimsweb.redact import redact
from incidents import tasks
from incidents.models import (
    EscalationStep,
    Incident,
    IncidentEvent,
    Notification,
    NotificationChannel,
    NotificationRoute,
)
from incidents.notify.base import DeliveryResult
from incidents.notify.channels import channel_config
from incidents.notify.http import sender_for
from incidents.services.events import NOTIFICATIONS, incident_event_add
from incidents.services.notification_messages import PAGE_EVENTS, notification_message
from monitors.maintenance import maintenance_window_active
from oncall.rota import OnCall
from oncall.selectors import contact_get, schedule_on_call

logger = logging.getLogger(__name__)

SEND_CLAIM_SECONDS = 120
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600
HEADLINES: dict[str, str] = {
    Notification.Event.OPENED: "Incident opened",
    Notification.Event.REOPENED: "Incident reopened",
    Notification.Event.ESCALATED: "Escalated",
    Notification.Event.RESOLVED: "Resolved",
}


@memoized
def _enabledroutes_for() -> list[NotificationRoute]:
    return list(
        NotificationRoute.objects.filter(enabled=True).prefetch_related(
            "channels", "escalation_steps__channels", "escalation_steps__oncall_schedule"
        )
    )


def routes_for(incident: Incident) -> list[NotificationRoute]:
    pipeline_name = incident.pipeline.name if incident.pipeline else ""

    def subject() -> str:
        return incident.latest_occurrence.subject if incident.latest_occurrence_id else ""  # type: ignore[union-attr]

    return [
        route
        for route in _enabledroutes_for()
        if route.matches(
            connection_id=incident.connection_id,
            pipeline_name=pipeline_name,
            severity=incident.severity,
            category=incident.category,
            source=incident.source,
            subject=subject,
        )
    ]


def _suppressed(incident: Incident) -> dict:
    """Why nobody may be told about this incident now, as timeline parameters (empty when they may)."""
    now = timezone.now()
    if incident.status == Incident.Status.SILENCED and incident.silenced_until and incident.silenced_until > now:
        return {"reason": "silenced", "until": incident.silenced_until.isoformat()}
    window = maintenance_window_active(
        connection_id=incident.connection_id,
        pipeline_name=incident.pipeline.name if incident.pipeline else "",
        suppresses="notifications",
        at=now,
    )
    if window is not None:
        return {
            "reason": "maintenance",
            "window": window.name,
            "window_id": window.pk,
            "until": window.ends_at.isoformat(),
        }
    return {}


def _channels_for(
    incident: Incident, event: str, step: EscalationStep | None, *, retrying: bool = False
) -> list[NotificationChannel]:
    routes = routes_for(incident)
    if step is not None:
        channels = list(step.channels.all())
    elif event in (Notification.Event.OPENED, Notification.Event.REOPENED):
        # While a retry is under way only routes that ask to hear at once do; the rest hear if the retries fail.
        channels = [
            channel
            for route in routes
            if route.notify_on_open and (route.notify_while_retrying or not retrying)
            for channel in route.channels.all()
        ]
    elif event == Notification.Event.ESCALATED:
        channels = [channel for route in routes for channel in route.channels.all()]
    else:  # resolved: only the channels that were paged in this generation, on routes that want to hear it
        paged = set(
            Notification.objects.filter(
                incident=incident, event__in=PAGE_EVENTS, generation=incident.generation
            ).values_list("channel_id", flat=True)
        )
        wanted = {
            channel.pk: channel
            for route in routes
            if route.notify_on_resolve
            for channel in [*route.channels.all(), *(c for s in route.escalation_steps.all() for c in s.channels.all())]
        }
        channels = [channel for pk, channel in wanted.items() if pk in paged]
    unique = {channel.pk: channel for channel in channels if channel.enabled}
    return list(unique.values())


def channel_over_limit(channel: NotificationChannel, now: datetime) -> bool:
    window = now - timedelta(minutes=channel.rate_limit_minutes)
    recent = (
        Notification.objects.filter(channel=channel, created_at__gte=window)
        .exclude(status__in=[Notification.Status.HELD, Notification.Status.DIGESTED])
        .count()
    )
    return recent >= channel.rate_limit_count


def step_on_call(step: EscalationStep, at: datetime) -> OnCall | None:
    """Who is on call at `at` in the schedule an escalation step targets (None: it targets none, or nobody is)."""
    if step.oncall_schedule_id is None:
        return None
    return schedule_on_call(schedule_id=step.oncall_schedule_id, at=at)


PERSONAL_KINDS = (NotificationChannel.Kind.EMAIL, NotificationChannel.Kind.SLACK, NotificationChannel.Kind.TEAMS)


def _personal_targets(step: EscalationStep, user_id: int) -> list[tuple[NotificationChannel, str]]:
    """Through which channel, to which address, the on-call person is reached: per contact method they gave (the
    account's e-mail counts), the first enabled channel of that kind on the step, else on its route."""
    contact = contact_get(user_id=user_id)
    if contact is not None:
        addresses = {"email": contact.email_address, "slack": contact.slack_member_id, "teams": contact.teams_upn}
    else:
        user = get_user_model().objects.filter(pk=user_id).first()
        addresses = {"email": user.email if user else ""}
    chosen: dict[str, NotificationChannel] = {}
    for channel in [*step.channels.all(), *step.route.channels.all()]:
        if channel.enabled and channel.kind in PERSONAL_KINDS and addresses.get(channel.kind):
            chosen.setdefault(channel.kind, channel)
    return [(channel, addresses[kind]) for kind, channel in chosen.items()]


def incident_notify(
    *,
    incident: Incident,
    event: str,
    step: EscalationStep | None = None,
    reason: str = "",
    retrying: bool = False,
    on_call: OnCall | None = None,
) -> int:
    """Create one notification per channel the routes (or the escalation step) name for this event, at most once
    per incident, generation, event and step; hold back what a channel's rate limit does not allow (a digest follows);
    for a step with `on_call`, one more per contact method of that person (never held back); queue the sending after
    commit. Call inside the transaction that changed the incident. Returns how many were created."""
    suppressed = _suppressed(incident) if event != Notification.Event.RESOLVED else {}
    if suppressed:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.SUPPRESSED,
            actor=NOTIFICATIONS,
            params={**suppressed, "event": event},
        )
        return 0
    now = timezone.now()
    headline = HEADLINES.get(event, event.title()) + (f": {reason}" if reason else "")
    created_ids = []
    channels = _channels_for(incident, event, step, retrying=retrying)
    if retrying and not channels and routes_for(incident):
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.SUPPRESSED,
            actor=NOTIFICATIONS,
            params={"reason": "retrying", "event": event},
        )
    for channel in channels:
        key = f"{event}:i{incident.pk}:g{incident.generation}:c{channel.pk}" + (f":s{step.pk}" if step else "")
        held = channel_over_limit(channel, now)
        status = Notification.Status.HELD if held else Notification.Status.PENDING
        notification = _notification_insert(
            incident, event, channel=channel, dedup_key=key, headline=headline, status=status
        )
        if notification is not None and not held:
            created_ids.append(notification.pk)
    if step is not None and on_call is not None:
        created_ids += _personal_notifications(incident, event, step, on_call, headline)
    if created_ids and event in PAGE_EVENTS and incident.paged_at is None:
        Incident.objects.filter(pk=incident.pk, paged_at__isnull=True).update(paged_at=now)
        incident.paged_at = now
    if created_ids:
        transaction.on_commit(partial(async_task, tasks.notifications_send_task, created_ids))
    return len(created_ids)


def _personal_notifications(
    incident: Incident, event: str, step: EscalationStep, on_call: OnCall, headline: str
) -> list[int]:
    created = []
    for channel, address in _personal_targets(step, on_call.person.id):
        key = f"{event}:i{incident.pk}:g{incident.generation}:s{step.pk}:u{on_call.person.id}:{channel.kind}"
        notification = _notification_insert(
            incident,
            event,
            channel=channel,
            dedup_key=key,
            headline=headline,
            recipient_id=on_call.person.id,
            recipient_address=address,
        )
        if notification is not None:
            created.append(notification.pk)
    return created


def _notification_insert(
    incident: Incident, event: str, *, channel: NotificationChannel, dedup_key: str, headline: str, **fields
) -> Notification | None:
    """The notification of this state change on this channel (and person), or None when it was notified already."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                channel=channel,
                incident=incident,
                event=event,
                generation=incident.generation,
                dedup_key=dedup_key,
                headline=headline[:300],
                **fields,
            )
    except IntegrityError:
        return None


# --- Sending ------------------------------------------------------------------------------------------------------


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Deliver one pending or due notification (claimed first, so two workers never send it at once); record the
    outcome; schedule a retry with growing delays after a failure, and give up after AIMS_NOTIFY_MAX_ATTEMPTS.
    Returns the new status."""
    now = now or timezone.now()
    claimed = (
        Notification.objects.filter(
            pk=notification_id, status__in=[Notification.Status.PENDING, Notification.Status.RETRYING]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + timedelta(seconds=SEND_CLAIM_SECONDS))
    )
    notification = Notification.objects.select_related(
        "channel", "incident__latest_occurrence", "incident__pipeline", "incident__connection", "recipient"
    ).get(pk=notification_id)
    if not claimed:
        return notification.status
    try:
        config = channel_config(notification.channel)
        if notification.recipient_id and notification.channel.kind == NotificationChannel.Kind.EMAIL:
            config = dataclasses.replace(config, recipients=(notification.recipient_address,))  # the person only
        result = sender_for(notification.channel.kind).send(
            config, notification_message(notification), delivery_id=str(notification.pk)
        )
    except (ImproperlyConfigured, SecretDecryptionError) as exc:  # trying again cannot help
        result = DeliveryResult(ok=False, error=f"{exc.__class__.__name__}: {exc}"[:500], retryable=False)
    except Exception as exc:
        logger.exception("notification %s to channel %s failed", notification.pk, notification.channel_id)
        # The class and where, not the text: an exception may quote the channel's secret URL.
        where = notification.channel.url_host or str(notification.channel)
        result = DeliveryResult(ok=False, error=f"{exc.__class__.__name__} sending to {where}", retryable=True)
    # Viewers see this on the incident's timeline: the senders keep receivers' bodies out, redaction the rest.
    error = redact(result.error)[:2000]
    attempts = notification.attempts + 1
    if result.ok:
        status, next_at = Notification.Status.SENT, None
    elif result.retryable and attempts < settings.AIMS_NOTIFY_MAX_ATTEMPTS:
        status, next_at = Notification.Status.RETRYING, now + _retry_delay(attempts)
    else:
        status, next_at = Notification.Status.FAILED, None
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            status=status,
            attempts=attempts,
            next_attempt_at=next_at,
            last_status_code=result.status_code,
            last_error=error,
            sent_at=now if result.ok else None,
            updated_at=timezone.now(),
        )
        if notification.incident_id and status in (Notification.Status.SENT, Notification.Status.FAILED):
            assert notification.incident is not None  # its id is set
            params = {
                "notification_id": notification.pk,
                "channel": str(notification.channel),
                "channel_id": notification.channel_id,
            }
            if notification.recipient is not None:
                params["to"] = notification.recipient.get_username()
            if status == Notification.Status.SENT:
                kind = IncidentEvent.Kind.NOTIFIED
                params["event"] = notification.get_event_display().lower()
            else:
                kind = IncidentEvent.Kind.NOTIFY_FAILED
                params.update(attempts=attempts, error=error[:300])
            incident_event_add(incident=notification.incident, kind=kind, actor=NOTIFICATIONS, params=params)
    if status == Notification.Status.RETRYING:
        logger.warning(
            "notification %s to %s failed (attempt %s), retrying at %s: %s",
            notification.pk,
            notification.channel,
            attempts,
            next_at,
            error,
        )
    return status


def notifications_send(*, notification_ids: list[int]) -> int:
    """Send a batch (see notification_send); returns how many were sent."""
    return sum(1 for pk in notification_ids if notification_send(notification_id=pk) == Notification.Status.SENT)
