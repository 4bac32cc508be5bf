"""The runs a scenario's `history` asks for: finished (or still running) before the clock starts.

Each source draws from its own seeded RNG, so the ADF history does not change when Databricks jobs are added.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator.model import JobSpec, PipelineSpec
from simulator.timefmt import US_PER_S
from simulator.world.build import draw_outcome, make_adf_run, make_dbx_run

if TYPE_CHECKING:
    from simulator.world.state import World


def generate_history(world: World, history: dict[str, Any]) -> None:
    """`adf_runs` and `databricks_runs` past runs of randomly chosen pipelines and jobs."""
    span = int(float(history.get("span_seconds") or 86400) * US_PER_S)
    active_share = float(history.get("active_share", 0.02))
    # Paused schedules are left out, so pausing one (or adding a paused one) leaves the others' history as it was.
    pipelines = [p for f in world.factories.values() for p in f.pipelines.values() if not p.paused]
    jobs = [j for w in world.workspaces.values() for j in w.jobs.values() if not j.paused]
    sources: list[tuple[str, list[Any], int, Callable[[Any], int], Callable[..., Any]]] = [
        ("adf", pipelines, int(history.get("adf_runs") or 0), lambda p: len(p.activities), make_adf_run),
        ("databricks", jobs, int(history.get("databricks_runs") or 0), lambda j: len(j.tasks), make_dbx_run),
    ]
    for source, specs, count, steps, make_run in sources:
        if not (count and specs):
            continue
        rng = random.Random(f"{world.seed}/{source}/history")
        for _ in range(count):
            spec = rng.choice(specs)
            outcome, row, step = draw_outcome(rng, spec, steps(spec))
            queue, total, created = _timing(world, rng, spec, span, active_share)
            make_run(
                world,
                rng,
                spec,
                created,
                outcome=outcome,
                row=row,
                step=step,
                origin="history",
                queue_us=queue,
                total_us=total,
            )


def _timing(
    world: World, rng: random.Random, spec: PipelineSpec | JobSpec, span: int, active_share: float
) -> tuple[int, int, int]:
    """(queue, total duration, creation time) of one history run."""
    queue, total = rng.randint(*spec.queue_us), rng.randint(*spec.duration_us)
    return queue, total, _start(world, rng, span, queue + total, active_share)


def _start(world: World, rng: random.Random, span: int, length: int, active_share: float) -> int:
    """A creation time in the span before clock_start; the active share is still running at clock_start."""
    if rng.random() < active_share:
        return world.clock_start_us - int(rng.random() * 0.95 * length) - 1
    latest = max(world.clock_start_us - span, world.clock_start_us - length - US_PER_S)
    return world.clock_start_us - span + int(rng.random() * max(0, latest - (world.clock_start_us - span)))
