"""Building runs: the seeded draw of an outcome, then an ADF run or a Databricks run (segments, task runs) with its
timings, registered in the world's indexes. Every caller passes the RNG stream the run must come from."""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from simulator.corpus import CorpusRow
from simulator.model import AdfActivity, AdfRun, DbxRun, DbxSegment, DbxTaskRun, Failure, JobSpec, PipelineSpec
from simulator.storm_causes import STORM_ROWS
from simulator.timefmt import US_PER_S

if TYPE_CHECKING:
    from simulator.world.state import World

_CLUSTER_ALPHABET = string.ascii_lowercase + string.digits


def guid(rng: random.Random, salt: int = 0) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128) ^ salt, version=4))


def split(rng: random.Random, total_us: int, n: int) -> list[int]:
    """Split a duration over n sequential steps with seeded, uneven weights (each step >= 1 s)."""
    if n <= 0:
        return []
    weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
    scale = sum(weights)
    parts = [max(US_PER_S, int(total_us * w / scale)) for w in weights]
    return parts


def draw_outcome(
    rng: random.Random,
    spec: PipelineSpec | JobSpec,
    steps: int,
    *,
    failure_rate: float | None = None,
    cancel_rate: float | None = None,
) -> tuple[str, CorpusRow | None, int]:
    """(outcome, corpus row for failures, step index of the failure/cancel); rates default to the spec's."""
    cancel = spec.cancel_rate if cancel_rate is None else cancel_rate
    fail = spec.failure_rate if failure_rate is None else failure_rate
    u = rng.random()
    step = rng.randrange(steps)
    if u < cancel:
        return "cancelled", None, step
    if u < cancel + fail:
        return "failed", rng.choice(spec.corpus), step
    return "succeeded", None, step


def make_adf_run(
    world: World,
    rng: random.Random,
    pipeline: PipelineSpec,
    created_us: int,
    *,
    outcome: str,
    row: CorpusRow | None,
    step: int,
    origin: str,
    start_index: int = 0,
    group_id: str | None = None,
    parameters: dict[str, str] | None = None,
    reference_run_id: str | None = None,
    queue_us: int | None = None,
    total_us: int | None = None,
) -> AdfRun:
    run_id = guid(rng, world.run_id_salt)  # differs per start of the clock (see World.reset)
    n = len(pipeline.activities)
    queue = queue_us if queue_us is not None else rng.randint(*pipeline.queue_us)
    last = n - 1 if outcome == "succeeded" else max(step, start_index)
    executed = list(range(start_index, last + 1))
    total = total_us if total_us is not None else rng.randint(*pipeline.duration_us)
    total = int(total * len(executed) / n) if start_index else total
    durations = split(rng, total, len(executed))
    status = {"succeeded": "Succeeded", "failed": "Failed", "cancelled": "Cancelled"}[outcome]
    failure = Failure(row, last, "activity") if row is not None and outcome == "failed" else None
    t = created_us + queue
    activities = []
    for idx, dur in zip(executed, durations, strict=True):
        name, kind = pipeline.activities[idx]
        act_outcome = status if idx == last else "Succeeded"
        activities.append(AdfActivity(guid(rng), name, kind, idx, t, t + dur, act_outcome))
        t += dur
    manual = origin in ("manual", "rerun", "recovery", "injected")
    trigger_id = f"{rng.getrandbits(64):016X}{rng.getrandbits(64):016X}"
    invoked_by = (
        {"name": "Manual", "id": trigger_id, "invokedByType": "Manual"}
        if manual
        else {"name": f"tr_{pipeline.name}", "id": trigger_id, "invokedByType": "ScheduleTrigger"}
    )
    if parameters is None:
        day = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%Y-%m-%d")
        parameters = {**pipeline.parameters, "load_date": day}
    run = AdfRun(
        run_id=run_id,
        group_id=group_id or run_id,
        pipeline=pipeline,
        seq=world.next_seq(),
        created_us=created_us,
        start_us=created_us + queue,
        end_us=t,
        outcome=status,
        failure=failure,
        activities=activities,
        parameters=parameters,
        invoked_by=invoked_by,
        origin=origin,
        reference_run_id=reference_run_id,
    )
    world.adf_runs[run_id] = run
    world.adf_by_factory[pipeline.factory.key].append(run)
    world.adf_groups.setdefault(run.group_id, []).append(run)
    return run


def failure_variant(world: World, rng: random.Random, row: CorpusRow) -> tuple[str, str | None]:
    if row.id in STORM_ROWS:
        # One shared cause fails every run the same way (a workspace outage is the cluster failing to start).
        return "cluster", "CLUSTER_ERROR"
    u = rng.random()
    if u < world.dbx_variants.get("cluster", 0.0):
        return "cluster", rng.choice(("CLUSTER_ERROR", "INTERNAL_ERROR"))
    # A trace ends with the exception line; a multi-line message (a JSON blob, say) could not be told apart from
    # the frames above it, and real traces print such payloads through `error` anyway.
    single_line = "\n" not in row.error_message.strip()
    if single_line and u < world.dbx_variants.get("cluster", 0.0) + world.dbx_variants.get("trace_only", 0.0):
        return "trace_only", None
    return "standard", None


def make_dbx_run(
    world: World,
    rng: random.Random,
    job: JobSpec,
    created_us: int,
    *,
    outcome: str,
    row: CorpusRow | None,
    step: int,
    origin: str,
    variant: tuple[str, str | None] | None = None,
    queue_us: int | None = None,
    total_us: int | None = None,
    job_parameters: dict[str, str] | None = None,
) -> DbxRun:
    run_id = world.new_dbx_id(rng)
    stamp = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%m%d-%H%M%S")
    cluster_id = f"{stamp}-{''.join(rng.choice(_CLUSTER_ALPHABET) for _ in range(8))}"
    day = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%Y-%m-%d")
    run = DbxRun(
        run_id=run_id,
        job=job,
        seq=world.next_seq(),
        created_us=created_us,
        origin=origin,
        trigger="ONE_TIME" if origin in ("injected", "manual") else "PERIODIC",
        cluster_id=cluster_id,
        spark_context_id=str(rng.getrandbits(62)),
        job_parameters=dbx_job_parameters(day, job_parameters),
    )
    failure = None
    if outcome == "failed" and row is not None:
        kind, code = variant or failure_variant(world, rng, row)
        failure = Failure(row, step, kind, code)
    seg = make_segment(
        world,
        rng,
        run,
        kind="ORIGINAL",
        seg_id=run_id,
        seq=run.seq,
        requested_us=created_us,
        indices=list(range(len(job.tasks))),
        outcome=outcome,
        failure=failure,
        step=step,
        attempts={},
        queue_us=queue_us,
        total_us=total_us,
    )
    run.segments.append(seg)
    world.dbx_runs[run_id] = run
    world.dbx_by_workspace[job.workspace.token].append(run)
    return run


def make_segment(
    world: World,
    rng: random.Random,
    run: DbxRun,
    *,
    kind: str,
    seg_id: int,
    seq: int,
    requested_us: int,
    indices: list[int],
    outcome: str,
    failure: Failure | None,
    step: int,
    attempts: dict[int, int],
    queue_us: int | None = None,
    total_us: int | None = None,
) -> DbxSegment:
    job = run.job
    queue = queue_us if queue_us is not None else rng.randint(*job.queue_us)
    total = total_us if total_us is not None else rng.randint(*job.duration_us)
    total = int(total * len(indices) / len(job.tasks))
    stop = indices[-1] if outcome == "succeeded" else step
    executed = [i for i in indices if i <= stop]
    durations = split(rng, total, len(executed))
    seg_outcome = {"succeeded": "SUCCESS", "failed": "FAILED", "cancelled": "CANCELED"}[outcome]
    seg = DbxSegment(seg_id, kind, seq, requested_us, requested_us + queue, 0, seg_outcome, failure)
    t = seg.start_us
    for idx, dur in zip(executed, durations, strict=True):
        task_outcome = "SUCCESS" if idx < stop or outcome == "succeeded" else seg_outcome
        tr = DbxTaskRun(
            world.new_dbx_id(rng),
            job.tasks[idx],
            idx,
            attempts.get(idx, -1) + 1,
            t,
            t + dur,
            task_outcome,
            failure if task_outcome == "FAILED" else None,
            seg,
            run,
        )
        seg.task_runs.append(tr)
        t += dur
    seg.end_us = t
    skipped = "UPSTREAM_CANCELED" if outcome == "cancelled" else "UPSTREAM_FAILED"
    for idx in (i for i in indices if i > stop):
        tr = DbxTaskRun(
            world.new_dbx_id(rng), job.tasks[idx], idx, attempts.get(idx, -1) + 1, t, t, skipped, None, seg, run
        )
        seg.task_runs.append(tr)
    for tr in seg.task_runs:
        world.dbx_task_runs[tr.run_id] = tr
    return seg


def dbx_job_parameters(day: str, given: dict[str, str] | None) -> list[dict[str, str]]:
    """The run's `job_parameters`: the job's `load_date` (default: the run's day) plus run-now overrides."""
    values = {"load_date": day, **(given or {})}
    return [{"name": name, "default": "", "value": value} for name, value in values.items()]
