"""Databricks Jobs API through the real databricks-sdk (and raw HTTP for exact error bodies)."""

from __future__ import annotations

import time

import pytest
import requests
from databricks.sdk.errors import BadRequest, InvalidParameterValue, ResourceDoesNotExist, Unauthenticated
from databricks.sdk.service.jobs import RepairHistoryItemType as RepairType
from databricks.sdk.service.jobs import RunLifeCycleState, RunResultState

from aimsweb.terminal import strip_terminal_escapes
from tests.simulator.conftest import TOKEN


def _get(sim, path: str, token: str = TOKEN, **params) -> requests.Response:
    return requests.get(f"{sim.url}/api/2.2/jobs/{path}", params=params, headers={"Authorization": f"Bearer {token}"})


def _failed_task(run):
    return next(t for t in run.tasks if t.state.result_state == RunResultState.FAILED)


def test_list_runs_bulk_history_returns_every_run_exactly_once(bulk_sim):
    w = bulk_sim.databricks_client()
    truth_ids = {r["run_id"] for r in bulk_sim.truth("databricks") if r["origin"] == "history"}
    assert len(truth_ids) == 10_000
    started = time.monotonic()
    ids = [run.run_id for run in w.jobs.list_runs(limit=25)]
    elapsed = time.monotonic() - started
    assert len(ids) == len(set(ids))
    assert {i for i in ids if i in truth_ids} == truth_ids
    assert elapsed < 20


def test_list_runs_ordering_active_first_then_by_end_time_desc(bulk_sim):
    raw = []
    token = None
    for _ in range(60):
        params = {"limit": 25, **({"page_token": token} if token else {})}
        page = _get(bulk_sim, "runs/list", **params).json()
        raw += page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            break
    active = [r for r in raw if r["end_time"] == 0]
    done = [r for r in raw if r["end_time"] != 0]
    assert active and raw[: len(active)] == active
    assert [r["start_time"] for r in active] == sorted((r["start_time"] for r in active), reverse=True)
    assert [r["end_time"] for r in done] == sorted((r["end_time"] for r in done), reverse=True)


def test_list_runs_filters_job_active_completed_and_start_range(default_sim):
    w = default_sim.databricks_client()
    truth = default_sim.truth("databricks")
    job_id = truth[0]["job_id"]
    by_job = {r.run_id for r in w.jobs.list_runs(job_id=job_id)}
    assert by_job == {r["run_id"] for r in truth if r["job_id"] == job_id}
    active = {r.run_id for r in w.jobs.list_runs(active_only=True)}
    assert active == {r["run_id"] for r in truth if r["end_time"] == 0}
    completed = {r.run_id for r in w.jobs.list_runs(completed_only=True)}
    assert completed == {r["run_id"] for r in truth if r["end_time"] != 0}
    starts = sorted(r["start_time"] for r in truth)
    lo, hi = starts[5], starts[-5]
    ranged = {r.run_id for r in w.jobs.list_runs(start_time_from=lo, start_time_to=hi)}
    assert ranged == {r["run_id"] for r in truth if lo <= r["start_time"] <= hi}


def test_list_runs_empty_page_omits_runs_and_limit_is_validated(sim):
    body = _get(sim, "runs/list").json()
    assert body == {"has_more": False}
    for bad in (26, -1):
        resp = _get(sim, "runs/list", limit=bad)
        assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    both = _get(sim, "runs/list", active_only="true", completed_only="true")
    assert both.status_code == 400


def test_list_runs_pages_stay_stable_while_clock_and_runs_change(default_sim):
    w = default_sim.databricks_client()
    seen = []
    injected = None
    for i, run in enumerate(w.jobs.list_runs(limit=5)):
        seen.append(run.run_id)
        if i % 5 == 4:
            default_sim.advance(900)  # new scheduled runs appear, running ones finish
            injected = injected or default_sim.fail("databricks", "orders_daily", notify=False)["run_id"]
    assert len(seen) == len(set(seen)) == 40
    assert injected not in seen


def test_get_output_failure_detail_matches_truth_for_every_variant(bulk_sim):
    w = bulk_sim.databricks_client()
    failed = [r for r in bulk_sim.truth("databricks") if r["status"] == "FAILED"]
    by_variant = {
        v: [r for r in failed if r["failure_variant"] == v][:3] for v in ("standard", "trace_only", "cluster")
    }
    assert all(by_variant.values())
    for variant, rows in by_variant.items():
        for truth in rows:
            run = w.jobs.get_run(truth["run_id"])
            task = _failed_task(run)
            assert task.task_key == truth["failed_step"] and task.run_id == truth["failed_task_run_id"]
            assert run.state.state_message == f"Task {task.task_key} failed. See the task run for details."
            output = w.jobs.get_run_output(task.run_id)
            message = truth["specific_error"]
            if variant == "standard":
                assert run.status.termination_details.code.value == "RUN_EXECUTION_ERROR"
                assert run.status.termination_details.type.value == "CLIENT_ERROR"
                assert task.state.state_message == "Workload failed, see run output for details"
                assert output.error and message.startswith(output.error.split(":")[0])
                assert strip_terminal_escapes(output.error_trace).endswith(message) and "\n" in output.error_trace
            elif variant == "trace_only":
                assert not output.error
                assert strip_terminal_escapes(output.error_trace).endswith(message)
            else:
                assert run.state.life_cycle_state == RunLifeCycleState.INTERNAL_ERROR
                assert run.status.termination_details.code.value in ("CLUSTER_ERROR", "INTERNAL_ERROR")
                assert task.state.state_message == message
                assert not output.error and not output.error_trace


def test_get_output_of_job_run_id_is_multi_task_error(sim):
    run_id = sim.fail("databricks", "orders_daily")["run_id"]
    resp = _get(sim, "runs/get-output", run_id=run_id)
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "multiple tasks is not supported" in resp.json()["message"]
    with pytest.raises(InvalidParameterValue):
        sim.databricks_client().jobs.get_run_output(run_id)


def test_get_run_unknown_id_gives_documented_error(sim):
    resp = _get(sim, "runs/get", run_id=912345678909999)
    assert resp.status_code == 400
    assert resp.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 912345678909999 does not exist."}
    with pytest.raises(ResourceDoesNotExist):  # the SDK rewrites this one
        sim.databricks_client().jobs.get_run(912345678909999)


def test_databricks_unknown_token_is_401_unauthenticated(sim):
    resp = _get(sim, "runs/list", token="dapi-wrong")
    assert resp.status_code == 401 and resp.json()["error_code"] == "UNAUTHENTICATED"
    with pytest.raises(Unauthenticated):
        list(sim.databricks_client(token="dapi-wrong").jobs.list_runs())


def test_repair_requires_latest_repair_id_on_second_repair_and_records_history(sim):
    w = sim.databricks_client()
    sim.world.rerun_success_rate.update(transient=0.0, resource=0.0, other=0.0)  # make every repair fail again
    run_id = sim.fail("databricks", "orders_daily", step="transform_orders")["run_id"]
    before = w.jobs.get_run(run_id)
    failed_task = _failed_task(before)
    first = w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True).response.repair_id
    running = w.jobs.get_run(run_id)
    assert running.state.life_cycle_state in (RunLifeCycleState.PENDING, RunLifeCycleState.RUNNING)
    assert running.end_time == 0
    with pytest.raises(BadRequest):  # still running: cannot be repaired
        w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True, latest_repair_id=first)
    sim.advance(3600)
    with pytest.raises(InvalidParameterValue, match="latest_repair_id"):
        w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True)
    with pytest.raises(InvalidParameterValue, match="latest_repair_id"):
        w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True, latest_repair_id=first + 1)
    second = w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True, latest_repair_id=first).response.repair_id
    sim.advance(3600)
    after = w.jobs.get_run(run_id, include_history=True)
    assert [(h.type, h.id) for h in after.repair_history] == [
        (RepairType.ORIGINAL, run_id),
        (RepairType.REPAIR, first),
        (RepairType.REPAIR, second),
    ]
    task = next(t for t in after.tasks if t.task_key == failed_task.task_key)
    assert task.attempt_number == failed_task.attempt_number + 2
    assert task.run_id != failed_task.run_id and task.run_id in after.repair_history[-1].task_run_ids
    assert after.state.result_state == RunResultState.FAILED
    old_output = w.jobs.get_run_output(failed_task.run_id)  # the original task run stays readable
    assert old_output.metadata.attempt_number == failed_task.attempt_number
    repairs = [r for r in sim.reruns("databricks") if r["kind"] == "repair"]
    assert [r["outcome"] for r in repairs] == ["accepted", "rejected", "rejected", "rejected", "accepted"]


def test_repair_successful_run_goes_back_to_running_then_succeeds(sim):
    w = sim.databricks_client()
    sim.world.rerun_success_rate.update(transient=1.0, resource=1.0, other=1.0)
    run_id = sim.fail("databricks", "customer_360", step="ingest_crm")["run_id"]
    w.jobs.repair_run(run_id=run_id, rerun_tasks=["ingest_crm"])
    sim.advance(3600)
    run = w.jobs.get_run(run_id)
    assert run.state.result_state == RunResultState.SUCCESS
    assert run.status.termination_details.code.value == "SUCCESS"
    assert all(t.state.result_state == RunResultState.SUCCESS for t in run.tasks)
    # Tasks downstream of the failure were skipped originally and are rerun too.
    assert [t.attempt_number for t in run.tasks] == [1, 1, 1]


def test_cancel_running_run_terminates_it_as_canceled(sim):
    w = sim.databricks_client()
    run_id = sim.world.inject_failure("databricks", "orders_daily", notify=False)["run_id"]
    w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True)
    sim.advance(1)
    w.jobs.cancel_run(run_id)
    run = w.jobs.get_run(run_id)
    assert run.state.life_cycle_state == RunLifeCycleState.TERMINATED
    assert run.state.result_state == RunResultState.CANCELED
    assert run.status.termination_details.code.value == "USER_CANCELED"
    assert sim.reruns("databricks")[-1]["kind"] == "cancel"


def test_well_known_probe_and_v21_paths_answer(sim):
    assert requests.get(sim.url + "/.well-known/databricks-config").json() == {}
    run_id = sim.fail("databricks", "orders_daily")["run_id"]
    resp = requests.get(
        f"{sim.url}/api/2.1/jobs/runs/get", params={"run_id": run_id}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert resp.status_code == 200 and "has_more" not in resp.json()
    assert _get(sim, "runs/get", run_id=run_id).json()["has_more"] is False
