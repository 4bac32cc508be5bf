"""Storms in the world: one cause failing many pipelines or jobs at once (simulator.storm_causes), started now by
/_sim/storm or when a scenario schedules one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.storm_causes import STORM_CAUSES
from simulator.world.errors import SimError
from simulator.world.failures import inject_failure

if TYPE_CHECKING:
    from simulator.world.state import World

US_PER_S = 1_000_000


def _targets(world: World, source: str, body: dict[str, Any]) -> list[str]:
    """The pipelines (ADF) or jobs (Databricks) the storm fails: the ones named, or every one of the factory or
    workspace named, or every one of that platform."""
    named = body.get("pipelines") if source == "adf" else body.get("jobs")
    if named:
        if not isinstance(named, list) or not all(isinstance(name, str) and name for name in named):
            raise SimError(400, "BadRequest", "pipelines/jobs must be a list of names")
        return list(named)
    if source == "adf":
        factory = body.get("factory")
        return [
            pipeline.name
            for spec in world.factories.values()
            if not factory or spec.name == factory
            for pipeline in spec.pipelines.values()
        ]
    workspace = body.get("workspace")
    return [
        job.name
        for spec in world.workspaces.values()
        if not workspace or str(spec.workspace_id) == str(workspace)
        for job in spec.jobs.values()
    ]


def storm_start(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Fail every target of the storm now with its cause's error (each run notified like any failure)."""
    cause = body.get("cause")
    row = STORM_CAUSES.get(str(cause))
    if row is None:
        raise SimError(400, "BadRequest", f"cause must be one of {sorted(STORM_CAUSES)}")
    source = row.source_system
    names = _targets(world, source, body)
    if not names:
        raise SimError(400, "BadRequest", "no pipeline or job to fail")
    notify = bool(body.get("notify", True))
    runs = []
    with world.lock:
        for name in names:
            runs.append(inject_failure(world, source, name, row.id, notify))
    return {"cause": cause, "source": source, "count": len(runs), "runs": runs}


def fire_storms(world: World, now: int) -> None:
    """Start the scenario's storms that are due (each once)."""
    for storm in world.storms_due:
        if storm.get("fired") or now < world.clock_start_us + int(storm["after_seconds"] * US_PER_S):
            continue
        storm["fired"] = True
        storm_start(world, storm)
