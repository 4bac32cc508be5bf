"""Failure notifications pushed to local webhook receivers."""

from __future__ import annotations

import base64
import json
import time
import urllib.request

from simulator.timefmt import parse_iso
from tests.simulator.conftest import CLOCK_START, SUB


def test_sim_fail_pushes_databricks_webhook_with_basic_auth(sim, receiver):
    sim.set_notify(databricks_url=receiver.url + "/hooks/databricks", secret="s3cret")
    result = sim.fail("databricks", "orders_daily")
    assert result["notified"] is True
    (got,) = receiver.wait_for(1)
    assert got["path"] == "/hooks/databricks"
    # A Databricks webhook destination holds a URL, a username and a password: Basic auth, no header of AIMS's own.
    assert got["headers"]["Authorization"] == "Basic " + base64.b64encode(b"databricks:s3cret").decode()
    assert not [name for name in got["headers"] if name.lower().startswith("x-aims")]
    job_id = next(r["job_id"] for r in sim.truth("databricks") if r["run_id"] == result["run_id"])
    assert got["json"] == {
        "event_type": "jobs.on_failure",
        "workspace_id": "1234567890123456",
        "run": {"run_id": str(result["run_id"])},
        "job": {"job_id": str(job_id), "name": "orders_daily"},
    }


def test_sim_fail_pushes_azure_monitor_common_alert(sim, receiver):
    sim.set_notify(azure_monitor_url=receiver.url + "/hooks/azure", secret="s3cret")
    result = sim.fail("adf", "pl_daily_orders", corpus_id="adf-0071")
    (got,) = receiver.wait_for(1)
    assert got["headers"]["X-AIMS-Token"] == "s3cret"
    body = got["json"]
    assert body["schemaId"] == "azureMonitorCommonAlertSchema"
    essentials = body["data"]["essentials"]
    assert essentials["monitorCondition"] == "Fired" and essentials["signalType"] == "Metric"
    factory_id = f"/subscriptions/{SUB}/resourcegroups/rg-sim/providers/microsoft.datafactory/factories/adf-sim"
    assert essentials["alertTargetIDs"] == [factory_id]
    assert essentials["configurationItems"] == ["adf-sim"]
    condition = body["data"]["alertContext"]["condition"]
    criterion = condition["allOf"][0]
    assert criterion["metricName"] == "PipelineFailedRuns"
    assert {d["name"]: d["value"] for d in criterion["dimensions"]} == {
        "Name": "pl_daily_orders",
        "FailureType": "UserError",
    }
    failed_at = parse_iso(next(r["run_end"] for r in sim.truth("adf") if r["run_id"] == result["run_id"]))
    assert parse_iso(condition["windowStartTime"]) <= failed_at <= parse_iso(condition["windowEndTime"])


def test_clock_driven_failures_notify_once_each_but_not_for_history(default_sim, receiver):
    default_sim.set_notify(databricks_url=receiver.url + "/dbx", azure_monitor_url=receiver.url + "/az")
    default_sim.advance(1800)
    truth_adf = [r for r in default_sim.truth("adf") if r["origin"] == "schedule" and r["status"] == "Failed"]
    truth_dbx = [r for r in default_sim.truth("databricks") if r["origin"] == "schedule" and r["status"] == "FAILED"]
    expected = len(truth_adf) + len(truth_dbx)
    assert expected > 0
    got = receiver.wait_for(expected)
    assert len(got) == expected
    assert sorted(g["json"]["run"]["run_id"] for g in got if g["path"] == "/dbx") == sorted(
        str(r["run_id"]) for r in truth_dbx
    )
    assert "X-AIMS-Token" not in got[0]["headers"]
    # The simulator counts a notification once the receiver has answered it, a moment after the receiver has it.
    deadline = time.monotonic() + 5
    while default_sim.stats()["notifications"]["sent"] < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert default_sim.stats()["notifications"]["sent"] == expected


def test_failed_delivery_is_counted_not_fatal(sim, receiver):
    receiver.close()  # nothing listens there any more
    sim.set_notify(databricks_url=receiver.url + "/gone")
    sim.fail("databricks", "orders_daily")
    for _ in range(100):
        if sim.stats()["notifications"]["failed"]:
            break
        time.sleep(0.05)
    assert sim.stats()["notifications"]["failed"] == 1
    assert sim.call("GET", "/_sim/clock")["now"].startswith(CLOCK_START[:10])


def test_notify_urls_must_be_loopback(sim):
    from simulator.testing import SimulatorError

    try:
        sim.set_notify(databricks_url="http://example.com/hook")
    except SimulatorError as exc:
        assert exc.status == 400 and "loopback" in exc.body["error"]
    else:
        raise AssertionError("non-loopback notify URL accepted")


def _post(url: str, body: dict, headers: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_inbox_keeps_what_is_posted_and_answers_like_the_service(sim):
    teams = _post(f"{sim.url}/_sim/inbox/teams", {"type": "message"}, {"X-AIMS-Delivery": "7"})
    slack = _post(f"{sim.url}/_sim/inbox/slack", {"text": "hi"}, {})

    inbox = sim.call("GET", "/_sim/inbox")
    assert (teams, slack) == (202, 200)
    assert [m["name"] for m in inbox["messages"]] == ["slack", "teams"]
    assert inbox["messages"][1]["body"] == {"type": "message"}
    assert inbox["messages"][1]["headers"]["x-aims-delivery"] == "7"
    assert sim.call("GET", "/_sim/inbox?name=teams")["count"] == 1
