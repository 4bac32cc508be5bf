"""Databricks through the real databricks-sdk: runs/get pages followed, AIMS's own back-off on 429 + Retry-After,
and the reference samples (runs/list, runs/get, get-output, notifications, error bodies) read and stored."""

import base64
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial

import pytest

from monitors.clients import client_for
from monitors.clients.base import SourceError, call_twice, call_with_backoff, retry_after_seconds
from monitors.models import Connection, Monitor, PipelineRun, WebhookDelivery
from monitors.services import monitor_poll
from simulator.testing import run_simulator
from tests.monitors import dbx_samples as samples
from tests.monitors.conftest import connect_to
from tests.monitors.factories import make_webhook_connection

SECRET = "dbx-webhook-secret-0123456789"


def _basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"databricks:{secret}".encode()).decode()


@pytest.fixture
def wide_sim():
    with run_simulator("wide") as sim:
        yield sim


@pytest.fixture
def samples_workspace(db):
    with samples.sample_workspace() as workspace:
        connection = make_webhook_connection(
            name="dbx-samples", kind=Connection.Kind.DATABRICKS, secret=SECRET, host=workspace.url
        )
        connection.set_secret("dapi-samples")
        connection.save()
        workspace.connection = connection
        yield workspace


# ------------------------------------------------------------------------------------------ paging


@pytest.mark.django_db
def test_poll_failed_task_past_the_first_page_stores_its_specific_error(
    wide_sim, flow_settings, django_capture_on_commit_callbacks
):
    injected = wide_sim.fail("databricks", "warehouse_fanout", step=117, variant="standard", notify=False)
    monitor = Monitor.objects.get(connection=connect_to(wide_sim)["sim-databricks-1"])

    with django_capture_on_commit_callbacks(execute=True):
        monitor_poll(monitor_id=monitor.pk)

    truth = {str(run["run_id"]): run for run in wide_sim.truth("databricks") if run["status"] == "FAILED"}
    stored = {run.external_run_id: run for run in PipelineRun.objects.filter(status=PipelineRun.Status.FAILED)}
    assert set(stored) == set(truth)
    assert {key: (run.failed_step, run.error_message) for key, run in stored.items()} == {
        key: (run["failed_step"], run["specific_error"]) for key, run in truth.items()
    }
    run = stored[str(injected["run_id"])]
    assert run.failed_step == "load_table_117"
    assert "see run output" not in run.error_message and "See the task run" not in run.error_message
    steps = [run["failed_step"] for run in truth.values()]
    past_first_page = [step for step in steps if step.startswith("load_table_") and int(step[-3:]) >= 100]
    assert len(past_first_page) > 1  # the injected failure and at least one of the scenario's own


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_webhook_token_in_url_notification_of_a_wide_run_stores_its_error(wide_sim, flow_settings, live_server):
    connection = connect_to(wide_sim)["sim-databricks-1"]
    connection.set_webhook_secret(SECRET)
    connection.save()
    wide_sim.set_notify(
        databricks_url=f"{live_server.url}/hooks/databricks/{connection.name}/", secret=SECRET, databricks_auth="token"
    )

    injected = wide_sim.fail("databricks", "warehouse_fanout", step=104, variant="trace_only", notify=True)
    deadline = time.monotonic() + 15
    while WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.ACCEPTED).count() < 1:
        assert time.monotonic() < deadline, "the notification was not processed in time"
        time.sleep(0.1)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, [str(injected["run_id"])])
    run = PipelineRun.objects.get(external_run_id=str(injected["run_id"]))
    truth = next(r for r in wide_sim.truth("databricks") if r["run_id"] == injected["run_id"])
    assert (run.failed_step, run.error_message) == ("load_table_104", truth["specific_error"])


# ------------------------------------------------------------------------------------------ back-off


@pytest.mark.django_db
def test_throttled_call_succeeds_after_the_retry_after_pauses_within_budget(wide_sim, flow_settings):
    flow_settings.AIMS_SOURCE_RETRY_BUDGET_SECONDS = 5
    injected = wide_sim.fail("databricks", "orders_daily", notify=False)
    client = client_for(connect_to(wide_sim)["sim-databricks-1"])
    wide_sim.set_faults(rate=1.0, kinds=["429"], sources=["databricks"], retry_after=1, count=2)

    started = time.monotonic()
    record = call_with_backoff(partial(client.get_run, str(injected["run_id"])), attempts=4, max_delay=0.05)
    elapsed = time.monotonic() - started

    assert record.external_run_id == str(injected["run_id"]) and record.status == PipelineRun.Status.FAILED
    assert 2.0 <= elapsed < 4.5  # two pauses of the Retry-After's second each, none cut short
    assert wide_sim.stats()["faults"]["429"] == 2


@pytest.mark.django_db
def test_throttled_beyond_the_budget_fails_fast_saying_when_to_retry(wide_sim, flow_settings):
    flow_settings.AIMS_SOURCE_RETRY_BUDGET_SECONDS = 5
    injected = wide_sim.fail("databricks", "orders_daily", notify=False)
    client = client_for(connect_to(wide_sim)["sim-databricks-1"])
    wide_sim.set_faults(rate=1.0, kinds=["429"], sources=["databricks"], retry_after=120)
    calls_before = wide_sim.stats()["calls"].get("dbx.runs.get", 0)

    started = time.monotonic()
    with pytest.raises(SourceError, match=r"throttled, retry after 120 s") as caught:
        call_twice(partial(client.get_run, str(injected["run_id"])))
    elapsed = time.monotonic() - started

    assert elapsed < 3  # the SDK alone sleeps the 120 s (or its retry timeout) before AIMS hears of it
    assert (caught.value.status, caught.value.retry_after, caught.value.retryable) == (429, 120, True)
    assert wide_sim.stats()["calls"]["dbx.runs.get"] - calls_before == 1  # neither the SDK nor AIMS called again


@pytest.mark.django_db
def test_poll_throttled_beyond_the_budget_records_it_and_moves_on(
    wide_sim, flow_settings, django_capture_on_commit_callbacks
):
    monitor = Monitor.objects.get(connection=connect_to(wide_sim)["sim-databricks-1"])
    wide_sim.set_faults(rate=1.0, kinds=["429"], sources=["databricks"], retry_after=90)

    started = time.monotonic()
    with pytest.raises(SourceError), django_capture_on_commit_callbacks(execute=True):
        monitor_poll(monitor_id=monitor.pk)

    monitor.refresh_from_db()
    assert time.monotonic() - started < 3
    assert "throttled, retry after 90 s" in monitor.last_error and monitor.watermark is None


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)

    assert retry_after_seconds("17", now=now) == 17
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42
    assert retry_after_seconds("Fri, 14 Mar 2025 11:59:00 GMT", now=now) == 0  # already past: at once
    assert retry_after_seconds("soon", now=now) is None and retry_after_seconds(None) is None


def test_backoff_never_retries_sooner_than_retry_after_and_stays_in_budget():
    sleeps, ticks = [], iter([0.0, 0.0, 3.0, 3.0])

    def throttled():
        raise SourceError("429", retryable=True, retry_after=3, status=429)

    with pytest.raises(SourceError, match=r"throttled, retry after 3 s"):
        call_with_backoff(
            throttled, attempts=5, max_delay=0.5, budget=4, sleep=sleeps.append, clock=lambda: next(ticks)
        )
    assert sleeps == [3]  # the Retry-After, not the 0.5 s cap; the next 3 s would overrun the 4 s budget


# -------------------------------------------------------------------- reference samples (pipeline-apis.md)


@pytest.mark.django_db
def test_poll_reference_samples_store_the_failed_task_and_its_error(
    samples_workspace, flow_settings, django_capture_on_commit_callbacks
):
    samples_workspace.answer("runs/list", (200, {}, samples.RUNS_LIST), (200, {}, samples.RUNS_LIST_LAST))
    samples_workspace.answer("runs/get", (200, {}, samples.RUNS_GET))
    samples_workspace.answer("runs/get-output", (200, {}, samples.GET_OUTPUT))
    monitor = Monitor.objects.create(connection=samples_workspace.connection, name="all")

    with django_capture_on_commit_callbacks(execute=True):
        result = monitor_poll(monitor_id=monitor.pk)

    run = PipelineRun.objects.get()
    assert (result.pages, run.external_run_id, run.status) == (2, str(samples.JOB_RUN_ID), PipelineRun.Status.FAILED)
    assert run.pipeline.name == "orders_daily"
    assert (run.failed_step, run.error_code, run.error_message) == (
        "transform_orders",
        "RUN_EXECUTION_ERROR",
        samples.ERROR,
    )
    assert run.error_trace.startswith("----") and 'spark.table("raw.orders")' in run.error_trace
    assert samples_workspace.calls("runs/list")[1]["page_token"] == samples.RUNS_LIST["next_page_token"]
    assert samples_workspace.calls("runs/get-output") == [{"run_id": str(samples.TASK_RUN_ID)}]


@pytest.mark.django_db
def test_failure_detail_follows_runs_get_pages_when_runs_list_says_has_more(samples_workspace, flow_settings):
    first_page = {**samples.RUNS_GET, "tasks": samples.RUNS_GET["tasks"][:1], "has_more": True, "next_page_token": "p2"}
    # The later page repeats the run with the next slice of each array; those with nothing more come back empty.
    second_page = {**samples.RUNS_GET, "tasks": samples.RUNS_GET["tasks"][1:], "job_parameters": [], "has_more": False}
    samples_workspace.answer("runs/get", (200, {}, lambda q: second_page if q.get("page_token") else first_page))
    samples_workspace.answer("runs/get-output", (200, {}, samples.GET_OUTPUT))
    listed = {**first_page}
    listed.pop("next_page_token")  # runs/list marks a truncated run has_more but hands out no token for it

    detail = client_for(samples_workspace.connection).failure_detail(listed, str(samples.JOB_RUN_ID))

    assert (detail.failed_step, detail.error_message) == ("transform_orders", samples.ERROR)
    assert [q.get("page_token") for q in samples_workspace.calls("runs/get")] == [None, "p2"]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [samples.NOTIFY_JOB, samples.NOTIFY_TASK], ids=["job-level", "task-level"])
def test_webhook_reference_notifications_store_the_run_and_its_error(
    client, samples_workspace, flow_settings, django_capture_on_commit_callbacks, payload
):
    samples_workspace.answer("runs/get", (200, {}, samples.RUNS_GET))
    samples_workspace.answer("runs/get-output", (200, {}, samples.GET_OUTPUT))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/hooks/databricks/dbx-samples/",
            payload,
            content_type="application/json",
            HTTP_AUTHORIZATION=_basic(SECRET),
        )

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, [str(samples.JOB_RUN_ID)])
    run = PipelineRun.objects.get()
    assert (run.failed_step, run.error_message) == ("transform_orders", samples.ERROR)
    assert samples_workspace.calls("runs/get")[0]["run_id"] == str(samples.JOB_RUN_ID)


@pytest.mark.django_db
def test_webhook_notification_for_an_unknown_run_fails_that_delivery(
    client, samples_workspace, flow_settings, django_capture_on_commit_callbacks
):
    samples_workspace.answer("runs/get", (400, {}, samples.UNKNOWN_RUN))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/hooks/databricks/dbx-samples/",
            samples.NOTIFY_JOB,
            content_type="application/json",
            HTTP_AUTHORIZATION=_basic(SECRET),
        )

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.error.startswith("run not found or refused by the platform") and "does not exist" in delivery.error
    assert len(samples_workspace.calls("runs/get")) == 1  # a definite answer is not asked again
    assert not PipelineRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("retry_after", ["2", "http-date"])
def test_client_reference_throttling_body_keeps_status_and_retry_after(samples_workspace, flow_settings, retry_after):
    header = retry_after
    if retry_after == "http-date":
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    samples_workspace.answer("runs/get", (429, {"Retry-After": header}, samples.THROTTLED))

    with pytest.raises(SourceError) as caught:
        client_for(samples_workspace.connection).get_run(str(samples.JOB_RUN_ID))

    error = caught.value
    assert (error.status, error.retryable) == (429, True)
    assert error.retry_after == 2 if retry_after == "2" else 25 <= error.retry_after <= 30
    assert "REQUEST_LIMIT_EXCEEDED" in str(error)
    assert len(samples_workspace.calls("runs/get")) == 1  # the SDK did not retry on its own
