"""Azure Data Factory (ARM control plane, api-version 2018-06-01): pipeline runs, activity runs, createRun, cancel,
pipelines and triggers.

ARM paths are case-insensitive, so one catch-all route dispatches with case-insensitive regexes. The JSON bodies are
shaped in `simulator.adf_shapes`.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.adf_shapes import activity_run_json, pipeline_run_json
from simulator.model import AdfRun, FactorySpec, adf_run_state
from simulator.schedule_shapes import factory_triggers
from simulator.timefmt import parse_iso
from simulator.web import (
    bearer_token,
    decode_token,
    encode_token,
    json_body,
    json_response,
    position_after,
    query_bool,
    query_hash,
    with_faults,
    world_of,
)
from simulator.world import SimError, World
from simulator.world.adf_views import AdfQuery, AdfRunView

API_VERSION = "2018-06-01"
_FACTORY_RE = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.DataFactory/factories/([^/]+)(/.*)?$", re.I
)
_ROUTES: list[tuple[str, re.Pattern[str], str, bool]] = [
    # (method, pattern on the path after the factory, endpoint name, is_write)
    ("POST", re.compile(r"^/queryPipelineRuns/?$", re.I), "adf.queryPipelineRuns", False),
    ("GET", re.compile(r"^/pipelineruns/([^/]+)/?$", re.I), "adf.getPipelineRun", False),
    ("POST", re.compile(r"^/pipelineruns/([^/]+)/queryActivityruns/?$", re.I), "adf.queryActivityRuns", False),
    ("POST", re.compile(r"^/pipelineruns/([^/]+)/cancel/?$", re.I), "adf.cancelPipelineRun", True),
    ("POST", re.compile(r"^/pipelines/([^/]+)/createRun/?$", re.I), "adf.createRun", True),
    ("GET", re.compile(r"^/pipelines/?$", re.I), "adf.listPipelines", False),
    ("GET", re.compile(r"^/triggers/?$", re.I), "adf.listTriggers", False),
    ("GET", re.compile(r"^/triggers/([^/]+)/?$", re.I), "adf.getTrigger", False),
]
PIPELINE_OPERANDS = {"PipelineName", "Status", "RunStart", "RunEnd", "RunGroupId", "LatestOnly"}
ACTIVITY_OPERANDS = {"ActivityName", "ActivityType", "Status", "ActivityRunStart", "ActivityRunEnd"}
PIPELINE_ORDER = {"RunStart", "RunEnd", "PipelineName", "Status"}
ACTIVITY_ORDER = {"ActivityName", "ActivityRunStart", "ActivityRunEnd", "Status"}
OPERATORS = {"Equals", "NotEquals", "In", "NotIn"}


def bad_request(message: str, target: str | None = None) -> SimError:
    return SimError(400, "BadRequest", message, target)


def cloud_error(
    status: int, code: str, message: str, target: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
        error["details"] = None
    return json_response({"error": error}, status, headers)


def _headers(world: World, write: bool) -> dict[str, str]:
    with world.lock:
        reads = 11999 - world.arm_budget["reads"] % 12000
        writes = 1199 - world.arm_budget["writes"] % 1200
        world.arm_budget["writes" if write else "reads"] += 1
    request_id = world.request_id()
    headers = {
        "x-ms-request-id": request_id,
        "x-ms-correlation-request-id": request_id,
        "x-ms-ratelimit-remaining-subscription-reads": str(reads),
    }
    if write:
        headers["x-ms-ratelimit-remaining-subscription-writes"] = str(writes)
    return headers


def _fault_response(world: World, kind: str, subscription_id: str, headers: dict[str, str]) -> Response:
    retry_after = str(world.faults.config["retry_after"])
    if kind == "429":
        headers = {**headers, "Retry-After": retry_after, "x-ms-ratelimit-remaining-subscription-reads": "0"}
        message = (
            f"Number of 'read' requests for subscription '{subscription_id}' actor "
            f"'00000000-0000-0000-0000-00000000a1b2' exceeded. Please try again after '{retry_after}' seconds."
        )
        return cloud_error(429, "SubscriptionRequestsThrottled", message, headers=headers)
    if kind == "503":
        headers = {**headers, "Retry-After": retry_after}
        return cloud_error(503, "ServiceUnavailable", "The service is temporarily unavailable.", headers=headers)
    return cloud_error(
        500, "InternalServerError", "Encountered internal server error. Please try again.", headers=headers
    )


def _route(rest: str) -> tuple[str, re.Match[str], str, bool] | None:
    """(method, match, endpoint name, is_write) of the route for the path after the factory."""
    for method, pattern, name, write in _ROUTES:
        found = pattern.match(rest)
        if found:
            return method, found, name, write
    return None


async def dispatch(request: Request) -> Response:
    world = world_of(request)
    match = _FACTORY_RE.match(request.url.path)
    route = _route(match.group(4) or "") if match else None
    if match is None or route is None:
        return cloud_error(404, "NotFound", f"No route for {request.method} {request.url.path}")
    method, path_match, endpoint, write = route
    if request.method != method:
        return cloud_error(405, "MethodNotAllowed", f"{request.method} is not allowed on this resource")
    world.count_call(endpoint)
    headers = _headers(world, write)
    sub, rg, factory_name = match.group(1), match.group(2), match.group(3)
    if bearer_token(request) is None:
        return cloud_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers=headers,
        )
    version = request.query_params.get("api-version")
    if not version:
        return cloud_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            headers=headers,
        )
    if version != API_VERSION:
        return cloud_error(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{API_VERSION}'.",
            headers=headers,
        )

    async def handle() -> Response:
        try:
            factory = world.find_factory(sub, rg, factory_name)
            body = await _HANDLERS[endpoint](request, world, factory, path_match.groups())
        except SimError as exc:
            return cloud_error(exc.status, exc.code, exc.message, exc.target, headers)
        return json_response(body, 200, headers)

    broken = None
    if write:
        broken = '{"runId":"' + world.request_id() + '"}' if endpoint == "adf.createRun" else '{"status":"Cancelling"}'
    return await with_faults(
        world,
        "adf",
        handle,
        error_response=lambda kind: _fault_response(world, kind, sub, headers),
        broken_write_body=broken,
    )


# ------------------------------------------------------------------------------------------ parsing


def parse_filter_body(body: dict[str, Any], operands: set[str], order_fields: set[str]) -> AdfQuery:
    for field in ("lastUpdatedAfter", "lastUpdatedBefore"):
        if not body.get(field):
            raise bad_request(f"The request body is invalid: '{field}' is required.", "filterParameters")
    try:
        after, before = parse_iso(str(body["lastUpdatedAfter"])), parse_iso(str(body["lastUpdatedBefore"]))
    except ValueError as exc:
        raise bad_request(f"The request body is invalid: {exc}", "filterParameters") from None
    filters = []
    for flt in body.get("filters") or []:
        if not isinstance(flt, dict) or not {"operand", "operator", "values"} <= set(flt):
            raise bad_request("Each filter needs 'operand', 'operator' and 'values'.", "filterParameters")
        operand, operator, values = flt["operand"], flt["operator"], flt["values"]
        if operand not in operands:
            raise bad_request(f"Filter operand '{operand}' is not supported for this query.", "filterParameters")
        if operator not in OPERATORS:
            raise bad_request(f"Filter operator '{operator}' is not supported.", "filterParameters")
        if not isinstance(values, list):
            raise bad_request("Filter 'values' must be an array.", "filterParameters")
        if operand == "RunGroupId" and len(values) != 1:
            # The real service's message, typo included.
            raise bad_request("Filter operand 'RunGroupId' does not support and array of values.", "filterParameters")
        if operand in ("RunStart", "RunEnd", "ActivityRunStart", "ActivityRunEnd"):
            try:
                values = [parse_iso(str(v)) for v in values]
            except ValueError as exc:
                raise bad_request(f"Invalid date in filter {operand}: {exc}", "filterParameters") from None
        filters.append((operand, operator, values))
    order = []
    for item in body.get("orderBy") or []:
        fld, direction = (item or {}).get("orderBy"), str((item or {}).get("order", "")).upper()
        if fld not in order_fields or direction not in ("ASC", "DESC"):
            raise bad_request(f"Invalid orderBy {item!r}.", "filterParameters")
        order.append((fld, direction == "DESC"))
    return AdfQuery(after, before, filters, order)


def _page(
    world: World, views: list[Any], ids: list[str], qhash: str, start: int, t: int, s: int
) -> tuple[list[Any], str | None]:
    size = world.adf_page_size
    page = views[start : start + size]
    end = start + len(page)
    token = encode_token(t, s, end, ids[end - 1], qhash) if end < len(views) else None
    return page, token


def _snapshot(world: World, body: dict[str, Any], qhash: str) -> tuple[int, int, int, Any]:
    token = body.get("continuationToken")
    if token:
        return decode_token(str(token), qhash, bad_request)
    t, s = world.snapshot_point()
    return t, s, 0, None


# ----------------------------------------------------------------------------------------- handlers


async def query_pipeline_runs(request: Request, world: World, factory: FactorySpec, _: tuple[str, ...]) -> Any:
    body = await json_body(request, bad_request)
    query = parse_filter_body(body, PIPELINE_OPERANDS, PIPELINE_ORDER)
    qhash = query_hash("pipelineRuns", factory.key, query.signature())
    t, s, index, last_id = _snapshot(world, body, qhash)
    views = world.adf_run_views(factory, query, t, s)
    ids = [v[0].run_id for v in views]
    start = position_after(ids, index, last_id) if last_id is not None else 0
    page, token = _page(world, views, ids, qhash, start, t, s)
    return {"value": [pipeline_run_json(v) for v in page], "continuationToken": token}


async def get_pipeline_run(request: Request, world: World, factory: FactorySpec, groups: tuple[str, ...]) -> Any:
    t, s = world.snapshot_point()
    with world.lock:
        run = world.find_adf_run(factory, groups[0])
        return pipeline_run_json(_view(world, run, t, s))


async def query_activity_runs(request: Request, world: World, factory: FactorySpec, groups: tuple[str, ...]) -> Any:
    body = await json_body(request, bad_request)
    query = parse_filter_body(body, ACTIVITY_OPERANDS, ACTIVITY_ORDER)
    with world.lock:
        run = world.find_adf_run(factory, groups[0])
    qhash = query_hash("activityRuns", run.run_id, query.signature())
    t, s, index, last_id = _snapshot(world, body, qhash)
    views = world.adf_activity_views(run, query, t, s)
    ids = [v[0].activity_run_id for v in views]
    start = position_after(ids, index, last_id) if last_id is not None else 0
    page, token = _page(world, views, ids, qhash, start, t, s)
    return {"value": [activity_run_json(run, *v) for v in page], "continuationToken": token}


async def create_run(request: Request, world: World, factory: FactorySpec, groups: tuple[str, ...]) -> Any:
    params = request.query_params
    body = await json_body(request, bad_request)
    run = world.adf_create_run(
        factory,
        groups[0],
        reference_run_id=params.get("referencePipelineRunId"),
        is_recovery=bool(query_bool(params.get("isRecovery"), "isRecovery", bad_request)),
        start_activity_name=params.get("startActivityName"),
        start_from_failure=bool(query_bool(params.get("startFromFailure"), "startFromFailure", bad_request)),
        parameters=body,
    )
    return {"runId": run.run_id}


async def cancel_run(request: Request, world: World, factory: FactorySpec, groups: tuple[str, ...]) -> Any:
    recursive = bool(query_bool(request.query_params.get("isRecursive"), "isRecursive", bad_request))
    world.adf_cancel(factory, groups[0], recursive)
    return None  # 200 with no body, like the service


async def list_pipelines(request: Request, world: World, factory: FactorySpec, _: tuple[str, ...]) -> Any:
    value = []
    for p in factory.pipelines.values():
        value.append(
            {
                "id": f"{factory.arm_id}/pipelines/{p.name}",
                "name": p.name,
                "type": "Microsoft.DataFactory/factories/pipelines",
                "properties": {
                    "activities": [{"name": name, "type": kind, "dependsOn": []} for name, kind in p.activities],
                    "parameters": {k: {"type": "String", "defaultValue": v} for k, v in p.parameters.items()},
                    "annotations": [],
                },
                "etag": f"{abs(hash(p.name)) % 10**8:08d}-0000-0100-0000-000000000000",
            }
        )
    return {"value": value}


async def list_triggers(request: Request, world: World, factory: FactorySpec, _: tuple[str, ...]) -> Any:
    """A page of the factory's triggers; `nextLink` carries the offset (a world's triggers never change)."""
    with world.lock:
        triggers = factory_triggers(factory)
    raw = request.query_params.get("$skipToken") or "0"
    if not raw.isdigit():
        raise bad_request(f"Invalid $skipToken {raw!r}.")
    start = int(raw)
    end = start + world.adf_page_size
    body: dict[str, Any] = {"value": triggers[start:end]}
    if end < len(triggers):
        # ARM writes `$skipToken` with its dollar as it is.
        body["nextLink"] = str(request.url.replace(query=f"api-version={API_VERSION}&$skipToken={end}"))
    return body


async def get_trigger(request: Request, world: World, factory: FactorySpec, groups: tuple[str, ...]) -> Any:
    with world.lock:
        triggers = factory_triggers(factory)
    for trigger in triggers:
        if str(trigger["name"]).casefold() == groups[0].casefold():
            return trigger
    raise SimError(404, "NotFound", f"Trigger '{groups[0]}' not found in factory '{factory.name}'.")


_HANDLERS = {
    "adf.queryPipelineRuns": query_pipeline_runs,
    "adf.getPipelineRun": get_pipeline_run,
    "adf.queryActivityRuns": query_activity_runs,
    "adf.cancelPipelineRun": cancel_run,
    "adf.createRun": create_run,
    "adf.listPipelines": list_pipelines,
    "adf.listTriggers": list_triggers,
    "adf.getTrigger": get_trigger,
}


def _view(world: World, run: AdfRun, t: int, s: int) -> AdfRunView:
    status, last_updated, end = adf_run_state(run, t, s)
    return (run, status, last_updated, end, world.is_latest(run, s))


def routes() -> list[Route]:
    return [Route("/subscriptions/{path:path}", dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])]
