"""Webhook flows against a live AIMS server and the simulator: concurrent duplicates, and pushed notifications."""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from monitors.models import PipelineRun, WebhookDelivery
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

SECRET = "flow-webhook-secret-0123456789"
DBX_JOBS = ["orders_daily", "customer_360", "clickstream_sessions", "ml_training"]


@pytest.fixture
def quiet_sim():
    with run_simulator("quiet") as sim:
        yield sim


@pytest.fixture
def connected(quiet_sim, flow_settings, transactional_db):
    connections = connect_to(quiet_sim)
    for connection in connections.values():
        connection.set_webhook_secret(SECRET)
        connection.save()
    return connections


def _post(url: str, payload: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-AIMS-Token": SECRET},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_webhook_flow_200_concurrent_duplicates_for_20_runs(quiet_sim, connected, live_server):
    failures = [
        quiet_sim.fail("databricks", DBX_JOBS[i % len(DBX_JOBS)], notify=False, variant="standard") for i in range(20)
    ]
    payloads = [
        {"event_type": "jobs.on_failure", "workspace_id": "1234567890123456", "run": {"run_id": failure["run_id"]}}
        for failure in failures
    ] * 10
    url = f"{live_server.url}/hooks/databricks/sim-databricks-1/"

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda payload: _post(url, payload), payloads))

    assert statuses.count(202) == 200 and not [s for s in statuses if s >= 500]
    assert WebhookDelivery.objects.count() == 200
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PROCESSED).count() == 200
    runs = PipelineRun.objects.filter(connection__name="sim-databricks-1")
    assert sorted(runs.values_list("external_run_id", flat=True)) == sorted(str(f["run_id"]) for f in failures)
    truth = {str(run["run_id"]): run["specific_error"] for run in quiet_sim.truth("databricks")}
    assert {run.external_run_id: run.error_message for run in runs} == truth


def _wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_webhook_flow_simulator_pushes_reach_aims_and_find_the_runs(quiet_sim, connected, live_server):
    quiet_sim.set_notify(
        databricks_url=f"{live_server.url}/hooks/databricks/sim-databricks-1/",
        azure_monitor_url=f"{live_server.url}/hooks/azure-monitor/{{factory}}/",
        secret=SECRET,
    )

    adf = quiet_sim.fail("adf", "pl_daily_orders", notify=True)
    analytics = quiet_sim.fail("adf", "pl_ml_features", notify=True)
    dbx = quiet_sim.fail("databricks", "orders_daily", notify=True)
    _wait_for(lambda: WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.ACCEPTED).count() == 3)

    deliveries = {d.connection.name: d for d in WebhookDelivery.objects.select_related("connection")}
    assert {name: d.status for name, d in deliveries.items()} == {
        "adf-sim": "processed",
        "adf-sim-analytics": "processed",
        "sim-databricks-1": "processed",
    }
    assert deliveries["adf-sim"].run_ids == [adf["run_id"]]
    assert deliveries["adf-sim-analytics"].run_ids == [analytics["run_id"]]
    assert deliveries["sim-databricks-1"].run_ids == [str(dbx["run_id"])]
    truth = {str(r["run_id"]): r["specific_error"] for r in quiet_sim.truth("adf") + quiet_sim.truth("databricks")}
    stored = dict(PipelineRun.objects.values_list("external_run_id", "error_message"))
    assert stored == truth
