"""/_sim/fail: a run of a named pipeline or job that has just failed (with a chosen or drawn corpus error, step
and Databricks variant), notified like any other failure unless asked not to. /_sim/skip: scheduled runs that never
start."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from simulator.corpus import CorpusRow, row_by_id
from simulator.model import AdfRun, DbxRun, JobSpec, PipelineSpec
from simulator.storm_causes import STORM_ROWS
from simulator.timefmt import iso7
from simulator.world.build import make_adf_run, make_dbx_run
from simulator.world.errors import SimError
from simulator.world.notifications import notify_adf_failure, notify_dbx_failure
from simulator.world.schedule import skip_scheduled_runs

if TYPE_CHECKING:
    from simulator.world.state import World


def inject_failure(
    world: World,
    source: str,
    name: str,
    corpus_id: str | None = None,
    notify: bool = True,
    step: int | str | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    """Create a run of `name` that has just failed (ended at the current sim time) and notify about it."""
    with world.lock:
        now = world.tick()
        rng = world.actions_rng
        if source == "adf":
            pipeline = _pipeline_by_name(world, name)
            row = _corpus_row(source, corpus_id, pipeline.corpus, rng)
            idx = _step_index([a for a, _ in pipeline.activities], step, rng)
            length = rng.randint(*pipeline.duration_us)
            run = make_adf_run(
                world,
                rng,
                pipeline,
                now - length,
                outcome="failed",
                row=row,
                step=idx,
                origin="injected",
                queue_us=0,
                total_us=length,
            )
            _shift_adf_end(run, now)
            sent = notify_adf_failure(world, run, now) if notify else False
            return {
                "source": "adf",
                "run_id": run.run_id,
                "pipeline": pipeline.name,
                "corpus_id": row.id,
                "label": row.label,
                "failed_step": run.pipeline.activities[idx][0],
                "notified": sent,
            }
        if source == "databricks":
            job = _job_by_name(world, name)
            row = _corpus_row(source, corpus_id, job.corpus, rng)
            idx = _step_index(job.tasks, step, rng)
            length = rng.randint(*job.duration_us)
            kind = (variant, "CLUSTER_ERROR" if variant == "cluster" else None) if variant else None
            dbx = make_dbx_run(
                world,
                rng,
                job,
                now - length,
                outcome="failed",
                row=row,
                step=idx,
                origin="injected",
                variant=kind,
                queue_us=0,
                total_us=length,
            )
            _shift_dbx_end(dbx, now)
            sent = notify_dbx_failure(world, dbx) if notify else False
            return {
                "source": "databricks",
                "run_id": dbx.run_id,
                "job": job.name,
                "job_id": job.job_id,
                "corpus_id": row.id,
                "label": row.label,
                "failed_step": job.tasks[idx],
                "variant": dbx.segments[0].failure.variant if dbx.segments[0].failure else None,
                "notified": sent,
            }
        raise SimError(400, "BadRequest", "source must be 'adf' or 'databricks'")


def skip_scheduled(world: World, source: str, name: str, runs: int) -> dict[str, Any]:
    """The next `runs` scheduled runs of `name` do not start: the schedule moves on and creates nothing."""
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise SimError(400, "BadRequest", "runs must be a whole number >= 1")
    with world.lock:
        now = world.tick()
        if source == "adf":
            spec: PipelineSpec | JobSpec = _pipeline_by_name(world, name)
        elif source == "databricks":
            spec = _job_by_name(world, name)
        else:
            raise SimError(400, "BadRequest", "source must be 'adf' or 'databricks'")
        sched = skip_scheduled_runs(world, spec, runs)
        return {
            "source": source,
            "name": spec.name,
            "skip": sched.skip,
            "next_due": iso7(sched.next_us),
            "now": iso7(now),
        }


def _shift_adf_end(run: AdfRun, now: int) -> None:
    """Make an injected run end exactly now, so it shows up as failed immediately."""
    delta = now - run.end_us
    run.created_us += delta
    run.start_us += delta
    run.end_us = now
    for act in run.activities:
        act.start_us += delta
        act.end_us += delta


def _shift_dbx_end(run: DbxRun, now: int) -> None:
    seg = run.segments[0]
    delta = now - seg.end_us
    run.created_us += delta
    seg.requested_us += delta
    seg.start_us += delta
    seg.end_us = now
    for tr in seg.task_runs:
        tr.start_us += delta
        tr.end_us += delta


def _pipeline_by_name(world: World, name: str) -> PipelineSpec:
    for factory in world.factories.values():
        if name.casefold() in factory.pipelines:
            return factory.pipelines[name.casefold()]
    raise SimError(404, "PipelineNotFound", f"No pipeline named {name!r} in any factory")


def _job_by_name(world: World, name: str) -> JobSpec:
    for ws in world.workspaces.values():
        for job in ws.jobs.values():
            if job.name == name or str(job.job_id) == str(name):
                return job
    raise SimError(404, "JobNotFound", f"No job named {name!r} in any workspace")


def _corpus_row(source: str, corpus_id: str | None, rows: tuple[CorpusRow, ...], rng: random.Random) -> CorpusRow:
    if not corpus_id:
        return rng.choice(rows)
    try:
        row = STORM_ROWS.get(corpus_id) or row_by_id(corpus_id)
    except KeyError:
        raise SimError(400, "BadRequest", f"Unknown corpus id {corpus_id!r}") from None
    if row.source_system != source:
        raise SimError(400, "BadRequest", f"Corpus row {corpus_id!r} belongs to {row.source_system}, not {source}")
    return row


def _step_index(names: list[str], step: int | str | None, rng: random.Random) -> int:
    if step is None:
        return rng.randrange(len(names))
    if isinstance(step, int):
        if not 0 <= step < len(names):
            raise SimError(400, "BadRequest", f"step index {step} out of range")
        return step
    if step not in names:
        raise SimError(400, "BadRequest", f"unknown step {step!r}; known: {names}")
    return names.index(step)
