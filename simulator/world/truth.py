"""/_sim/truth: every run as the simulator knows it (planned outcome, corpus row, failed step, repairs), paged, so
tests and benchmarks can compare what AIMS saw with what happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator import adf_errors
from simulator.model import AdfRun, DbxRun, Failure, adf_run_state, dbx_run_state
from simulator.timefmt import iso7, to_ms
from simulator.world.adf_views import is_latest
from simulator.world.errors import SimError

if TYPE_CHECKING:
    from simulator.world.state import World


def truth(world: World, source: str, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
    """One page of a source's runs, oldest first, as of now."""
    with world.lock:
        now = world.tick()
        s = world.seq
        renderers: dict[str, tuple[dict[Any, Any], Callable[[World, Any, int, int], dict[str, Any]]]] = {
            "adf": (world.adf_runs, _adf_truth),
            "databricks": (world.dbx_runs, _dbx_truth),
        }
        if source not in renderers:
            raise SimError(400, "BadRequest", "source must be 'adf' or 'databricks'")
        store, render = renderers[source]
        runs = sorted(store.values(), key=lambda r: r.seq)
        page = runs[offset : offset + limit] if limit is not None else runs[offset:]
        out: dict[str, Any] = {"source": source, "now": iso7(now), "count": len(runs), "offset": offset}
        out["runs"] = [render(world, r, now, s) for r in page]
        end = offset + len(page)
        out["next_offset"] = end if end < len(runs) else None
        return out


def _adf_truth(world: World, run: AdfRun, now: int, s: int) -> dict[str, Any]:
    status, last_updated, end = adf_run_state(run, now, s)
    failure = run.failure if status == "Failed" else None
    return {
        "run_id": run.run_id,
        "factory": run.pipeline.factory.name,
        "pipeline": run.pipeline.name,
        "run_group_id": run.group_id,
        "is_latest": is_latest(world, run, s),
        "origin": run.origin,
        "reference_run_id": run.reference_run_id,
        "status": status,
        "planned_outcome": run.outcome if run.cancel_us is None else "Cancelled",
        "last_updated": iso7(last_updated),
        "run_start": iso7(run.created_us),
        "run_end": iso7(end) if end is not None else None,
        **_failure_truth(failure, [a for a, _ in run.pipeline.activities]),
        # The cause inside an activity error whose message is a whole error object (simulator.adf_errors).
        "specific_error": adf_errors.specific_error(failure.row) if failure else None,
        "specific_error_code": adf_errors.specific_error_code(failure.row) if failure else None,
        "enveloped": adf_errors.is_enveloped(failure.row) if failure else None,
        "failure_type": adf_errors.failure_type(failure.row) if failure else None,
    }


def _dbx_truth(world: World, run: DbxRun, now: int, s: int) -> dict[str, Any]:
    state = dbx_run_state(run, now, s)
    seg = run.segment_at(s)
    failure = seg.failure if state.result_state == "FAILED" else None
    failed_task = next((tr for tr in seg.task_runs if tr.outcome == "FAILED"), None) if failure else None
    repairs = [x for x in run.segments if x.kind == "REPAIR" and x.seq <= s]
    return {
        "run_id": run.run_id,
        "job_id": run.job.job_id,
        "job": run.job.name,
        "workspace_id": run.job.workspace.workspace_id,
        "origin": run.origin,
        "status": state.result_state or state.life_cycle_state,
        "life_cycle_state": state.life_cycle_state,
        "result_state": state.result_state,
        "status_state": state.status_state,
        "termination_code": state.termination["code"] if state.termination else None,
        "planned_outcome": seg.outcome if seg.cancel_us is None else "CANCELED",
        "start_time": to_ms(run.created_us),
        "end_time": to_ms(state.end_us) if state.end_us is not None else 0,
        **_failure_truth(failure, run.job.tasks),
        "failed_task_run_id": failed_task.run_id if failed_task else None,
        "failure_variant": failure.variant if failure else None,
        "repair_count": len(repairs),
        "latest_repair_id": repairs[-1].id if repairs else None,
    }


def _failure_truth(failure: Failure | None, step_names: list[str]) -> dict[str, Any]:
    if failure is None:
        return dict.fromkeys(("specific_error", "error_code", "corpus_id", "label", "should_retry", "failed_step"))
    return {
        "specific_error": failure.row.error_message,
        "error_code": failure.row.error_code,
        "corpus_id": failure.row.id,
        "label": failure.row.label,
        "should_retry": failure.row.should_retry,
        "failed_step": step_names[failure.step],
    }
