"""Databricks Jobs API 2.1/2.2: runs list/get/get-output/repair/cancel, jobs list/get/run-now, well-known probe.

The bearer token selects the workspace; an unknown token is 401 UNAUTHENTICATED.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.dbx_paging import run_array_page
from simulator.model import DbxRun, DbxState, DbxTaskRun, WorkspaceSpec, segment_state, task_state
from simulator.timefmt import to_ms
from simulator.traces import build_error_trace
from simulator.web import (
    bearer_token,
    decode_token,
    encode_token,
    json_body,
    json_response,
    position_after,
    query_bool,
    query_hash,
    query_int,
    with_faults,
    world_of,
)
from simulator.world import SimError, World

VERSIONS = ("2.1", "2.2")
CREATOR = "aims-sim-sp@example.com"
MAX_LIMIT = 25
_FAKE_ID = str(10**14 + 12345)
# What a truncated/malformed fault on a write cuts in half (the call itself is not run).
BROKEN_WRITE_BODIES = {
    "dbx.runs.repair": '{"repair_id":' + _FAKE_ID + "}",
    "dbx.jobs.run-now": '{"run_id":' + _FAKE_ID + ',"number_in_job":' + _FAKE_ID + "}",
}


def invalid(message: str) -> SimError:
    return SimError(400, "INVALID_PARAMETER_VALUE", message)


def dbx_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error_code": code, "message": message}, status, headers)


def _fault_response(world: World, kind: str) -> Response:
    retry_after = str(world.faults.config["retry_after"])
    if kind == "429":
        message = (
            "Your request was rejected due to API rate limit. Please retry your request later, "
            "or choose a larger time range for your polling frequency."
        )
        return dbx_error(429, "REQUEST_LIMIT_EXCEEDED", message, {"Retry-After": retry_after})
    if kind == "503":
        return dbx_error(
            503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable.", {"Retry-After": retry_after}
        )
    return dbx_error(500, "INTERNAL_ERROR", "Internal error. Please try again later.")


Handler = Callable[[Request, World, WorkspaceSpec], Awaitable[Any]]


def endpoint(name: str, write: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler with version check, call counting, auth, fault injection and error rendering."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            world = world_of(request)
            version = request.path_params.get("version")
            if version not in VERSIONS:
                return dbx_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.url.path}'")
            world.count_call(name)
            ws = world.workspace_for_token(bearer_token(request))
            if ws is None:
                return dbx_error(401, "UNAUTHENTICATED", "Invalid access token.")

            async def handle() -> Response:
                try:
                    body = await handler(request, world, ws)
                except SimError as exc:
                    return dbx_error(exc.status, exc.code, exc.message)
                return json_response(body, 200)

            broken = BROKEN_WRITE_BODIES.get(name, "{}")
            return await with_faults(
                world,
                "databricks",
                handle,
                error_response=lambda kind: _fault_response(world, kind),
                broken_write_body=broken if write else None,
            )

        return run

    return wrap


# ------------------------------------------------------------------------------------------ handlers


@endpoint("dbx.runs.list")
async def runs_list(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    q = request.query_params
    limit = query_int(q.get("limit"), "limit", invalid)
    limit = 20 if limit is None else (MAX_LIMIT if limit == 0 else limit)
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"Invalid limit {limit}: the limit must be between 1 and {MAX_LIMIT}.")
    active_only = bool(query_bool(q.get("active_only"), "active_only", invalid))
    completed_only = bool(query_bool(q.get("completed_only"), "completed_only", invalid))
    if active_only and completed_only:
        raise invalid("active_only and completed_only cannot both be true.")
    expand = bool(query_bool(q.get("expand_tasks"), "expand_tasks", invalid))
    run_type = q.get("run_type")
    filters = {
        "job_id": query_int(q.get("job_id"), "job_id", invalid),
        "active_only": active_only,
        "completed_only": completed_only,
        "start_time_from": query_int(q.get("start_time_from"), "start_time_from", invalid),
        "start_time_to": query_int(q.get("start_time_to"), "start_time_to", invalid),
    }
    qhash = query_hash("runs/list", ws.token, filters, run_type)
    token = q.get("page_token")
    if token:
        t, s, index, last_id = decode_token(token, qhash, invalid)
    else:
        (t, s), index, last_id = world.snapshot_point(), query_int(q.get("offset"), "offset", invalid) or 0, None
    views = [] if run_type not in (None, "", "JOB_RUN") else world.dbx_run_views(ws, filters, t, s)
    ids = [run.run_id for run, _ in views]
    start = position_after(ids, index, last_id) if last_id is not None else min(index, len(views))
    page = views[start : start + limit]
    end = start + len(page)
    version = request.path_params["version"]
    out: dict[str, Any] = {}
    with world.lock:
        runs = [run_json(run, state, t, s, version, expand_tasks=expand) for run, state in page]
    if runs:
        out["runs"] = runs  # omitted entirely when empty, like the service
    out["has_more"] = end < len(views)
    if out["has_more"]:
        out["next_page_token"] = encode_token(t, s, end, ids[end - 1], qhash)
    if start > 0:
        prev = max(0, start - limit)
        out["prev_page_token"] = encode_token(t, s, prev, ids[prev - 1] if prev else None, qhash)
    return out


@endpoint("dbx.runs.get")
async def runs_get(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    q = request.query_params
    run_id = query_int(q.get("run_id"), "run_id", invalid)
    if run_id is None:
        raise invalid("Missing required field: run_id")
    include_history = bool(query_bool(q.get("include_history"), "include_history", invalid))
    version = request.path_params["version"]
    # A page token pins the snapshot of the first page, so later slices belong to the same run state.
    qhash = query_hash("runs/get", ws.token, run_id, include_history)
    token = q.get("page_token")
    if token and version == "2.2":
        t, s, page, _ = decode_token(token, qhash, invalid)
        if page < 1:
            raise invalid("The page token is not valid.")
    else:
        (t, s), page = world.snapshot_point(), 0
    with world.lock:
        if run_id in world.dbx_task_runs and run_id not in world.dbx_runs:
            return task_run_as_run(world.find_dbx_task_run(ws, run_id), t, s)
        run = world.find_dbx_run(ws, run_id)
        out = run_json(run, segment_state(run, run.segment_at(s), t, s), t, s, version, True, include_history, page)
    if out.get("has_more"):
        out["next_page_token"] = encode_token(t, s, page + 1, run_id, qhash)
    return out


@endpoint("dbx.runs.get-output")
async def runs_get_output(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    run_id = query_int(request.query_params.get("run_id"), "run_id", invalid)
    if run_id is None:
        raise invalid("Missing required field: run_id")
    t, s = world.snapshot_point()
    with world.lock:
        tr = world.find_dbx_task_run(ws, run_id)
        return run_output_json(tr, t, s)


@endpoint("dbx.runs.repair", write=True)
async def runs_repair(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    body = await json_body(request, invalid)
    seg = world.dbx_repair(ws, body)
    return {"repair_id": seg.id}


@endpoint("dbx.runs.cancel", write=True)
async def runs_cancel(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    body = await json_body(request, invalid)
    world.dbx_cancel(ws, body.get("run_id"))
    return {}


@endpoint("dbx.jobs.run-now", write=True)
async def jobs_run_now(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    try:
        body = await json_body(request, invalid)
    except SimError as exc:
        params = {"job_id": None, "idempotency_token": None}
        world.record_rejected({"source": "databricks", "kind": "run-now", "job_id": None, "params": params}, exc)
        raise
    run = world.dbx_run_now(ws, body)
    # number_in_job is documented as "set to the same value as run_id".
    return {"run_id": run.run_id, "number_in_job": run.run_id}


@endpoint("dbx.jobs.list")
async def jobs_list(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    jobs = [
        job_json(job, expand=bool(query_bool(request.query_params.get("expand_tasks"), "x", invalid)))
        for job in ws.jobs.values()
    ]
    return {"jobs": jobs, "has_more": False} if jobs else {"has_more": False}


@endpoint("dbx.jobs.get")
async def jobs_get(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    job_id = query_int(request.query_params.get("job_id"), "job_id", invalid)
    job = ws.jobs.get(job_id or -1)
    if job is None:
        raise invalid(f"Job {job_id} does not exist.")
    return job_json(job, expand=True)


async def well_known(request: Request) -> Response:
    # The SDK probes this at construction; an empty object means "no host metadata", and it carries on.
    world_of(request).count_call("dbx.well-known")
    return json_response({}, 200)


# ------------------------------------------------------------------------------------------- shaping


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


def _history_item(run: DbxRun, seg: Any, state: DbxState) -> dict[str, Any]:
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


def job_json(job: Any, expand: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {"name": job.name, "format": "MULTI_TASK", "max_concurrent_runs": 1}
    if job.interval_us > 0:
        minutes = max(1, job.interval_us // 60_000_000)
        settings["schedule"] = {
            "quartz_cron_expression": f"0 0/{minutes} * * * ?",
            "timezone_id": "UTC",
            "pause_status": "UNPAUSED",
        }
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


def routes() -> list[Route]:
    return [
        Route("/.well-known/databricks-config", well_known, methods=["GET"]),
        Route("/api/{version}/jobs/runs/list", runs_list, methods=["GET"]),
        Route("/api/{version}/jobs/runs/get", runs_get, methods=["GET"]),
        Route("/api/{version}/jobs/runs/get-output", runs_get_output, methods=["GET"]),
        Route("/api/{version}/jobs/runs/repair", runs_repair, methods=["POST"]),
        Route("/api/{version}/jobs/runs/cancel", runs_cancel, methods=["POST"]),
        Route("/api/{version}/jobs/run-now", jobs_run_now, methods=["POST"]),
        Route("/api/{version}/jobs/list", jobs_list, methods=["GET"]),
        Route("/api/{version}/jobs/get", jobs_get, methods=["GET"]),
    ]
