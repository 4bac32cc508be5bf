"""What happens as the clock moves: scheduled runs materialise, and runs that end failed send their notifications.

Each schedule (pipeline or job) has its own seeded RNG, so the k-th scheduled run of a pipeline is identical however
the clock is ticked. A schedule's k-th run is due at its anchor (a whole second in its first interval) plus k
intervals, which is what the ADF trigger and the Databricks job schedule describe (simulator.schedule_shapes); each run
after the first starts a little late, up to min(10 % of the interval, 30 s), as platform schedulers do.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.model import AdfRun, JobSpec, PipelineSpec, adf_run_state
from simulator.timefmt import US_PER_S
from simulator.world.build import draw_outcome, make_adf_run, make_dbx_run
from simulator.world.errors import SimError
from simulator.world.notifications import notify_adf_failure, notify_dbx_failure

if TYPE_CHECKING:
    from simulator.world.state import World

MAX_JITTER_US = 30 * US_PER_S


@dataclass(slots=True)
class Schedule:
    spec: PipelineSpec | JobSpec
    rng: random.Random
    interval_us: int
    base_us: int
    next_us: int
    skip: int = 0  # the next scheduled runs that do not start at all (/_sim/skip)


def init_schedules(world: World) -> None:
    """One schedule per pipeline or job with an interval, first due at a seeded point of its first interval."""
    for factory in world.factories.values():
        for p in factory.pipelines.values():
            _add_schedule(world, p, f"adf/{factory.name}/{p.name}")
    for ws in world.workspaces.values():
        for job in ws.jobs.values():
            _add_schedule(world, job, f"databricks/{ws.workspace_id}/{job.name}")


def _add_schedule(world: World, spec: PipelineSpec | JobSpec, key: str) -> None:
    if spec.interval_us <= 0:
        return
    rng = random.Random(f"{world.seed}/{key}/schedule")
    first = world.clock_start_us + rng.randrange(spec.interval_us)
    # On a whole second, as a Quartz cron (seconds first) can name it.
    first += -first % US_PER_S
    spec.anchor_us = first
    if not spec.paused:
        world.schedules.append(Schedule(spec, rng, spec.interval_us, first, first))


def skip_scheduled_runs(world: World, spec: PipelineSpec | JobSpec, runs: int) -> Schedule:
    """Make the next `runs` scheduled runs of `spec` not start: their times pass and nothing is created."""
    for sched in world.schedules:
        if sched.spec is spec:
            sched.skip += runs
            return sched
    raise SimError(400, "BadRequest", f"{spec.name!r} has no running schedule (no interval, or paused)")


def materialize_schedules(world: World, now: int) -> None:
    """Create every scheduled run due by `now`, earliest first."""
    while world.schedules:
        sched = min(world.schedules, key=lambda s: s.next_us)
        if sched.next_us > now:
            return
        created = sched.next_us
        rng = sched.rng
        spec = sched.spec
        if sched.skip:
            sched.skip -= 1
        elif isinstance(spec, PipelineSpec):
            outcome, row, step = draw_outcome(rng, spec, len(spec.activities))
            run = make_adf_run(world, rng, spec, created, outcome=outcome, row=row, step=step, origin="schedule")
            world.push_event(run.end_us, run, None)
        else:
            outcome, row, step = draw_outcome(rng, spec, len(spec.tasks))
            dbx = make_dbx_run(world, rng, spec, created, outcome=outcome, row=row, step=step, origin="schedule")
            world.push_event(dbx.segments[0].end_us, dbx, dbx.segments[0])
        sched.base_us += sched.interval_us
        span = max(1, sched.interval_us // 10)
        # The same draw as ever (later runs keep their outcomes), scaled into the jitter cap.
        sched.next_us = sched.base_us + rng.randrange(span) * min(span, MAX_JITTER_US) // span


def fire_events(world: World, now: int) -> None:
    """Notify about every run (or repair) that ended by `now` and is still failed as of the latest change."""
    s = world.seq
    while world.events and world.events[0][0] <= now:
        _, _, run, seg = heapq.heappop(world.events)
        if isinstance(run, AdfRun):
            status, _, _ = adf_run_state(run, now, s)
            if status == "Failed":
                notify_adf_failure(world, run, now)
        elif seg is not None and run.segment_at(s) is seg and seg.cancelled_at(s) is None and seg.outcome == "FAILED":
            notify_dbx_failure(world, run)
