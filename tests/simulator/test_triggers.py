"""ADF triggers and Databricks job schedules describe the simulated cadence; /_sim/skip makes scheduled runs not
start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from simulator.testing import SimulatorError, run_simulator
from tests.simulator.conftest import CLOCK_START, FACTORY, RG, START, adf_path


def _first_scheduled_start(sim, pipeline: str) -> datetime:
    rows = [r for r in sim.truth("adf") if r["origin"] == "schedule" and r["pipeline"] == pipeline]
    return min(datetime.fromisoformat(r["run_start"][:19] + "+00:00") for r in rows)


def test_triggers_list_pages_with_next_link_and_sdk_reads_every_trigger():
    with run_simulator("default", clock_start=CLOCK_START, speed=0, adf_page_size=2) as sim:
        first = requests.get(sim.url + adf_path("/triggers"), headers={"Authorization": "Bearer sim"}, timeout=5)
        triggers = list(sim.adf_client().triggers.list_by_factory(RG, FACTORY))

    assert len(first.json()["value"]) == 2 and "$skipToken=2" in first.json()["nextLink"]
    names = [t.name for t in triggers]
    assert names == sorted(names, key=lambda name: (name or "").casefold()) and len(names) == 6
    assert {t.properties.type for t in triggers} == {"ScheduleTrigger", "BlobEventsTrigger"}
    assert {t.type for t in triggers} == {"Microsoft.DataFactory/factories/triggers"}


def test_schedule_trigger_start_time_is_the_first_scheduled_run(default_sim):
    trigger = default_sim.adf_client().triggers.get(RG, FACTORY, "TR_PL_DAILY_ORDERS").as_dict()
    default_sim.advance(600)

    props = trigger["properties"]
    recurrence = props["typeProperties"]["recurrence"]
    assert (props["type"], props["runtimeState"]) == ("ScheduleTrigger", "Started")
    assert props["pipelines"][0]["pipelineReference"] == {
        "referenceName": "pl_daily_orders",
        "type": "PipelineReference",
    }
    assert (recurrence["frequency"], recurrence["interval"], recurrence["timeZone"]) == ("Minute", 5, "UTC")
    assert "endTime" not in recurrence
    start = datetime.fromisoformat(recurrence["startTime"].replace("Z", "+00:00"))
    # The run queues up to 5 s after it is created at the trigger's time.
    assert timedelta(0) <= _first_scheduled_start(default_sim, "pl_daily_orders") - start <= timedelta(seconds=5)


def test_schedule_trigger_outside_utc_writes_local_start_time(default_sim):
    trigger = default_sim.adf_client().triggers.get(RG, FACTORY, "tr_pl_customers_sync").as_dict()
    default_sim.advance(600)

    recurrence = trigger["properties"]["typeProperties"]["recurrence"]
    assert recurrence["timeZone"] == "W. Europe Standard Time" and not recurrence["startTime"].endswith("Z")
    local = datetime.fromisoformat(recurrence["startTime"])  # CET in March: UTC + 1
    first = _first_scheduled_start(default_sim, "pl_customers_sync")
    assert timedelta(0) <= first - (local - timedelta(hours=1)).replace(tzinfo=UTC) <= timedelta(seconds=5)


def test_tumbling_window_trigger_windows_close_at_the_scheduled_runs(default_sim):
    trigger = default_sim.adf_client().triggers.get("rg-sim-analytics", "adf-sim-analytics", "tw_pl_gdpr_purge")
    props = trigger.as_dict()["properties"]
    default_sim.advance(1800)

    window_start = datetime.fromisoformat(props["typeProperties"]["startTime"].replace("Z", "+00:00"))
    assert props["type"] == "TumblingWindowTrigger" and props["pipeline"]["pipelineReference"]["referenceName"]
    assert window_start < START
    first = _first_scheduled_start(default_sim, "pl_gdpr_purge")
    assert timedelta(0) <= first - (window_start + timedelta(minutes=15)) <= timedelta(seconds=5)


def test_get_unknown_trigger_is_404(default_sim):
    with pytest.raises(ResourceNotFoundError):
        default_sim.adf_client().triggers.get(RG, FACTORY, "tr_nope")


def test_job_schedule_quartz_names_the_first_scheduled_run_and_paused_job_never_runs(default_sim):
    jobs = {job.settings.name: job for job in default_sim.databricks_client().jobs.list()}
    default_sim.advance(1800)

    cron = jobs["ml_training"].settings.schedule.quartz_cron_expression
    second, minute = cron.split()[:2]
    rows = [r for r in default_sim.truth("databricks") if r["origin"] == "schedule"]
    first = min(r["start_time"] for r in rows if r["job"] == "ml_training")
    at = datetime.fromtimestamp(first / 1000, tz=UTC)
    assert (at.second, at.minute % 15) == (int(second), int(minute.split("/")[0])) and minute.endswith("/15")
    paused = jobs["legacy_reconcile"].settings.schedule
    assert paused.pause_status.value == "PAUSED"
    assert not [r for r in rows if r["job"] == "legacy_reconcile"]


def test_skip_runs_next_scheduled_runs_do_not_start_and_the_schedule_moves_on(default_sim):
    answer = default_sim.skip_runs("adf", "pl_daily_orders", runs=2)
    trigger = default_sim.adf_client().triggers.get(RG, FACTORY, "tr_pl_daily_orders").as_dict()
    anchor = datetime.fromisoformat(trigger["properties"]["typeProperties"]["recurrence"]["startTime"][:19] + "+00:00")
    default_sim.advance(3600)

    assert answer["skip"] == 2 and answer["name"] == "pl_daily_orders"
    # The first two due times (anchor, anchor + 5 min) pass without a run; the third starts as usual.
    first = _first_scheduled_start(default_sim, "pl_daily_orders")
    assert timedelta(minutes=10) <= first - anchor <= timedelta(minutes=10, seconds=35)
    others = [r for r in default_sim.truth("adf") if r["origin"] == "schedule" and r["pipeline"] == "pl_customers_sync"]
    assert len(others) >= 11


def test_skip_runs_databricks_job_by_name_skips_one_run():
    with run_simulator("default", clock_start=CLOCK_START, speed=0) as plain:
        plain.advance(3600)
        usual = [r for r in plain.truth("databricks") if r["origin"] == "schedule" and r["job"] == "ml_training"]
    with run_simulator("default", clock_start=CLOCK_START, speed=0) as skipping:
        skipping.skip_runs("databricks", "ml_training")
        skipping.advance(3600)
        fewer = [r for r in skipping.truth("databricks") if r["origin"] == "schedule" and r["job"] == "ml_training"]

    assert len(fewer) == len(usual) - 1
    assert min(r["start_time"] for r in fewer) - min(r["start_time"] for r in usual) >= 14 * 60 * 1000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"source": "databricks", "job": "legacy_reconcile"}, 400, "no running schedule"),
        ({"source": "adf", "pipeline": "pl_nope"}, 404, "pl_nope"),
        ({"source": "adf", "pipeline": "pl_daily_orders", "runs": 0}, 400, "runs must be"),
        ({"source": "adf"}, 400, "give 'pipeline'"),
    ],
)
def test_skip_runs_bad_request_names_the_problem(default_sim, body, status, message):
    with pytest.raises(SimulatorError) as raised:
        default_sim.call("POST", "/_sim/skip", body)

    assert raised.value.status == status and message in raised.value.body["error"]
