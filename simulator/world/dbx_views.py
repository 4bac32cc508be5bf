"""Databricks reads: the workspace a token selects, run and task-run lookups, and runs/list as of a snapshot."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulator.model import DbxRun, DbxState, DbxTaskRun, WorkspaceSpec, dbx_run_state
from simulator.timefmt import to_ms
from simulator.world.errors import SimError

if TYPE_CHECKING:
    from simulator.world.state import World


def workspace_for_token(world: World, token: str | None) -> WorkspaceSpec | None:
    return world.workspaces.get(token or "")


def find_dbx_run(world: World, ws: WorkspaceSpec, run_id: Any) -> DbxRun:
    run = world.dbx_runs.get(as_int(run_id))
    if run is None or run.job.workspace is not ws:
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")
    return run


def find_dbx_task_run(world: World, ws: WorkspaceSpec, run_id: Any) -> DbxTaskRun:
    rid = as_int(run_id)
    tr = world.dbx_task_runs.get(rid)
    if tr is not None and tr.job_run.job.workspace is ws:
        return tr
    if rid in world.dbx_runs and world.dbx_runs[rid].job.workspace is ws:
        raise SimError(
            400,
            "INVALID_PARAMETER_VALUE",
            "Retrieving the output of runs with multiple tasks is not supported. "
            "Please retrieve the output of each individual task run instead.",
        )
    raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")


def dbx_run_views(
    world: World, ws: WorkspaceSpec, filters: dict[str, Any], t: int, s: int
) -> list[tuple[DbxRun, DbxState]]:
    """Runs of a workspace as of (t, s): active ones first (newest start first), then by end time, newest first."""
    key = ("dbx", ws.token, json.dumps(filters, sort_keys=True), t, s)
    with world.lock:
        return world.cached(key, lambda: _dbx_views(world, ws, filters, t, s))


def _dbx_views(
    world: World, ws: WorkspaceSpec, filters: dict[str, Any], t: int, s: int
) -> list[tuple[DbxRun, DbxState]]:
    job_id = filters.get("job_id")
    start_from, start_to = filters.get("start_time_from"), filters.get("start_time_to")
    views = []
    for run in world.dbx_by_workspace[ws.token]:
        if run.seq > s or run.created_us > t:
            continue
        if job_id is not None and run.job.job_id != job_id:
            continue
        start_ms = to_ms(run.created_us)
        if (start_from is not None and start_ms < start_from) or (start_to is not None and start_ms > start_to):
            continue
        state = dbx_run_state(run, t, s)
        if filters.get("active_only") and not state.active:
            continue
        if filters.get("completed_only") and state.active:
            continue
        views.append((run, state))

    def order(view: tuple[DbxRun, DbxState]) -> tuple[int, int, int]:
        run, state = view
        if state.active or state.end_us is None:
            return (1, run.created_us, run.run_id)
        return (0, state.end_us, run.run_id)

    views.sort(key=order, reverse=True)
    return views


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Invalid run id: {value!r}") from None
