"""Retention of the delivery log: delivered messages (and their attempts) go once old enough."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from monitors.retention import delete_in_batches
from webhooks.models import Message


def messages_prune(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Delete messages delivered more than AIMS_OUTBOUND_WEBHOOK_RETENTION_DAYS ago, with their attempts,
    AIMS_PRUNE_BATCH at a time; pending and dead ones stay (to be delivered or replayed). Returns how many went."""
    now = now or timezone.now()
    old = Message.objects.filter(
        status=Message.Status.DELIVERED,
        delivered_at__lt=now - timedelta(days=settings.AIMS_OUTBOUND_WEBHOOK_RETENTION_DAYS),
    )
    return delete_in_batches(old, batch or settings.AIMS_PRUNE_BATCH)
