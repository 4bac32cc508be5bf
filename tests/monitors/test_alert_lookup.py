"""Azure Monitor alert lookups: filtered by the service, no further back than earlier lookups have read, and one
lookup for a burst of alerts (client stubbed at its boundary; the simulator flow is in test_webhook_flow)."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from aimsweb.schedules import task_path
from incidents.models import FailureAnalysis
from monitors.alerts import AlertCoverage, alert_coverage_merge, alert_lookup_start
from monitors.models import Pipeline, PipelineRun, WebhookDelivery
from monitors.services import webhook_deliveries_drain, webhook_deliveries_process, webhook_delivery_receive
from tests.monitors.fakes import record
from tests.monitors.test_webhooks import ALERT_PAYLOAD, adf, fake_clients  # noqa: F401  (fixtures)

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
# ALERT_PAYLOAD's window (02:00 to its firing at 02:14:37.551239) with two minutes' slack each side
SINCE, UNTIL = T - timedelta(minutes=2), datetime(2026, 11, 20, 2, 16, 37, 551239, tzinfo=UTC)


def _process(delivery_id: int) -> None:
    """Process one delivery now, as a drain does its batch."""
    webhook_deliveries_process([WebhookDelivery.objects.select_related("connection").get(pk=delivery_id)])


def _minutes(n: float) -> datetime:
    return T + timedelta(minutes=n)


def _coverage(*, at, start=SINCE, end=UNTIL, seen=None) -> AlertCoverage:
    return AlertCoverage(at=at, start=start, end=end, seen=seen)


# --- Where a lookup starts ---------------------------------------------------------------------------------------


def test_first_lookup_reads_the_whole_window():
    assert alert_lookup_start(None, since=SINCE, until=UNTIL, received=_minutes(14)) == SINCE


def test_lookup_begun_after_the_alert_arrived_covers_it():
    covered = _coverage(at=_minutes(15), seen=_minutes(10))
    assert alert_lookup_start(covered, since=SINCE, until=UNTIL, received=_minutes(14)) is None


def test_lookup_begun_before_the_alert_arrived_reads_from_newest_seen_less_overlap(settings):
    settings.AIMS_ALERT_LOOKUP_OVERLAP_SECONDS = 30
    earlier = _coverage(at=_minutes(13), seen=_minutes(10))
    assert alert_lookup_start(earlier, since=SINCE, until=UNTIL, received=_minutes(14)) == _minutes(9.5)


def test_coverage_that_starts_inside_the_window_is_not_trusted():
    later_start = _coverage(at=_minutes(15), start=_minutes(5), seen=_minutes(10))
    assert alert_lookup_start(later_start, since=SINCE, until=UNTIL, received=_minutes(14)) == SINCE


def test_coverage_that_found_nothing_gives_no_shortcut():
    empty = _coverage(at=_minutes(13), seen=None)
    assert alert_lookup_start(empty, since=SINCE, until=UNTIL, received=_minutes(14)) == SINCE


def test_window_entirely_older_than_what_was_seen_needs_no_lookup(settings):
    settings.AIMS_ALERT_LOOKUP_OVERLAP_SECONDS = 30
    seen_far_later = _coverage(at=_minutes(40), start=SINCE, end=_minutes(60), seen=_minutes(50))
    assert alert_lookup_start(seen_far_later, since=SINCE, until=UNTIL, received=_minutes(45)) is None


# --- How coverage grows --------------------------------------------------------------------------------------------


def test_touching_lookups_join():
    old = _coverage(at=_minutes(13), seen=_minutes(10))
    merged = alert_coverage_merge(old, at=_minutes(20), start=_minutes(9.5), end=_minutes(25), seen=_minutes(19))
    assert merged == AlertCoverage(at=_minutes(20), start=SINCE, end=_minutes(25), seen=_minutes(19))


def test_joined_lookup_that_found_nothing_keeps_the_newest_seen():
    old = _coverage(at=_minutes(13), seen=_minutes(10))
    merged = alert_coverage_merge(old, at=_minutes(20), start=_minutes(9.5), end=_minutes(25), seen=None)
    assert merged.seen == _minutes(10) and merged.start == SINCE


def test_lookup_after_a_gap_replaces_the_old_coverage():
    old = _coverage(at=_minutes(13), seen=_minutes(10))
    merged = alert_coverage_merge(old, at=_minutes(60), start=_minutes(50), end=_minutes(70), seen=_minutes(58))
    assert merged == AlertCoverage(at=_minutes(60), start=_minutes(50), end=_minutes(70), seen=_minutes(58))


def test_coverage_survives_its_json_and_bad_json_is_none():
    coverage = _coverage(at=_minutes(13), seen=_minutes(10))
    assert AlertCoverage.of(json.loads(json.dumps(coverage.as_json()))) == coverage
    assert AlertCoverage.of({}) is None
    assert AlertCoverage.of({"at": "yesterday", "start": "x", "end": "y"}) is None


# --- The service ---------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def held_tasks(monkeypatch) -> list:
    """Deliveries are received without being processed: each test processes them when it says so."""
    queued: list = []
    monkeypatch.setattr(
        "monitors.services.drains.async_task", lambda func, *args, **kwargs: queued.append((task_path(func), *args))
    )
    return queued


def _receive(connection, payload=ALERT_PAYLOAD) -> WebhookDelivery:
    body = json.dumps(payload).encode()
    return webhook_delivery_receive(
        connection_id=connection.pk, source=WebhookDelivery.Source.AZURE_MONITOR, body=body, headers={}
    ).delivery


def _lookups(fake) -> list[tuple]:
    return [args for kind, args in fake.calls if kind == "failed"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_alert_lookup_filters_at_the_service_and_triages_in_the_same_task(adf, fake_clients, held_tasks, settings):  # noqa: F811
    settings.AIMS_TRIAGE_MAX_AGE_HOURS = 24 * 3650  # the fake's runs are from 2026-11-20
    fake_clients.runs = [
        record("r-failed", pipeline="pl_orders", minute=5),
        record("r-ok", pipeline="pl_orders", status=PipelineRun.Status.SUCCEEDED, minute=5),
        record("r-other", pipeline="pl_other", minute=5),
    ]
    delivery = _receive(adf)
    fake_clients.calls.clear()

    _process(delivery.pk)

    assert _lookups(fake_clients) == [(SINCE, UNTIL, ("pl_orders",), None)]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, ["r-failed"])
    run = PipelineRun.objects.get(external_run_id="r-failed")
    assert run.error_message == "specific error of r-failed"
    assert FailureAnalysis.objects.get(run=run).incident is not None  # triaged here: no task queued in between
    assert held_tasks == [("monitors.tasks.webhook_deliveries_drain_task", 0)]
    coverage = AlertCoverage.of(Pipeline.objects.get(connection=adf, external_id="pl_orders").alert_lookup)
    assert (coverage.start, coverage.end, coverage.seen) == (SINCE, UNTIL, _minutes(5))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_burst_of_alerts_costs_one_lookup(adf, fake_clients):  # noqa: F811
    fake_clients.runs = [record("r-1", minute=5)]
    first = _receive(adf)
    fake_clients.runs.append(record("r-2", minute=6))
    second = _receive(adf)  # arrives before the first is processed
    fake_clients.calls.clear()

    _process(first.pk)
    _process(second.pk)

    assert len(_lookups(fake_clients)) == 1
    assert set(PipelineRun.objects.values_list("external_run_id", flat=True)) == {"r-1", "r-2"}
    second.refresh_from_db()
    assert second.status == WebhookDelivery.Status.IGNORED
    assert "covered its window" in second.error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_later_alert_reads_only_past_the_newest_failure_seen(adf, fake_clients, settings):  # noqa: F811
    settings.AIMS_ALERT_LOOKUP_OVERLAP_SECONDS = 30
    fake_clients.runs = [record("r-1", minute=5)]
    _process(_receive(adf).pk)
    fake_clients.runs.append(record("r-2", minute=8))
    later = copy.deepcopy(ALERT_PAYLOAD)
    later["data"]["essentials"]["firedDateTime"] = "2026-11-20T02:14:50Z"
    delivery = _receive(adf, later)  # received after the first lookup began
    fake_clients.calls.clear()

    _process(delivery.pk)

    assert _lookups(fake_clients) == [(_minutes(4.5), _minutes(16 + 50 / 60), ("pl_orders",), None)]
    delivery.refresh_from_db()
    assert delivery.run_ids == ["r-2"]
    coverage = AlertCoverage.of(Pipeline.objects.get(connection=adf, external_id="pl_orders").alert_lookup)
    assert (coverage.start, coverage.seen) == (SINCE, _minutes(8))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_alert_naming_no_pipeline_reads_every_failed_run_of_the_window(adf, fake_clients):  # noqa: F811
    unnamed = copy.deepcopy(ALERT_PAYLOAD)
    unnamed["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = []
    fake_clients.runs = [record("r-1", minute=5), record("r-2", pipeline="pl_other", minute=6)]
    delivery = _receive(adf, unnamed)
    fake_clients.calls.clear()

    _process(delivery.pk)

    assert _lookups(fake_clients) == [(SINCE, UNTIL, (), None)]
    assert set(PipelineRun.objects.values_list("external_run_id", flat=True)) == {"r-1", "r-2"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_of_alerts_about_several_pipelines_costs_one_lookup(adf, fake_clients, settings):  # noqa: F811
    settings.AIMS_TRIAGE_MAX_AGE_HOURS = 24 * 3650  # the fake's runs are from 2026-11-20
    fake_clients.runs = [
        record("r-orders", pipeline="pl_orders", minute=5),
        record("r-billing", pipeline="pl_billing", minute=6),
        record("r-other", pipeline="pl_other", minute=7),  # failed, but no alert names it
    ]
    billing = copy.deepcopy(ALERT_PAYLOAD)
    billing["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [{"name": "Name", "value": "pl_billing"}]
    orders_alert, billing_alert = _receive(adf), _receive(adf, billing)
    fake_clients.calls.clear()

    assert webhook_deliveries_drain() == 2

    assert _lookups(fake_clients) == [(SINCE, UNTIL, ("pl_billing", "pl_orders"), None)]
    orders_alert.refresh_from_db()
    billing_alert.refresh_from_db()
    assert (orders_alert.status, orders_alert.run_ids) == (WebhookDelivery.Status.PROCESSED, ["r-orders"])
    assert (billing_alert.status, billing_alert.run_ids) == (WebhookDelivery.Status.PROCESSED, ["r-billing"])
    assert set(PipelineRun.objects.values_list("external_run_id", flat=True)) == {"r-orders", "r-billing"}
    for name in ("pl_orders", "pl_billing"):
        coverage = AlertCoverage.of(Pipeline.objects.get(connection=adf, external_id=name).alert_lookup)
        assert (coverage.start, coverage.end) == (SINCE, UNTIL)
