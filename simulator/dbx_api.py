"""Databricks Jobs API 2.1/2.2: runs list/get/get-output/repair/cancel, jobs list/get/run-now, well-known probe.

The bearer token selects the workspace; an unknown token is 401 UNAUTHENTICATED. The JSON bodies are shaped in
`simulator.dbx_shapes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.dbx_shapes import job_json, run_json, run_output_json, task_run_as_run
from simulator.model import WorkspaceSpec, segment_state
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


def fault_response(world: World, kind: str) -> Response:
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
                error_response=lambda kind: fault_response(world, kind),
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
