"""Run ingest, polling, failure detail and schedules, with the platform client stubbed at its boundary."""

from datetime import UTC, datetime

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule

from aimsweb.schedules import schedules_sync
from monitors.clients.base import SourceError
from monitors.models import Monitor, Pipeline, PipelineRun
from monitors.services import monitor_poll, runs_ingest
from tests.monitors.factories import make_connection
from tests.monitors.fakes import FakeSourceClient, record


@pytest.fixture
def fake_clients(settings):
    settings.MONITOR_CLIENTS = dict.fromkeys(("adf", "databricks"), "tests.monitors.fakes.FakeSourceClient")
    settings.SOURCE_MAX_ATTEMPTS = 2
    settings.SOURCE_BACKOFF_MAX_SECONDS = 0.01
    FakeSourceClient.runs = []
    FakeSourceClient.calls = []
    FakeSourceClient.page_size = 2
    return FakeSourceClient


@pytest.mark.django_db
def test_ingest_new_runs_created_with_pipelines_once(django_capture_on_commit_callbacks, fake_clients):
    connection = make_connection()
    records = [record("a", minute=1), record("b", pipeline="pl_other", minute=2), record("a", minute=1)]

    with django_capture_on_commit_callbacks(execute=True):
        first = runs_ingest(connection=connection, records=records)
    with django_capture_on_commit_callbacks(execute=True):
        second = runs_ingest(connection=connection, records=records)

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert sorted(first.failures_queued) == ["a", "b"] and second.failures_queued == []
    assert PipelineRun.objects.count() == 2 and Pipeline.objects.count() == 2
    run = PipelineRun.objects.get(external_run_id="a")
    assert run.error_message == "specific error of a"
    assert run.analysis.summary  # the analysis was queued once the detail was stored


@pytest.mark.django_db
def test_ingest_status_change_updates_row_and_queues_detail_when_failed(
    django_capture_on_commit_callbacks, fake_clients
):
    connection = make_connection()
    runs_ingest(connection=connection, records=[record("a", status=PipelineRun.Status.RUNNING)])

    with django_capture_on_commit_callbacks(execute=True):
        result = runs_ingest(connection=connection, records=[record("a", minute=5)])

    run = PipelineRun.objects.get()
    assert (result.created, result.updated) == (0, 1)
    assert run.status == PipelineRun.Status.FAILED and run.detail_fetched_at is not None
    assert ("detail", "a") in fake_clients.calls


@pytest.mark.django_db
def test_ingest_queries_do_not_grow_with_batch_size(fake_clients):
    connection = make_connection()

    def queries_for(count: int, offset: int) -> int:
        batch = [record(f"r{offset + i}", pipeline=f"pl_{i % 3}", minute=i % 60) for i in range(count)]
        with CaptureQueriesContext(db_connection) as queries:
            runs_ingest(connection=connection, records=batch)
        return len(queries)

    # 50 rows (19 columns each) stay under SQLite's 999 bind parameters, past which Django splits a bulk insert.
    assert queries_for(5, 0) == queries_for(50, 1000)


@pytest.mark.django_db
def test_poll_reads_all_pages_and_advances_watermark(fake_clients, django_capture_on_commit_callbacks):
    connection = make_connection()
    monitor = Monitor.objects.create(connection=connection, name="all")
    fake_clients.runs = [record(f"r{i}", minute=i, status=PipelineRun.Status.SUCCEEDED) for i in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        result = monitor_poll(monitor_id=monitor.pk)
        again = monitor_poll(monitor_id=monitor.pk)

    monitor.refresh_from_db()
    assert (result.pages, result.runs_seen, result.created) == (3, 5, 5)
    assert again.created == 0 and again.updated == 0
    assert monitor.watermark == datetime(2026, 11, 20, 2, 4, tzinfo=UTC)
    assert monitor.last_error == "" and monitor.poll_lease_until is None


@pytest.mark.django_db
def test_poll_failed_page_keeps_committed_pages_and_watermark(fake_clients, monkeypatch):
    connection = make_connection()
    monitor = Monitor.objects.create(connection=connection, name="all")
    fake_clients.runs = [record(f"r{i}", minute=i, status=PipelineRun.Status.SUCCEEDED) for i in range(5)]
    original = FakeSourceClient.list_runs_page

    def third_page_down(self, *, since, until, page_token):
        if page_token == "4":
            raise SourceError("503 from platform", retryable=True)
        return original(self, since=since, until=until, page_token=page_token)

    monkeypatch.setattr(FakeSourceClient, "list_runs_page", third_page_down)

    with pytest.raises(SourceError):
        monitor_poll(monitor_id=monitor.pk)

    monitor.refresh_from_db()
    assert PipelineRun.objects.count() == 4  # the two good pages are kept
    assert monitor.watermark is None  # but the watermark did not move past the missing run
    assert "503 from platform" in monitor.last_error
    assert monitor.poll_lease_until is None


@pytest.mark.django_db
def test_poll_pattern_limits_runs_but_not_watermark(fake_clients):
    monitor = Monitor.objects.create(connection=make_connection(), name="sales", pipeline_pattern="sales_*")
    fake_clients.runs = [
        record("s", pipeline="sales_daily", minute=1, status=PipelineRun.Status.SUCCEEDED),
        record("o", pipeline="orders", minute=9, status=PipelineRun.Status.SUCCEEDED),
    ]

    monitor_poll(monitor_id=monitor.pk)

    monitor.refresh_from_db()
    assert list(PipelineRun.objects.values_list("external_run_id", flat=True)) == ["s"]
    assert monitor.watermark.minute == 9


@pytest.mark.django_db
def test_poll_leased_monitor_skipped(fake_clients):
    monitor = Monitor.objects.create(connection=make_connection(), name="all")
    Monitor.objects.filter(pk=monitor.pk).update(poll_lease_until=datetime(2999, 1, 1, tzinfo=UTC))

    assert monitor_poll(monitor_id=monitor.pk).skipped is True
    assert fake_clients.calls == []


@pytest.mark.django_db
def test_schedules_one_per_enabled_monitor_idempotent(django_capture_on_commit_callbacks):
    connection = make_connection()
    with django_capture_on_commit_callbacks(execute=True):
        fast = Monitor.objects.create(connection=connection, name="fast", interval_seconds=60)
        slow = Monitor.objects.create(connection=connection, name="slow", interval_seconds=150)
        off = Monitor.objects.create(connection=connection, name="off", enabled=False)

    schedules_sync()
    schedules_sync()

    schedules = {s.name: s for s in Schedule.objects.all()}
    ticks = {
        "aims-remediation-tick",
        "aims-notifications-tick",
        "aims-silences-tick",
        "aims-webhooks-tick",
        "aims-contracts-tick",
        "aims-insights-missed-runs",
        "aims-outbound-webhooks-deliver",
        "aims-tickets-jobs",
    }
    insights = {
        "aims-insights-platform-schedules": ("insights.tasks.platform_schedules_refresh_task", 15),
        "aims-insights-pipeline-days": ("insights.tasks.pipeline_days_record_task", 15),
        "aims-insights-cadences": ("insights.tasks.cadences_learn_task", 60),
        "aims-insights-points-prune": ("insights.tasks.points_prune_task", 24 * 60),
        "aims-tickets-reconcile": ("tickets.tasks.ticket_routes_reconcile_task", 5),
        "aims-api-idempotency-prune": ("api.tasks.idempotency_prune_task", 60),
    }
    assert set(schedules) == {
        f"monitor-poll-{fast.pk}",
        f"monitor-poll-{slow.pk}",
        *ticks,
        *insights,
        "aims-retention-prune",
        "aims-outbound-webhooks-prune",
    }
    assert {name: (schedules[name].func, schedules[name].minutes) for name in insights} == insights
    prune = schedules["aims-outbound-webhooks-prune"]
    assert (prune.func, prune.minutes) == ("webhooks.tasks.messages_prune_task", 24 * 60)
    assert schedules["aims-retention-prune"].func == "monitors.tasks.records_prune_task"
    assert schedules["aims-retention-prune"].minutes == 24 * 60
    assert {schedules[name].func for name in ticks} == {
        "remediation.tasks.remediation_tick_task",
        "incidents.tasks.notifications_tick_task",
        "incidents.tasks.silences_end_task",
        "monitors.tasks.webhooks_tick_task",
        "contracts.tasks.contracts_due_check_task",
        "insights.tasks.missed_runs_check_task",
        "webhooks.tasks.messages_deliver_task",
        "tickets.tasks.ticket_jobs_run_task",
    }
    assert all(schedules[name].minutes == 1 for name in ticks)
    assert schedules[f"monitor-poll-{slow.pk}"].minutes == 3
    assert schedules[f"monitor-poll-{fast.pk}"].func == "monitors.tasks.monitor_poll_task"

    with django_capture_on_commit_callbacks(execute=True):
        fast.delete()
        off.enabled = True
        off.save()

    assert set(Schedule.objects.values_list("name", flat=True)) == {
        f"monitor-poll-{slow.pk}",
        f"monitor-poll-{off.pk}",
        *ticks,
        *insights,
        "aims-retention-prune",
        "aims-outbound-webhooks-prune",
    }
