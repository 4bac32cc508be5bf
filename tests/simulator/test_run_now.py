"""Databricks jobs/run-now: new manual runs, idempotency tokens, validation, outcomes, faults and the reruns log."""

from __future__ import annotations

import json

import pytest
import requests
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceDoesNotExist
from databricks.sdk.service.jobs import RunLifeCycleState, RunResultState, RunType, TriggerType

from aimsweb.terminal import strip_terminal_escapes
from simulator.world import World
from tests.simulator.conftest import CLOCK_START, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALWAYS_STANDARD = {"trace_only": 0.0, "cluster": 0.0}  # failures carry get-output `error`


def _job_id(sim, name: str = "orders_daily") -> int:
    return next(job.job_id for job in sim.world.workspaces[TOKEN].jobs.values() if job.name == name)


def _post(sim, body, version: str = "2.2") -> requests.Response:
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {**AUTH, "Content-Type": "application/json"}
    return requests.post(f"{sim.url}/api/{version}/jobs/run-now", data=data, headers=headers)


def _run_now_log(sim) -> list[dict]:
    return [r for r in sim.reruns("databricks") if r["kind"] == "run-now"]


def _force(sim, failure_rate: float) -> None:
    sim.reset(
        "quiet",
        clock_start=CLOCK_START,
        speed=0,
        run_now_failure_rate=failure_rate,
        databricks_failure_variants=ALWAYS_STANDARD,
    )


def test_run_now_sdk_new_run_is_listed_and_got_as_one_time_job_run(sim):
    w = sim.databricks_client()
    job_id = _job_id(sim)
    waiter = w.jobs.run_now(job_id=job_id, idempotency_token="abc")
    run_id = waiter.response.run_id
    assert waiter.run_id == run_id and waiter.response.number_in_job == run_id
    assert [r.run_id for r in w.jobs.list_runs(job_id=job_id)] == [run_id]
    run = w.jobs.get_run(run_id)
    assert run.job_id == job_id and run.run_id == run_id
    assert run.trigger == TriggerType.ONE_TIME and run.run_type == RunType.JOB_RUN
    assert run.start_time == sim.clock()["now_ms"] and run.end_time == 0
    assert run.state.life_cycle_state in (RunLifeCycleState.PENDING, RunLifeCycleState.RUNNING)
    assert [t.task_key for t in run.tasks] == ["ingest_orders", "transform_orders", "publish"]
    (truth,) = sim.truth("databricks")
    assert truth["run_id"] == run_id and truth["origin"] == "manual"
    assert truth["planned_outcome"] in ("SUCCESS", "FAILED")
    assert sim.stats()["calls"]["dbx.jobs.run-now"] == 1


def test_run_now_raw_v21_and_v22_answer_only_run_id_and_number_in_job(sim):
    w = sim.databricks_client()
    job_id = _job_id(sim, "customer_360")
    v22 = w.api_client.do("POST", "/api/2.2/jobs/run-now", body={"job_id": job_id})
    assert v22 == {"run_id": v22["run_id"], "number_in_job": v22["run_id"]}
    v21 = _post(sim, {"job_id": job_id}, version="2.1")
    assert v21.status_code == 200 and set(v21.json()) == {"run_id", "number_in_job"}
    assert v21.json()["run_id"] != v22["run_id"]
    assert {r["run_id"] for r in sim.truth("databricks")} == {v21.json()["run_id"], v22["run_id"]}


def test_run_now_same_idempotency_token_twice_returns_the_same_single_run(sim):
    w = sim.databricks_client()
    job_id = _job_id(sim)
    first = w.jobs.run_now(job_id=job_id, idempotency_token="nightly-2025-03-14").run_id
    sim.advance(30)
    second = w.jobs.run_now(job_id=job_id, idempotency_token="nightly-2025-03-14").run_id
    assert first == second
    assert [r["run_id"] for r in sim.truth("databricks")] == [first]
    log = _run_now_log(sim)
    assert [r["outcome"] for r in log] == ["accepted", "noop_idempotent"]
    assert [r["new_run_id"] for r in log] == [first, first]
    assert all(r["source"] == "databricks" and r["status_code"] == 200 for r in log)
    assert log[0]["params"] == {"job_id": job_id, "idempotency_token": "nightly-2025-03-14"}
    assert log[0]["planned_outcome"] == sim.truth("databricks")[0]["planned_outcome"]
    assert "planned_outcome" not in log[1]


def test_run_now_different_tokens_and_no_token_create_separate_runs(sim):
    w = sim.databricks_client()
    job_id = _job_id(sim)
    ids = [
        w.jobs.run_now(job_id=job_id, idempotency_token="a").run_id,
        w.jobs.run_now(job_id=job_id, idempotency_token="b").run_id,
        w.jobs.run_now(job_id=job_id).run_id,
        w.jobs.run_now(job_id=job_id).run_id,
    ]
    assert len(set(ids)) == 4
    assert sorted(r["run_id"] for r in sim.truth("databricks")) == sorted(ids)
    assert [r["outcome"] for r in _run_now_log(sim)] == ["accepted"] * 4


def test_run_now_tokens_are_cleared_by_reset(sim):
    w = sim.databricks_client()
    w.jobs.run_now(job_id=_job_id(sim), idempotency_token="t1")
    sim.reset("quiet", clock_start=CLOCK_START, speed=0)
    w.jobs.run_now(job_id=_job_id(sim), idempotency_token="t1")
    assert len(sim.truth("databricks")) == 1
    assert [r["outcome"] for r in _run_now_log(sim)] == ["accepted"]


def test_run_now_unknown_job_is_404_resource_does_not_exist(sim):
    w = sim.databricks_client()
    with pytest.raises(ResourceDoesNotExist) as caught:
        w.jobs.run_now(job_id=123456789)
    assert isinstance(caught.value, NotFound)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    raw = _post(sim, {"job_id": 123456789})
    assert raw.status_code == 404
    assert raw.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Job 123456789 does not exist."}
    assert sim.truth("databricks") == []
    log = _run_now_log(sim)
    assert [(r["outcome"], r["status_code"]) for r in log] == [("rejected", 404), ("rejected", 404)]
    assert log[0]["error"] == "Job 123456789 does not exist." and "new_run_id" not in log[0]


def test_run_now_token_longer_than_64_chars_is_400_but_64_is_accepted(sim):
    w = sim.databricks_client()
    job_id = _job_id(sim)
    with pytest.raises(InvalidParameterValue):
        w.jobs.run_now(job_id=job_id, idempotency_token="x" * 65)
    assert sim.truth("databricks") == []
    assert w.jobs.run_now(job_id=job_id, idempotency_token="x" * 64).run_id
    log = _run_now_log(sim)
    assert [(r["outcome"], r["status_code"]) for r in log] == [("rejected", 400), ("accepted", 200)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"idempotency_token": "abc"},
        {"job_id": "not-a-number"},
        {"job_id": True},
        {"job_id": 1, "idempotency_token": 42},
        {"job_parameters": {"load_date": 20250314}},
        "[1, 2]",
        "{not json",
    ],
)
def test_run_now_bad_body_is_400_invalid_parameter_value_and_logged(sim, body):
    if isinstance(body, dict) and "job_parameters" in body:
        body = {**body, "job_id": _job_id(sim)}
    resp = _post(sim, body)
    assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert sim.truth("databricks") == []
    (entry,) = _run_now_log(sim)
    assert entry["outcome"] == "rejected" and entry["status_code"] == 400 and entry["error"]


def test_run_now_job_parameters_and_other_params_are_kept_on_the_run(sim):
    w = sim.databricks_client()
    run_id = w.jobs.run_now(
        job_id=_job_id(sim),
        job_parameters={"load_date": "2025-03-01", "region": "eu"},
        notebook_params={"mode": "full"},
        python_params=["--dry-run"],
    ).run_id
    run = w.jobs.get_run(run_id)
    assert {p.name: p.value for p in run.job_parameters} == {"load_date": "2025-03-01", "region": "eu"}
    assert sim.world.dbx_runs[run_id].segments[0].params == {
        "job_parameters": {"load_date": "2025-03-01", "region": "eu"},
        "notebook_params": {"mode": "full"},
        "python_params": ["--dry-run"],
    }


def test_run_now_failure_rate_one_ends_failed_with_error_in_task_output(sim, receiver):
    _force(sim, 1.0)
    sim.set_notify(databricks_url=receiver.url + "/dbx")
    w = sim.databricks_client()
    run_id = w.jobs.run_now(job_id=_job_id(sim)).run_id
    assert w.jobs.get_run(run_id).state.life_cycle_state != RunLifeCycleState.TERMINATED
    assert receiver.received == []
    sim.advance(600)
    run = w.jobs.get_run(run_id)
    assert run.state.result_state == RunResultState.FAILED
    (truth,) = sim.truth("databricks")
    assert truth["planned_outcome"] == "FAILED" and truth["status"] == "FAILED"
    failed = next(t for t in run.tasks if t.state.result_state == RunResultState.FAILED)
    assert failed.task_key == truth["failed_step"]
    output = w.jobs.get_run_output(failed.run_id)
    assert output.error and truth["specific_error"].startswith(output.error.split(":")[0])
    assert strip_terminal_escapes(output.error_trace).endswith(truth["specific_error"])
    (entry,) = _run_now_log(sim)
    assert entry["planned_outcome"] == "FAILED" and entry["corpus_id"] == truth["corpus_id"]
    (hook,) = receiver.wait_for(1)
    assert hook["path"] == "/dbx" and hook["json"]["run"] == {"run_id": str(run_id)}


def test_run_now_failure_rate_zero_ends_success(sim):
    _force(sim, 0.0)
    w = sim.databricks_client()
    job_id = _job_id(sim)
    run_ids = [w.jobs.run_now(job_id=job_id).run_id for _ in range(5)]
    sim.advance(600)
    for run_id in run_ids:
        run = w.jobs.get_run(run_id)
        assert run.state.result_state == RunResultState.SUCCESS
        assert all(t.state.result_state == RunResultState.SUCCESS for t in run.tasks)
    assert {r["planned_outcome"] for r in sim.truth("databricks")} == {"SUCCESS"}


def test_run_now_uses_job_rates_when_unset_and_is_never_cancelled_by_itself(sim):
    scenario = sim.scenario()["scenario"]
    for job in scenario["workspaces"][0]["jobs"]:
        job.update(failure_rate=0.0, cancel_rate=1.0)
    sim.reset(scenario, clock_start=CLOCK_START, speed=0)
    w = sim.databricks_client()
    run_ids = [w.jobs.run_now(job_id=_job_id(sim)).run_id for _ in range(5)]
    sim.advance(600)
    assert {w.jobs.get_run(run_id).state.result_state for run_id in run_ids} == {RunResultState.SUCCESS}
    for job in scenario["workspaces"][0]["jobs"]:
        job.update(failure_rate=1.0, cancel_rate=0.0)
    sim.reset(scenario, clock_start=CLOCK_START, speed=0)
    run_id = w.jobs.run_now(job_id=_job_id(sim)).run_id
    sim.advance(600)
    assert w.jobs.get_run(run_id).state.result_state == RunResultState.FAILED


def test_run_now_run_can_be_cancelled_then_repaired(sim):
    _force(sim, 0.0)
    w = sim.databricks_client()
    run_id = w.jobs.run_now(job_id=_job_id(sim)).run_id
    sim.advance(1)
    w.jobs.cancel_run(run_id)
    assert w.jobs.get_run(run_id).state.result_state == RunResultState.CANCELED
    repair_id = w.jobs.repair_run(run_id=run_id, rerun_all_failed_tasks=True).response.repair_id
    sim.advance(3600)
    run = w.jobs.get_run(run_id, include_history=True)
    assert run.state.result_state == RunResultState.SUCCESS
    assert [h.id for h in run.repair_history] == [run_id, repair_id]
    kinds = [(r["kind"], r["outcome"]) for r in sim.reruns("databricks")]
    assert kinds == [("run-now", "accepted"), ("cancel", "cancelled"), ("repair", "accepted")]


@pytest.mark.parametrize("kind", ["429", "500", "503", "truncated", "malformed"])
def test_run_now_faulted_call_creates_no_run_and_is_not_logged(sim, kind):
    sim.set_faults(rate=1.0, kinds=[kind], retry_after=1)
    resp = _post(sim, {"job_id": _job_id(sim), "idempotency_token": "retry-me"})
    if kind in ("truncated", "malformed"):
        assert resp.status_code == 200
        with pytest.raises(ValueError):
            json.loads(resp.text)
    else:
        assert resp.status_code == int(kind)
    sim.set_faults(rate=0.0)
    assert sim.truth("databricks") == []
    assert sim.reruns() == []
    stats = sim.stats()
    assert stats["calls"]["dbx.jobs.run-now"] == 1 and stats["faults"] == {kind: 1}
    # The token was not used up by the faulted call: the retry creates the run.
    retry = _post(sim, {"job_id": _job_id(sim), "idempotency_token": "retry-me"})
    assert retry.status_code == 200
    assert [r["outcome"] for r in _run_now_log(sim)] == ["accepted"]


def test_run_now_failure_rate_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="run_now_failure_rate"):
        World("quiet", run_now_failure_rate=1.5)
