"""Webhook deliveries are processed in batches: claimed by one worker at a time, every connection's deliveries
together, a failed lookup marking only its own delivery (client stubbed at its boundary)."""

import json
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.schedules import task_path
from incidents.models import FailureAnalysis
from monitors import tasks
from monitors.clients.base import SourceError
from monitors.models import PipelineRun, WebhookDelivery
from monitors.services import drains, webhook_deliveries_claim, webhook_deliveries_drain, webhook_delivery_receive
from monitors.services.drains import _marks
from tests.monitors.fakes import FakeSourceClient, record
from tests.monitors.test_webhooks import ALERT_PAYLOAD, DBX_PAYLOAD, adf, dbx, fake_clients  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def held_tasks(monkeypatch, settings) -> list:
    """Deliveries are received without being processed: each test drains them when it says so. One drain at a
    time unless a test says otherwise."""
    settings.AIMS_TRIAGE_MAX_AGE_HOURS = 24 * 3650  # the fake's runs are from 2026-11-20
    settings.AIMS_WEBHOOK_DRAINS = 1
    queued: list = []
    monkeypatch.setattr(
        "monitors.services.drains.async_task", lambda func, *args, **kwargs: queued.append((task_path(func), *args))
    )
    return queued


def _receive(connection, payload) -> WebhookDelivery:
    source = WebhookDelivery.Source.DATABRICKS if "event_type" in payload else WebhookDelivery.Source.AZURE_MONITOR
    return webhook_delivery_receive(
        connection_id=connection.pk, source=source, body=json.dumps(payload).encode(), headers={}
    ).delivery


def _notification(run_id: str) -> dict:
    return {**DBX_PAYLOAD, "run": {"run_id": run_id}}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_drain_processes_every_connection_s_deliveries_and_triages_them(adf, dbx, fake_clients, held_tasks):  # noqa: F811
    fake_clients.runs = [record(str(100 + n), pipeline=f"job_{n % 3}", minute=5) for n in range(12)]
    fake_clients.runs.append(record("r-adf", pipeline="pl_orders", minute=5))
    deliveries = [_receive(dbx, _notification(str(100 + n))) for n in range(12)] + [_receive(adf, ALERT_PAYLOAD)]
    assert held_tasks == [("monitors.tasks.webhook_deliveries_drain_task", 0)]  # one for the burst

    assert webhook_deliveries_drain() == 13

    statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == {WebhookDelivery.Status.PROCESSED}
    assert WebhookDelivery.objects.get(pk=deliveries[0].pk).run_ids == ["100"]
    assert WebhookDelivery.objects.get(pk=deliveries[-1].pk).run_ids == ["r-adf"]
    triaged = FailureAnalysis.objects.filter(incident__isnull=False).values_list("run__external_run_id", flat=True)
    assert sorted(triaged) == sorted([str(100 + n) for n in range(12)] + ["r-adf"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_costs_fewer_statements_per_failure_than_one_at_a_time(dbx, fake_clients):  # noqa: F811
    """The batch reads its deliveries, runs and settings once: 20 failures of one job cost well under 20 times
    what one costs."""
    fake_clients.runs = [record(str(100 + n), pipeline="job", minute=5) for n in range(21)]
    _receive(dbx, _notification("100"))
    with CaptureQueriesContext(db_connection) as one:
        webhook_deliveries_drain()
    for n in range(1, 21):
        _receive(dbx, _notification(str(100 + n)))
    with CaptureQueriesContext(db_connection) as twenty:
        webhook_deliveries_drain()

    assert PipelineRun.objects.count() == 21
    print("statements", len(one), len(twenty))
    assert len(twenty) < 20 * len(one) * 0.6, (len(one), len(twenty))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_failed_lookup_fails_the_rest_of_its_connection_s_batch_and_no_other(adf, dbx, fake_clients, monkeypatch):  # noqa: F811
    fake_clients.runs = [record("100", pipeline="job"), record("102", pipeline="job")]
    fake_clients.runs.append(record("r-adf", pipeline="pl_orders", minute=5))
    original = FakeSourceClient.get_run
    tries = []

    def get_run(self, external_run_id):
        if external_run_id == "101":
            tries.append(external_run_id)
            raise SourceError("run 101: 503 Service Unavailable", retryable=True)
        return original(self, external_run_id)

    monkeypatch.setattr(FakeSourceClient, "get_run", get_run)
    first, broken, last = (_receive(dbx, _notification(run_id)) for run_id in ("100", "101", "102"))
    alert = _receive(adf, ALERT_PAYLOAD)

    with pytest.raises(SourceError, match="101"):
        webhook_deliveries_drain()

    assert len(tries) == 2  # not SOURCE_MAX_ATTEMPTS times: the next poll finds the run anyway
    for delivery in (first, broken, last, alert):
        delivery.refresh_from_db()
    assert (broken.status, broken.error) == (WebhookDelivery.Status.FAILED, "run 101: 503 Service Unavailable")
    assert last.status == WebhookDelivery.Status.FAILED
    assert last.error.startswith("not looked up: an earlier lookup of its batch failed: run 101")
    assert [d.status for d in (first, alert)] == [WebhookDelivery.Status.PROCESSED] * 2
    assert sorted(PipelineRun.objects.values_list("external_run_id", flat=True)) == ["100", "r-adf"]
    assert all(d.processed_at is not None for d in (first, broken, last, alert))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_claims_never_overlap_and_a_lapsed_claim_is_taken_again(dbx, fake_clients, settings):  # noqa: F811
    settings.AIMS_WEBHOOK_CLAIM_SECONDS = 60
    deliveries = [_receive(dbx, _notification(str(100 + n))) for n in range(5)]

    first = webhook_deliveries_claim(limit=3)
    second = webhook_deliveries_claim(limit=3)
    assert [d.pk for d in first] == [d.pk for d in deliveries[:3]]
    assert [d.pk for d in second] == [d.pk for d in deliveries[3:]]
    assert webhook_deliveries_claim(limit=3) == []

    # The worker holding the first batch died: once its claim lapses, the batch is someone else's.
    later = webhook_deliveries_claim(limit=10, now=timezone.now() + timedelta(seconds=61))
    assert [d.pk for d in later] == [d.pk for d in deliveries]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_drain_goes_batch_by_batch_until_none_is_left(dbx, fake_clients):  # noqa: F811
    fake_clients.runs = [record(str(100 + n), pipeline="job", minute=5) for n in range(7)]
    for n in range(7):
        _receive(dbx, _notification(str(100 + n)))

    assert webhook_deliveries_drain(limit=2) == 7
    assert not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.ACCEPTED).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_delivery_stored_while_a_drain_runs_is_its_next_batch(dbx, fake_clients, held_tasks, monkeypatch):  # noqa: F811
    fake_clients.runs = [record("100", pipeline="job"), record("101", pipeline="job")]
    _receive(dbx, _notification("100"))
    real = drains.webhook_deliveries_process
    arrived = []

    def process(deliveries):
        real(deliveries)
        if not arrived:
            arrived.append(_receive(dbx, _notification("101")))  # arrives while the drain works

    monkeypatch.setattr(drains, "webhook_deliveries_process", process)
    assert webhook_deliveries_drain() == 2

    assert len(held_tasks) == 1  # the running drain took it: no second drain was queued
    arrived[0].refresh_from_db()
    assert arrived[0].status == WebhookDelivery.Status.PROCESSED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_delivery_stored_after_a_drain_finished_queues_the_next(dbx, fake_clients, held_tasks):  # noqa: F811
    fake_clients.runs = [record("100", pipeline="job"), record("101", pipeline="job")]
    _receive(dbx, _notification("100"))
    _receive(dbx, _notification("101"))
    assert len(held_tasks) == 1  # the second waits for the drain the first queued

    webhook_deliveries_drain()
    _receive(dbx, _notification("100"))

    assert len(held_tasks) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cache_down_still_queues_a_drain_per_delivery(dbx, fake_clients, held_tasks, monkeypatch):  # noqa: F811
    def down(*args, **kwargs):
        raise ConnectionError("redis: connection refused")

    monkeypatch.setattr(_marks(), "add", down)
    _receive(dbx, _notification("100"))
    _receive(dbx, _notification("101"))

    assert held_tasks == [("monitors.tasks.webhook_deliveries_drain_task", 0)] * 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runs_that_cannot_be_stored_leave_their_deliveries_to_be_taken_up_again(dbx, fake_clients, monkeypatch):  # noqa: F811
    fake_clients.runs = [record("100", pipeline="job")]
    delivery = _receive(dbx, _notification("100"))

    def broken(**kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr("monitors.services.drains.runs_ingest", broken)
    with pytest.raises(DatabaseError):
        webhook_deliveries_drain()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.processed_at) == (WebhookDelivery.Status.ACCEPTED, None)
    assert delivery.claimed_until is not None  # taken up again once the claim ends (the minute tick)


@pytest.mark.django_db
def test_minute_tick_queues_a_drain_only_when_none_is_running(held_tasks):
    tasks.webhooks_tick_task()  # none running (a drain lost with its task, say): one is queued
    tasks.webhooks_tick_task()  # that one is now queued: no second

    assert held_tasks == [("monitors.tasks.webhook_deliveries_drain_task", 0)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_drain_slot_takes_what_arrives_while_the_first_works(dbx, fake_clients, held_tasks, settings):  # noqa: F811
    settings.AIMS_WEBHOOK_DRAINS = 2
    for n in range(4):
        _receive(dbx, _notification(str(100 + n)))

    assert held_tasks == [
        ("monitors.tasks.webhook_deliveries_drain_task", 0),
        ("monitors.tasks.webhook_deliveries_drain_task", 1),
    ]  # both slots taken: the third and fourth deliveries queue nothing
