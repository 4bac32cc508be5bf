"""Retention: webhook deliveries and task results are deleted once old enough, in batches, so neither table grows
without end (a rejected delivery can hold a 1 MiB body)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils import timezone
from django_q.models import Task

from monitors.models import WebhookDelivery

# Deliveries done with; accepted ones (claimed or not) are still to be processed and are never pruned.
FINISHED = (WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED, WebhookDelivery.Status.FAILED)


@dataclass(frozen=True)
class PruneResult:
    deliveries: int
    rejected: int
    task_results: int


def records_prune(*, now: datetime | None = None, batch: int | None = None) -> PruneResult:
    """Delete finished webhook deliveries older than AIMS_WEBHOOK_RETENTION_DAYS, rejected ones older than
    AIMS_REJECTED_RETENTION_DAYS and django-q2 task results (successes and failures) older than
    AIMS_TASK_RESULT_RETENTION_DAYS, `batch` (AIMS_PRUNE_BATCH) rows per statement so no one statement holds
    locks for long. Returns how many rows of each went."""
    now = now or timezone.now()
    batch = batch or settings.AIMS_PRUNE_BATCH
    finished = WebhookDelivery.objects.filter(
        status__in=FINISHED, created_at__lt=now - timedelta(days=settings.AIMS_WEBHOOK_RETENTION_DAYS)
    )
    rejected = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.REJECTED,
        created_at__lt=now - timedelta(days=settings.AIMS_REJECTED_RETENTION_DAYS),
    )
    results = Task.objects.filter(stopped__lt=now - timedelta(days=settings.AIMS_TASK_RESULT_RETENTION_DAYS))
    return PruneResult(
        deliveries=delete_in_batches(finished, batch),
        rejected=delete_in_batches(rejected, batch),
        task_results=delete_in_batches(results, batch),
    )


def delete_in_batches(rows: QuerySet[Model], batch: int) -> int:
    """Delete these rows `batch` at a time (one short statement each); returns how many went."""
    deleted = 0
    while ids := list(rows.values_list("pk", flat=True)[:batch]):
        rows.model._default_manager.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
