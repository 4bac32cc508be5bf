"""Databricks writes: runs/repair (the failed tasks and what depends on them), jobs/run-now (idempotent by
token) and runs/cancel. Every call is logged in the world's rerun log, rejected ones too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.model import DbxRun, DbxSegment, WorkspaceSpec, dbx_run_state, task_state
from simulator.timefmt import US_PER_S
from simulator.world.build import draw_outcome, make_dbx_run, make_segment
from simulator.world.dbx_views import as_int, find_dbx_run
from simulator.world.errors import SimError

if TYPE_CHECKING:
    from simulator.world.state import World


def dbx_repair(world: World, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxSegment:
    with world.lock:
        now = world.tick()
        record: dict[str, Any] = {
            "source": "databricks",
            "kind": "repair",
            "run_id": body.get("run_id"),
            "params": {k: v for k, v in body.items() if k != "run_id"},
        }
        try:
            seg = _dbx_repair(world, ws, body, now, record)
        except SimError as exc:
            world.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
            raise
        world.record(record, now, status_code=200, repair_id=seg.id)
        return seg


def _dbx_repair(world: World, ws: WorkspaceSpec, body: dict[str, Any], now: int, record: dict[str, Any]) -> DbxSegment:
    if body.get("run_id") is None:
        raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: run_id")
    run = find_dbx_run(world, ws, body["run_id"])
    s = world.seq
    state = dbx_run_state(run, now, s)
    if state.active:
        raise SimError(
            400,
            "INVALID_STATE",
            f"Run {run.run_id} is in state {state.life_cycle_state} and cannot be repaired yet.",
        )
    repairs = [seg for seg in run.segments if seg.kind == "REPAIR"]
    latest = body.get("latest_repair_id")
    if repairs and latest is None:
        raise SimError(
            400,
            "INVALID_PARAMETER_VALUE",
            f"Run {run.run_id} has already been repaired: latest_repair_id is required "
            f"(the latest repair id is {repairs[-1].id}).",
        )
    if latest is not None and (not repairs or as_int(latest) != repairs[-1].id):
        expected = repairs[-1].id if repairs else "none (the run has not been repaired yet)"
        raise SimError(
            400,
            "INVALID_PARAMETER_VALUE",
            f"latest_repair_id {latest} is not the latest repair of run {run.run_id}; expected {expected}.",
        )
    rerun_tasks, rerun_failed = body.get("rerun_tasks") or [], bool(body.get("rerun_all_failed_tasks"))
    if rerun_tasks and rerun_failed:
        raise SimError(
            400, "INVALID_PARAMETER_VALUE", "Specify either rerun_tasks or rerun_all_failed_tasks, not both."
        )
    if not rerun_tasks and not rerun_failed:
        raise SimError(400, "INVALID_PARAMETER_VALUE", "Either rerun_tasks or rerun_all_failed_tasks must be set.")
    current = run.tasks_at(s)
    succeeded = {tr.index for tr in current if task_state(tr, now, s).result_state == "SUCCESS"}
    if rerun_failed:
        selected = {tr.index for tr in current if tr.index not in succeeded}
    else:
        keys = {tr.task_key: tr.index for tr in current}
        unknown = [k for k in rerun_tasks if k not in keys]
        if unknown:
            raise SimError(400, "INVALID_PARAMETER_VALUE", f"Task key(s) {unknown} do not exist in run {run.run_id}.")
        selected = {keys[k] for k in rerun_tasks}
    if not selected:
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run.run_id} has no failed tasks to repair.")
    first = min(selected)
    # Downstream tasks that did not succeed have to run again for the job to complete (as the UI's default
    # selection does); rerun_dependent_tasks also reruns downstream tasks that had succeeded.
    for tr in current:
        if tr.index > first and (tr.index not in succeeded or body.get("rerun_dependent_tasks")):
            selected.add(tr.index)
    indices = sorted(selected)
    failure = next((tr.failure for tr in current if tr.failure is not None and tr.index in selected), None)
    rng = world.actions_rng
    if failure is not None:
        rate = float(world.rerun_success_rate.get(failure.retry_label, world.rerun_success_rate.get("other", 0)))
        success = rng.random() < rate
        record.update(label=failure.row.label, corpus_id=failure.row.id, should_retry=failure.row.should_retry)
    else:
        success = True
        record.update(label=None, corpus_id=None)
    seg = make_segment(
        world,
        rng,
        run,
        kind="REPAIR",
        seg_id=world.new_dbx_id(rng),
        seq=world.next_seq(),
        requested_us=now,
        indices=indices,
        outcome="succeeded" if success else "failed",
        failure=None if success else failure,
        step=failure.step if failure is not None and not success else indices[-1],
        attempts={tr.index: tr.attempt for tr in current},
        queue_us=rng.randint(5 * US_PER_S, 30 * US_PER_S),
    )
    seg.params = {k: v for k, v in body.items() if k != "run_id"}
    run.segments.append(seg)
    world.push_event(seg.end_us, run, seg)
    record.update(
        run_id=run.run_id,
        rerun_task_keys=[run.job.tasks[i] for i in indices],
        planned_outcome=seg.outcome,
        new_task_run_ids=[tr.run_id for tr in seg.task_runs],
    )
    return seg


def dbx_run_now(world: World, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxRun:
    """jobs/run-now: a manual (ONE_TIME) run of a job starting now, or the existing run of a known token."""
    with world.lock:
        now = world.tick()
        token = body.get("idempotency_token")
        record: dict[str, Any] = {
            "source": "databricks",
            "kind": "run-now",
            "job_id": body.get("job_id"),
            "params": {"job_id": body.get("job_id"), "idempotency_token": token},
        }
        try:
            run, created = _dbx_run_now(world, ws, body, now, record)
        except SimError as exc:
            world.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
            raise
        outcome = "accepted" if created else "noop_idempotent"
        world.record(record, now, status_code=200, outcome=outcome, new_run_id=run.run_id, job=run.job.name)
        return run


def _dbx_run_now(
    world: World, ws: WorkspaceSpec, body: dict[str, Any], now: int, record: dict[str, Any]
) -> tuple[DbxRun, bool]:
    raw_id = body.get("job_id")
    if raw_id is None:
        raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: job_id")
    job_id = _dbx_int64(raw_id, "job_id")
    token = body.get("idempotency_token")
    if token is not None and (not isinstance(token, str) or len(token) > 64):
        raise SimError(400, "INVALID_PARAMETER_VALUE", "idempotency_token must have at most 64 characters.")
    params = body.get("job_parameters")
    if params is not None and (not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values())):
        raise SimError(400, "INVALID_PARAMETER_VALUE", "Invalid job_parameters: expected a map from string to string.")
    job = ws.jobs.get(job_id)
    if job is None:
        raise SimError(404, "RESOURCE_DOES_NOT_EXIST", f"Job {job_id} does not exist.")
    if token:
        existing = world.dbx_idempotency.get((ws.token, token))
        if existing is not None:
            return world.dbx_runs[existing], False
    rng = world.actions_rng
    forced = world.run_now_failure_rate
    outcome, row, step = draw_outcome(
        rng, job, len(job.tasks), failure_rate=forced, cancel_rate=0.0 if forced is not None else None
    )
    if outcome == "cancelled":
        outcome = "succeeded"  # a manual run is not cancelled by itself
    run = make_dbx_run(
        world, rng, job, now, outcome=outcome, row=row, step=step, origin="manual", job_parameters=params or None
    )
    seg = run.segments[0]
    seg.params = {k: v for k, v in body.items() if k not in ("job_id", "idempotency_token")}
    if token:
        world.dbx_idempotency[(ws.token, token)] = run.run_id
    world.push_event(seg.end_us, run, seg)
    record.update(
        planned_outcome=seg.outcome,
        label=row.label if row else None,
        corpus_id=row.id if row else None,
        failed_step=job.tasks[step] if seg.outcome == "FAILED" else None,
    )
    return run, True


def dbx_cancel(world: World, ws: WorkspaceSpec, run_id: Any) -> dict[str, Any]:
    with world.lock:
        now = world.tick()
        record: dict[str, Any] = {"source": "databricks", "kind": "cancel", "run_id": run_id, "params": {}}
        try:
            if run_id is None:
                raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: run_id")
            run = find_dbx_run(world, ws, run_id)
        except SimError as exc:
            world.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
            raise
        seg = run.segment_at(world.seq)
        state = dbx_run_state(run, now, world.seq)
        if not state.active:
            return world.record(record, now, status_code=200, outcome="noop_already_terminated")
        seg.cancel_us, seg.cancel_seq = now, world.next_seq()
        return world.record(record, now, status_code=200, outcome="cancelled", job=run.job.name)


def _dbx_int64(value: Any, name: str) -> int:
    """An int64 field of a Databricks JSON body: a JSON integer or a decimal string (proto3 JSON), not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: {value!r} (expected an integer)")
    try:
        return int(value)
    except ValueError:
        raise SimError(
            400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: {value!r} (expected an integer)"
        ) from None
