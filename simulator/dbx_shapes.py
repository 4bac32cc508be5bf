"""Databricks Jobs JSON shapes: a run (with its tasks, repair history and 2.2 paging), a task run, a run's output and
a job, as the service returns them."""

from __future__ import annotations

from typing import Any

from simulator.dbx_paging import run_array_page
from simulator.model import DbxRun, DbxSegment, DbxState, DbxTaskRun, JobSpec, segment_state, task_state
from simulator.schedule_shapes import job_schedule
from simulator.timefmt import to_ms
from simulator.traces import build_error_trace

CREATOR = "aims-sim-sp@example.com"


def _page_url(run: DbxRun, run_id: int) -> str:
    ws = run.job.workspace
    return f"{ws.host}/?o={ws.workspace_id}#job/{run.job.job_id}/run/{run_id}"


def run_json(
    run: DbxRun,
    state: DbxState,
    t: int,
    s: int,
    version: str,
    expand_tasks: bool = False,
    include_history: bool = False,
    page: int = 0,
) -> dict[str, Any]:
    end = to_ms(state.end_us) if state.end_us is not None else 0
    start = to_ms(run.created_us)
    out: dict[str, Any] = {
        "job_id": run.job.job_id,
        "run_id": run.run_id,
        "creator_user_name": CREATOR,
        "number_in_job": run.run_id,
        "original_attempt_run_id": run.run_id,
        "state": state.legacy(),
        "status": state.status(),
        "start_time": start,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "end_time": end,
        "run_duration": end - start if end else 0,
        "queue_duration": 0,
        "trigger": run.trigger,
        "run_name": run.job.name,
        "run_page_url": _page_url(run, run.run_id),
        "run_type": "JOB_RUN",
        "attempt_number": 0,
        "format": "MULTI_TASK",
        "job_run_id": run.run_id,
        "job_parameters": [dict(p) for p in run.job_parameters],
    }
    if expand_tasks:
        out["tasks"] = [task_json(tr, t, s) for tr in run.tasks_at(s)]
        out["job_clusters"] = [
            {
                "job_cluster_key": "etl_cluster",
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "Standard_DS3_v2",
                    "num_workers": 2,
                },
            }
        ]
    if include_history:
        out["repair_history"] = [_history_item(run, seg, segment_state(run, seg, t, s)) for seg in run.segments_at(s)]
    if version == "2.2":
        return run_array_page(out, page)
    return out


def _history_item(run: DbxRun, seg: DbxSegment, state: DbxState) -> dict[str, Any]:
    return {
        "id": seg.id,
        "type": seg.kind,
        "start_time": to_ms(seg.requested_us),
        "end_time": to_ms(state.end_us) if state.end_us is not None else 0,
        "state": state.legacy(),
        "status": state.status(),
        "task_run_ids": [tr.run_id for tr in seg.task_runs],
    }


def _task_timing(tr: DbxTaskRun, state: DbxState) -> dict[str, int]:
    started = state.life_cycle_state not in ("PENDING", "BLOCKED", "SKIPPED")
    start = to_ms(tr.start_us) if started else 0
    end = to_ms(state.end_us) if state.end_us is not None else 0
    total = end - start if (end and start) else 0
    setup = total // 5 if tr.start_us == tr.segment.start_us else min(1000, total // 10)
    return {
        "start_time": start,
        "end_time": end,
        "setup_duration": setup,
        "execution_duration": total - setup,
        "cleanup_duration": 0,
        "run_duration": total,
        "queue_duration": 0,
    }


def task_json(tr: DbxTaskRun, t: int, s: int) -> dict[str, Any]:
    state = task_state(tr, t, s)
    run = tr.job_run
    out: dict[str, Any] = {"task_key": tr.task_key, "run_id": tr.run_id, "attempt_number": tr.attempt}
    if tr.index > 0:
        out["depends_on"] = [{"task_key": run.job.tasks[tr.index - 1]}]
        out["run_if"] = "ALL_SUCCESS"
    out.update(
        {
            "job_cluster_key": "etl_cluster",
            "notebook_task": {"notebook_path": f"/Repos/etl/{tr.task_key}", "source": "WORKSPACE"},
            "state": state.legacy(),
            "status": state.status(),
            **_task_timing(tr, state),
            "run_page_url": _page_url(run, tr.run_id),
        }
    )
    if out["start_time"]:
        out["cluster_instance"] = {"cluster_id": run.cluster_id, "spark_context_id": run.spark_context_id}
    return out


def task_run_as_run(tr: DbxTaskRun, t: int, s: int) -> dict[str, Any]:
    """A task run in the `Run` shape, as used for runs/get on a task run id and get-output's metadata."""
    state = task_state(tr, t, s)
    run = tr.job_run
    task = task_json(tr, t, s)
    out = {
        "job_id": run.job.job_id,
        "run_id": tr.run_id,
        "job_run_id": run.run_id,
        "parent_run_id": run.run_id,
        "number_in_job": tr.run_id,
        "original_attempt_run_id": tr.run_id,
        "creator_user_name": CREATOR,
        "task_key": tr.task_key,
        "attempt_number": tr.attempt,
        "state": state.legacy(),
        "status": state.status(),
        **_task_timing(tr, state),
        "trigger": run.trigger,
        "run_name": run.job.name,
        "run_page_url": task["run_page_url"],
        "run_type": "JOB_RUN",
        "format": "MULTI_TASK",
        "notebook_task": task["notebook_task"],
        "tasks": [task],
    }
    if "cluster_instance" in task:
        out["cluster_instance"] = task["cluster_instance"]
    return out


def run_output_json(tr: DbxTaskRun, t: int, s: int) -> dict[str, Any]:
    state = task_state(tr, t, s)
    out: dict[str, Any] = {"metadata": task_run_as_run(tr, t, s)}
    failure = tr.failure
    if state.result_state == "FAILED" and failure is not None:
        row = failure.row
        # standard: both fields; trace_only: only the trace; cluster: neither (the task's state_message has it).
        if failure.variant == "standard":
            out["error"] = row.error_message
        if failure.variant in ("standard", "trace_only"):
            out["error_trace"] = build_error_trace(row.error_message, tr.task_key, tr.run_id)
    elif state.result_state == "SUCCESS":
        out["notebook_output"] = {}
    return out


def job_json(job: JobSpec, expand: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {"name": job.name, "format": "MULTI_TASK", "max_concurrent_runs": 1}
    schedule = job_schedule(job)
    if schedule is not None:
        settings["schedule"] = schedule
    if expand:
        settings["tasks"] = [
            {
                "task_key": key,
                **({"depends_on": [{"task_key": job.tasks[i - 1]}]} if i else {}),
                "job_cluster_key": "etl_cluster",
                "notebook_task": {"notebook_path": f"/Repos/etl/{key}", "source": "WORKSPACE"},
            }
            for i, key in enumerate(job.tasks)
        ]
    return {
        "job_id": job.job_id,
        "creator_user_name": CREATOR,
        "run_as_user_name": CREATOR,
        "settings": settings,
        "created_time": 1700000000000,
    }
