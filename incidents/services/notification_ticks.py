"""Every minute, for notifications: sends what is due (retries, and pending ones whose task was lost), one digest
per channel of what its rate limit held back, and the escalation steps of paged incidents nobody acknowledged."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Notification, NotificationChannel
from incidents.services import notifications  # a module: incidents.tasks imports this one while it loads
from incidents.services.events import NOTIFICATIONS, incident_event_add


def _digests_create(now: datetime) -> list[int]:
    """For each channel holding notifications back whose window has room again (or whose oldest held one is a
    window old), one digest of all of them."""
    created = []
    held = (
        Notification.objects.filter(status=Notification.Status.HELD)
        .values("channel_id")
        .annotate(oldest=Min("created_at"), first=Min("id"))
    )
    for row in held:
        channel = NotificationChannel.objects.get(pk=row["channel_id"])
        window_old = row["oldest"] <= now - timedelta(minutes=channel.rate_limit_minutes)
        if not window_old and notifications.channel_over_limit(channel, now):
            continue
        with transaction.atomic():
            digest, was_created = Notification.objects.get_or_create(
                dedup_key=f"digest:c{channel.pk}:n{row['first']}",
                defaults={
                    "channel": channel,
                    "event": Notification.Event.DIGEST,
                    "headline": "Held back by the rate limit",
                },
            )
            count = Notification.objects.filter(channel=channel, status=Notification.Status.HELD).update(
                status=Notification.Status.DIGESTED, digest=digest
            )
            Notification.objects.filter(pk=digest.pk).update(headline=f"{count} more notification(s) held back")
        if was_created:
            created.append(digest.pk)
    return created


def _escalations_fire(now: datetime) -> int:
    """Run the escalation steps of paged incidents nobody has acknowledged: each step once per generation."""
    fired = 0
    incidents = Incident.objects.filter(status=Incident.Status.TRIGGERED, paged_at__isnull=False).select_related(
        "pipeline", "connection"
    )
    for incident in incidents:
        assert incident.paged_at is not None  # filtered above
        for route in notifications.routes_for(incident):
            for step in route.escalation_steps.all():
                if incident.paged_at + timedelta(minutes=step.after_minutes) > now:
                    continue
                with transaction.atomic():
                    locked = Incident.objects.select_for_update(of=("self",)).select_related("pipeline", "connection")
                    current = locked.get(pk=incident.pk)
                    if current.status != Incident.Status.TRIGGERED:
                        break
                    reason = f"not acknowledged after {step.after_minutes} min"
                    on_call = notifications.step_on_call(step, now)
                    if notifications.incident_notify(
                        incident=current, event=Notification.Event.ESCALATED, step=step, reason=reason, on_call=on_call
                    ):
                        oncall_params = (
                            {"schedule": step.oncall_schedule.name, "on_call": on_call.person.name if on_call else ""}
                            if step.oncall_schedule is not None
                            else {}
                        )
                        incident_event_add(
                            incident=current,
                            kind=IncidentEvent.Kind.ESCALATED,
                            actor=NOTIFICATIONS,
                            params={
                                "route": route.name,
                                "route_id": route.pk,
                                "step_id": step.pk,
                                "after_minutes": step.after_minutes,
                                "channels": [str(channel) for channel in step.channels.all()],
                                **oncall_params,
                                "channel_ids": [channel.pk for channel in step.channels.all()],
                            },
                        )
                        fired += 1
    return fired


def notifications_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Every minute: send deliveries that are due (retries, and pending ones whose task was lost), digests of
    held-back notifications, and due escalation steps."""
    now = now or timezone.now()
    digests = _digests_create(now)
    escalated = _escalations_fire(now)
    stale = now - timedelta(seconds=notifications.SEND_CLAIM_SECONDS)
    due = list(
        Notification.objects.filter(
            Q(status=Notification.Status.RETRYING, next_attempt_at__lte=now)
            | Q(status=Notification.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Notification.Status.PENDING, next_attempt_at__isnull=True, created_at__lte=stale)
            | Q(pk__in=digests)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    sent = sum(
        1 for pk in due if notifications.notification_send(notification_id=pk, now=now) == Notification.Status.SENT
    )
    return {"digests": len(digests), "escalations": escalated, "due": len(due), "sent": sent}
