"""Delivery of the outbox: due messages claimed safely by any number of workers, one message per endpoint and
incident at a time (the oldest owed), posted signed, retried on a schedule of about 75 hours, logged per attempt."""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from aimsweb.outbound import OutboundPolicy, guarded_session
from webhooks.models import Attempt, Endpoint, Message
from webhooks.sender import SendOutcome, signed_post
from webhooks.services.endpoints import endpoint_disable, signing_secrets
from webhooks.services.outbox import delivery_soon

# After the first, immediate try (Standard Webhooks' example schedule: 75 h 35 min in all).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
# Answers that ask the sender to slow down: their Retry-After is honoured.
SLOW_DOWN_STATUSES = frozenset({429, 502, 503, 504})
GONE = 410
CLAIM_SIZE = 20


@dataclass(frozen=True)
class DeliveryCounts:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    disabled: int = 0


def retry_delay(*, attempts: int, retry_after_seconds: float | None = None) -> timedelta | None:
    """How long to wait after the `attempts`-th failed attempt (None: that was the last). Each step is lengthened at
    random by up to AIMS_OUTBOUND_WEBHOOK_JITTER, never shortened, so the schedule never spans less than its 75 h;
    a Retry-After longer than that is followed up to the step after next."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    step = RETRY_DELAYS[attempts - 1]
    delay = step * (1 + random.uniform(0, settings.AIMS_OUTBOUND_WEBHOOK_JITTER))
    if retry_after_seconds:
        bound = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS) - 1)]
        delay = max(delay, min(timedelta(seconds=retry_after_seconds), bound))
    return delay


def _lease() -> timedelta:
    """How long a claimed message is left alone: the longest an attempt can take, and a margin. A worker that dies
    mid-send leaves it to be claimed again after this."""
    return timedelta(seconds=2 * settings.AIMS_OUTBOUND_WEBHOOK_TIMEOUT_SECONDS + 60)


def _messages_claim(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due messages, each the oldest one owed to its endpoint for its incident, by pushing their
    next attempt a lease ahead (rows locked by another worker are skipped; SQLite serialises writers)."""
    older_owed = Message.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        incident_id=OuterRef("incident_id"),
        status=Message.Status.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    with transaction.atomic():
        ids = list(
            Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
            .exclude(Exists(older_owed))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=ids).update(next_attempt_at=now + _lease())
    return ids


def _outcome_record(*, message: Message, outcome: SendOutcome, now: datetime) -> str:
    """Log the attempt and move the message on: delivered, retried later, dead, or waiting for its endpoint (410)."""
    result = "failed"
    message.attempts += 1
    message.last_attempt_at = now
    message.last_status_code = outcome.status_code
    message.last_error = outcome.error
    if outcome.ok:
        result = "delivered"
        message.status, message.delivered_at, message.next_attempt_at = Message.Status.DELIVERED, now, None
    elif outcome.status_code == GONE:
        result = "disabled"
        message.next_attempt_at = now  # first in line once the endpoint is enabled again
    else:
        retry_after = outcome.retry_after_seconds if outcome.status_code in SLOW_DOWN_STATUSES else None
        delay = retry_delay(attempts=message.attempts, retry_after_seconds=retry_after)
        if delay is None:
            result = "dead"
            message.status, message.next_attempt_at = Message.Status.DEAD, None
        else:
            message.next_attempt_at = now + delay
    with transaction.atomic():
        Attempt.objects.create(
            message=message,
            started_at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
            trigger=Attempt.Trigger.REPLAY if message.replay_requested else Attempt.Trigger.SCHEDULED,
            requested_by_id=message.replay_requested_by_id if message.replay_requested else None,
        )
        message.replay_requested, message.replay_requested_by = False, None
        message.save(
            update_fields=[
                "attempts", "last_attempt_at", "last_status_code", "last_error", "status", "delivered_at",
                "next_attempt_at", "replay_requested", "replay_requested_by", "updated_at",
            ]
        )  # fmt: skip
        if result == "disabled":
            endpoint_disable(
                endpoint_id=message.endpoint_id,
                reason=f"The endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M %Z}: its messages wait until it is "
                "enabled again.",
                now=now,
            )
    return result


def messages_deliver(*, now: datetime | None = None, limit: int | None = None) -> DeliveryCounts:
    """Post up to `limit` due messages (AIMS_OUTBOUND_WEBHOOK_BATCH), in order per endpoint and incident, and
    record each attempt. `now` is the schedule's clock (which messages are due, when the next try is); the
    webhook-timestamp sent is always the real time. Returns how the attempts went."""
    now = now or timezone.now()
    limit = limit or settings.AIMS_OUTBOUND_WEBHOOK_BATCH
    policy = OutboundPolicy.for_channels()
    counts: Counter[str] = Counter()
    gone: set[int] = set()  # endpoints that answered 410 in this run: the rest of their claimed messages wait
    claimed = 0
    with guarded_session(policy) as session:
        # Each claim takes the head of every incident's queue; after a success the next one is the new head.
        while claimed < limit and (ids := _messages_claim(now=now, limit=min(CLAIM_SIZE, limit - claimed))):
            claimed += len(ids)
            for message in Message.objects.filter(pk__in=ids).select_related("endpoint").order_by("id"):
                endpoint: Endpoint = message.endpoint
                if endpoint.pk in gone:
                    Message.objects.filter(pk=message.pk).update(next_attempt_at=now)
                    continue
                outcome = signed_post(
                    session,
                    policy,
                    url=endpoint.url,
                    msg_id=message.msg_id,
                    body=message.body.encode(),
                    secrets=signing_secrets(endpoint, now=timezone.now()),
                    timeout=settings.AIMS_OUTBOUND_WEBHOOK_TIMEOUT_SECONDS,
                )
                result = _outcome_record(message=message, outcome=outcome, now=now)
                counts[result] += 1
                if result == "disabled":
                    gone.add(endpoint.pk)
    return DeliveryCounts(**counts)


@transaction.atomic
def message_replay(*, message_id: int, actor_user: User | None, now: datetime | None = None) -> Message:
    """Send a delivered or dead message again, under the same msg_id (webhook-id), on a fresh retry schedule; the
    attempt is logged as a replay. A pending message is left as it is (ValueError)."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.status == Message.Status.PENDING:
        raise ValueError(f"message {message.msg_id} is still pending: it is delivered or retried as scheduled")
    message.status = Message.Status.PENDING
    message.attempts = 0
    message.next_attempt_at = now or timezone.now()
    message.replay_requested, message.replay_requested_by = True, actor_user
    message.save(
        update_fields=["status", "attempts", "next_attempt_at", "replay_requested", "replay_requested_by", "updated_at"]
    )
    delivery_soon()
    return message
