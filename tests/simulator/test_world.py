"""The world model: clock, schedules, history, determinism and rerun statistics."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import requests
from azure.mgmt.datafactory.models import RunFilterParameters

from simulator.testing import run_simulator
from simulator.world import World
from tests.simulator.conftest import CLOCK_START, FACTORY, RG, SUB, window


def test_history_generation_bulk_has_the_promised_mix():
    world = World("bulk", clock_start=CLOCK_START, speed=0)
    assert len(world.adf_runs) == len(world.dbx_runs) == 10_000
    for source, failed, cancelled, active in (
        ("adf", "Failed", "Cancelled", ("Queued", "InProgress")),
        ("databricks", "FAILED", "CANCELED", ("PENDING", "RUNNING")),
    ):
        counts = Counter(r["status"] for r in world.truth(source)["runs"])
        assert 0.25 < counts[failed] / 10_000 < 0.35
        assert 0.01 < counts[cancelled] / 10_000 < 0.06
        assert 0.005 < sum(counts[a] for a in active) / 10_000 < 0.04


def test_clock_advance_makes_scheduled_runs_appear_and_progress(default_sim):
    client = default_sim.adf_client()
    before = {r["run_id"] for r in default_sim.truth("adf")}
    default_sim.advance(400)  # a bit more than one 300 s interval
    new = [r for r in default_sim.truth("adf") if r["run_id"] not in before]
    assert new and all(r["origin"] == "schedule" for r in new)
    assert {r["status"] for r in new} <= {"Queued", "InProgress", "Succeeded", "Failed", "Cancelled"}
    running = next(r for r in new if r["status"] in ("Queued", "InProgress"))
    default_sim.advance(3600)
    finished = next(r for r in default_sim.truth("adf") if r["run_id"] == running["run_id"])
    assert finished["status"] == finished["planned_outcome"]
    assert finished["last_updated"] > running["last_updated"]
    if running["factory"] == FACTORY:
        assert client.pipeline_runs.get(RG, FACTORY, running["run_id"]).status == finished["status"]
    dbx_before = len(default_sim.truth("databricks"))
    default_sim.advance(900)
    assert len(default_sim.truth("databricks")) > dbx_before


def test_clock_runs_at_scenario_speed(sim):
    sim.set_speed(100.0)
    first = sim.clock()["now_ms"]
    time.sleep(0.2)
    elapsed_sim_ms = sim.clock()["now_ms"] - first
    assert 10_000 <= elapsed_sim_ms <= 60_000  # ~20 s of sim time, generous for slow machines


def test_same_seed_gives_same_ids_and_outcomes():
    def run_once() -> tuple:
        world = World("default", seed=11, clock_start=CLOCK_START, speed=0)
        world.advance(1800)
        failed = next(r for r in world.truth("adf")["runs"] if r["status"] == "Failed")
        factory = next(f for f in world.factories.values() if f.name == failed["factory"])
        rerun = world.adf_create_run(
            factory,
            failed["pipeline"],
            reference_run_id=failed["run_id"],
            is_recovery=True,
            start_activity_name=None,
            start_from_failure=True,
            parameters=None,
        )
        return world.truth("adf")["runs"], world.truth("databricks")["runs"], rerun.run_id, rerun.outcome

    assert run_once() == run_once()
    other = World("default", seed=12, clock_start=CLOCK_START, speed=0)
    assert {r["run_id"] for r in other.truth("adf")["runs"]} != {r["run_id"] for r in run_once()[0]}


def test_a_restart_with_the_same_seed_hands_out_new_run_ids_for_the_same_jobs():
    """`make run` restarts the simulator with the same seed and a new clock start; AIMS keeps what the last start
    made, so the new start's runs must not reuse its ids (they would pass for failures already known)."""
    from datetime import datetime, timedelta

    later = (datetime.fromisoformat(CLOCK_START.replace("Z", "+00:00")) + timedelta(hours=1)).isoformat()
    first = World("default", seed=11, clock_start=CLOCK_START, speed=0)
    restart = World("default", seed=11, clock_start=later, speed=0)
    first.advance(1800)
    restart.advance(1800)

    def run_ids(world: World, source: str) -> set[str]:
        return {str(run["run_id"]) for run in world.truth(source)["runs"]}

    def job_ids(world: World) -> set[int]:
        return {job_id for ws in world.workspaces.values() for job_id in ws.jobs}

    assert run_ids(first, "adf") and run_ids(first, "databricks")
    assert not run_ids(first, "adf") & run_ids(restart, "adf")
    assert not run_ids(first, "databricks") & run_ids(restart, "databricks")
    assert job_ids(first) == job_ids(restart)  # the same jobs: AIMS knows them as the same pipelines


def test_rerun_outcomes_follow_labels_over_many_trials():
    world = World("quiet", clock_start=CLOCK_START, speed=0)
    factory = next(f for f in world.factories.values() if f.name == FACTORY)
    ws = next(iter(world.workspaces.values()))
    outcomes: dict[str, Counter] = {"transient": Counter(), "resource": Counter(), "other": Counter()}
    for corpus_id, label in (("adf-0096", "transient"), ("adf-0055", "resource"), ("adf-0071", "other")):
        for _ in range(300):
            failed = world.inject_failure("adf", "pl_daily_orders", corpus_id=corpus_id, notify=False)
            rerun = world.adf_create_run(
                factory,
                "pl_daily_orders",
                reference_run_id=failed["run_id"],
                is_recovery=True,
                start_activity_name=None,
                start_from_failure=True,
                parameters=None,
            )
            outcomes[label][rerun.outcome] += 1
    for corpus_id, label in (("dbx-0092", "transient"), ("dbx-0095", "resource"), ("dbx-0088", "other")):
        for _ in range(300):
            failed = world.inject_failure("databricks", "orders_daily", corpus_id=corpus_id, notify=False)
            seg = world.dbx_repair(ws, {"run_id": failed["run_id"], "rerun_all_failed_tasks": True})
            outcomes[label]["Succeeded" if seg.outcome == "SUCCESS" else "Failed"] += 1
    rates = {label: c["Succeeded"] / sum(c.values()) for label, c in outcomes.items()}
    assert 0.78 < rates["transient"] < 0.92
    assert 0.50 < rates["resource"] < 0.70
    assert rates["other"] < 0.12


def test_failed_rerun_repeats_the_same_error(sim):
    sim.world.rerun_success_rate.update(transient=0.0, resource=0.0, other=0.0)
    original = sim.fail("adf", "pl_daily_orders", corpus_id="adf-0096", step="Publish")
    client = sim.adf_client()
    rerun = client.pipelines.create_run(
        RG,
        FACTORY,
        "pl_daily_orders",
        reference_pipeline_run_id=original["run_id"],
        is_recovery=True,
        start_from_failure=True,
    )
    sim.advance(3600)
    truth = next(r for r in sim.truth("adf") if r["run_id"] == rerun.run_id)
    assert truth["status"] == "Failed" and truth["corpus_id"] == "adf-0096" and truth["failed_step"] == "Publish"
    acts = client.activity_runs.query_by_pipeline_run(RG, FACTORY, rerun.run_id, RunFilterParameters(**window()))
    assert [a.activity_name for a in acts.value] == ["Publish"]


def test_truth_endpoint_pages_and_handles_20k_runs(bulk_sim):
    started = time.monotonic()
    adf = bulk_sim.call("GET", "/_sim/truth?source=adf")
    dbx = bulk_sim.call("GET", "/_sim/truth?source=databricks")
    assert time.monotonic() - started < 5
    assert adf["count"] >= 10_000 and dbx["count"] >= 10_000
    page = bulk_sim.call("GET", "/_sim/truth?source=adf&offset=100&limit=50")
    assert [r["run_id"] for r in page["runs"]] == [r["run_id"] for r in adf["runs"][100:150]]
    assert page["next_offset"] == 150


def test_simulator_package_does_not_import_django():
    code = "import sys, simulator.app, simulator.testing; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_scenario_from_json_path_with_small_adf_page_size(tmp_path):
    scenario = {
        "seed": 5,
        "speed": 0,
        "clock_start": CLOCK_START,
        "adf_page_size": 7,
        "factories": [
            {
                "subscription_id": SUB,
                "resource_group": RG,
                "factory_name": FACTORY,
                "pipelines": [{"name": "pl_only", "activities": ["Copy a", "Run b notebook"], "interval_seconds": 0}],
            }
        ],
        "workspaces": [],
        "history": {"adf_runs": 30, "span_seconds": 3600},
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(scenario))
    with run_simulator(str(path)) as sim:
        client = sim.adf_client()
        ids, token, pages = [], None, 0
        while True:
            params = RunFilterParameters(**window(), continuation_token=token)
            page = client.pipeline_runs.query_by_factory(RG, FACTORY, params)
            ids += [r.run_id for r in page.value]
            pages += 1
            token = page.continuation_token
            if not token:
                break
        assert pages == 5 and len(set(ids)) == 30
        assert sim.scenario()["scenario"]["name"] == "tiny"
        other_factory = sim.url + (
            f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DataFactory/factories/nope"
            "/pipelineruns/x?api-version=2018-06-01"
        )
        resp = requests.get(other_factory, headers={"Authorization": "Bearer sim"})
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "ResourceNotFound"
