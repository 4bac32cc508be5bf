"""Retention (issue 13, finding 23): old webhook deliveries and task results are pruned, in batches, by a daily
schedule and by `manage.py prune`; deliveries still to be processed never are."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule, Task

from aimsweb.schedules import schedules_sync
from monitors.models import WebhookDelivery
from tests.monitors.factories import make_connection


def _delivery(connection, status: str, age_days: float, **fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        connection=connection, source=WebhookDelivery.Source.DATABRICKS, status=status, body="{}", **fields
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return delivery


def _task(name: str, age_days: float, *, success: bool) -> Task:
    stopped = timezone.now() - timedelta(days=age_days)
    return Task.objects.create(
        id=name, name=name, func="monitors.tasks.webhooks_tick_task", started=stopped, stopped=stopped, success=success
    )


@pytest.mark.django_db
def test_retention_prune_deletes_old_deliveries_and_task_results(settings):
    """Finding 23: `prune` deletes finished deliveries past AIMS_WEBHOOK_RETENTION_DAYS, rejected ones past
    AIMS_REJECTED_RETENTION_DAYS and task results past AIMS_TASK_RESULT_RETENTION_DAYS, in batches; it keeps what
    is younger and every delivery still to be processed (accepted, claimed or not), however old."""
    settings.AIMS_WEBHOOK_RETENTION_DAYS = 30
    settings.AIMS_REJECTED_RETENTION_DAYS = 7
    settings.AIMS_TASK_RESULT_RETENTION_DAYS = 14
    settings.AIMS_PRUNE_BATCH = 2
    connection = make_connection()
    S = WebhookDelivery.Status
    old = [_delivery(connection, status, 31) for status in (S.PROCESSED, S.IGNORED, S.FAILED, S.PROCESSED, S.FAILED)]
    old_rejected = [_delivery(connection, S.REJECTED, 8) for _ in range(3)]
    kept = [
        _delivery(connection, S.PROCESSED, 29),
        _delivery(connection, S.REJECTED, 6),
        _delivery(connection, S.ACCEPTED, 400),
        _delivery(connection, S.ACCEPTED, 400, claimed_until=timezone.now() + timedelta(minutes=5)),
    ]
    _task("old-success", 15, success=True)
    _task("old-failure", 15, success=False)
    _task("recent-failure", 13, success=False)

    call_command("prune", stdout=io.StringIO())

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {delivery.pk for delivery in kept}
    assert not WebhookDelivery.objects.filter(pk__in=[d.pk for d in old + old_rejected]).exists()
    assert set(Task.objects.values_list("id", flat=True)) == {"recent-failure"}


@pytest.mark.django_db
def test_retention_prune_runs_daily_as_a_system_schedule():
    """Finding 23: pruning is a daily system schedule, set up with the others."""
    schedules_sync()

    schedule = Schedule.objects.get(name="aims-retention-prune")
    assert schedule.func == "monitors.tasks.records_prune_task"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 24 * 60)
