"""ADF writes: createRun (a new run, a rerun, or a recovery run from an activity of a finished run) and cancel.

Every call is logged in the world's rerun log, rejected ones too, with what the simulator planned for the new run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulator.model import AdfRun, FactorySpec, adf_run_state
from simulator.world.adf_views import find_adf_run, find_pipeline
from simulator.world.build import draw_outcome, make_adf_run
from simulator.world.errors import SimError

if TYPE_CHECKING:
    from simulator.world.state import World

TERMINAL_ADF = frozenset({"Succeeded", "Failed", "Cancelled"})


def adf_create_run(
    world: World,
    factory: FactorySpec,
    pipeline_name: str,
    *,
    reference_run_id: str | None,
    is_recovery: bool,
    start_activity_name: str | None,
    start_from_failure: bool,
    parameters: dict[str, Any] | None,
) -> AdfRun:
    with world.lock:
        now = world.tick()
        record: dict[str, Any] = {
            "source": "adf",
            "kind": "createRun",
            "factory": factory.name,
            "pipeline": pipeline_name,
            "params": {
                "referencePipelineRunId": reference_run_id,
                "isRecovery": is_recovery,
                "startActivityName": start_activity_name,
                "startFromFailure": start_from_failure,
            },
        }
        try:
            run = _adf_create_run(
                world,
                factory,
                pipeline_name,
                now,
                record,
                reference_run_id,
                is_recovery,
                start_activity_name,
                start_from_failure,
                parameters,
            )
        except SimError as exc:
            world.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
            raise
        world.record(record, now, status_code=200, new_run_id=run.run_id, run_group_id=run.group_id)
        return run


def _adf_create_run(
    world: World,
    factory: FactorySpec,
    pipeline_name: str,
    now: int,
    record: dict[str, Any],
    reference_run_id: str | None,
    is_recovery: bool,
    start_activity_name: str | None,
    start_from_failure: bool,
    parameters: dict[str, Any] | None,
) -> AdfRun:
    pipeline = find_pipeline(factory, pipeline_name)
    rng = world.actions_rng
    if not reference_run_id:
        if is_recovery:
            raise SimError(400, "BadRequest", "isRecovery requires referencePipelineRunId.")
        params = {**pipeline.parameters, **_stringify(parameters or {})}
        outcome, row, step = draw_outcome(rng, pipeline, len(pipeline.activities))
        run = make_adf_run(
            world, rng, pipeline, now, outcome=outcome, row=row, step=step, origin="manual", parameters=params or None
        )
        record.update(planned_outcome=run.outcome, label=row.label if row else None, corpus_id=row.id if row else None)
        world.push_event(run.end_us, run, None)
        return run
    ref = find_adf_run(world, factory, reference_run_id)
    if ref.pipeline is not pipeline:
        raise SimError(
            400,
            "BadRequest",
            f"Reference pipeline run '{reference_run_id}' belongs to pipeline '{ref.pipeline.name}'.",
        )
    ref_status, _, _ = adf_run_state(ref, now, world.seq)
    start_index = 0
    if is_recovery:
        if ref_status not in TERMINAL_ADF:
            raise SimError(
                400,
                "BadRequest",
                f"Pipeline run '{ref.run_id}' is {ref_status}; only finished runs can be recovered.",
            )
        start_index = _recovery_start(ref, ref_status, start_activity_name, start_from_failure)
    failure = ref.failure if ref_status == "Failed" else None
    if failure is not None:
        label = failure.retry_label
        success = rng.random() < float(world.rerun_success_rate.get(label, world.rerun_success_rate.get("other", 0)))
        outcome, row, step = ("succeeded", None, 0) if success else ("failed", failure.row, failure.step)
        record.update(label=failure.row.label, corpus_id=failure.row.id, should_retry=failure.row.should_retry)
    else:
        outcome, row, step = draw_outcome(rng, pipeline, len(pipeline.activities))
        if outcome == "cancelled":
            outcome = "succeeded"  # a manual rerun is not cancelled by itself
        record.update(label=None, corpus_id=row.id if row else None)
    run = make_adf_run(
        world,
        rng,
        pipeline,
        now,
        outcome=outcome,
        row=row,
        step=max(step, start_index),
        origin="recovery" if is_recovery else "rerun",
        start_index=start_index,
        group_id=ref.group_id if is_recovery else None,
        parameters=dict(ref.parameters),
        reference_run_id=ref.run_id,
    )
    record.update(reference_run_id=ref.run_id, start_activity=pipeline.activities[start_index][0])
    record["planned_outcome"] = run.outcome
    world.push_event(run.end_us, run, None)
    return run


def _recovery_start(ref: AdfRun, ref_status: str, start_activity_name: str | None, from_failure: bool) -> int:
    names = [name.casefold() for name, _ in ref.pipeline.activities]
    if start_activity_name:
        if start_activity_name.casefold() not in names:
            raise SimError(
                400,
                "BadRequest",
                f"Activity '{start_activity_name}' does not exist in pipeline '{ref.pipeline.name}'.",
            )
        return names.index(start_activity_name.casefold())
    if from_failure:
        if ref_status == "Succeeded":
            raise SimError(
                400, "BadRequest", f"Pipeline run '{ref.run_id}' succeeded; there is no failure to start from."
            )
        failed = [a.index for a in ref.activities if a.outcome in ("Failed", "Cancelled")]
        if ref.cancel_us is not None:
            # Cancelled through the API: restart at the activity that was running at the time.
            running = [a.index for a in ref.activities if a.start_us <= ref.cancel_us < a.end_us]
            failed = running or failed
        return failed[0] if failed else ref.activities[0].index if ref.activities else 0
    return 0


def adf_cancel(world: World, factory: FactorySpec, run_id: str, is_recursive: bool) -> dict[str, Any]:
    with world.lock:
        now = world.tick()
        record: dict[str, Any] = {
            "source": "adf",
            "kind": "cancel",
            "factory": factory.name,
            "run_id": run_id,
            "params": {"isRecursive": is_recursive},
        }
        try:
            run = find_adf_run(world, factory, run_id)
        except SimError as exc:
            world.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
            raise
        status, _, _ = adf_run_state(run, now, world.seq)
        if status in TERMINAL_ADF:
            return world.record(record, now, status_code=200, outcome=f"noop_already_{status.lower()}")
        run.cancel_us, run.cancel_seq = now, world.next_seq()
        return world.record(record, now, status_code=200, outcome="cancelled", pipeline=run.pipeline.name)


def _stringify(params: dict[str, Any]) -> dict[str, str]:
    """ADF reports parameter values as strings; arrays and objects arrive as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
