"""ServiceNow Table API: `incident` (create, get, update, list) and `sys_journal_field` (list).

Basic auth as the integration user (simulator.snow_schema); errors are ServiceNow's
{"error": {"message", "detail"}, "status": "failure"}. State lives in `world.servicenow`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.snow_query import QueryError, parse_query
from simulator.snow_schema import API_PASSWORD, API_USER, FIELDS, JOURNAL_COLUMNS, render
from simulator.web import basic_credentials, json_response, with_faults, world_of
from simulator.world import World
from simulator.world.servicenow import SnowError, SnowInstance

DEFAULT_LIMIT = 10000
Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[Request, World, SnowInstance], Awaitable[Reply]]
BROKEN_WRITE_BODY = '{"result":{"sys_id":"00000000000000000000000000000000","number":"INC0000000","state":"1"}}'


def snow_error(status: int, message: str, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": {"message": message, "detail": detail}, "status": "failure"}, status, headers)


def fault_response(world: World, kind: str) -> Response:
    retry_after = str(world.faults.config["retry_after"])
    if kind == "429":
        return snow_error(
            429, "Too Many Requests", f"Rate limit exceeded for user {API_USER}", {"Retry-After": retry_after}
        )
    if kind == "503":
        return snow_error(503, "Service Unavailable", "The instance is unavailable", {"Retry-After": retry_after})
    return snow_error(500, "Internal Server Error", "An unexpected error occurred")


def authenticated(request: Request) -> bool:
    return basic_credentials(request) == (API_USER, API_PASSWORD)


def endpoint(name: str, write: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Call counting, auth, fault injection and ServiceNow's error rendering around a handler."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            world = world_of(request)
            world.count_call(name)
            if not authenticated(request):
                return snow_error(401, "User Not Authenticated", "Required to provide Auth information")

            # Read the body now: a `slow` fault answers after the client gave up, and the write must still apply.
            await request.body()

            async def handle() -> Response:
                try:
                    status, body, headers = await handler(request, world, world.servicenow)
                except SnowError as exc:
                    return snow_error(exc.status, exc.message, exc.detail)
                return json_response(body, status, headers)

            return await with_faults(
                world,
                "servicenow",
                handle,
                error_response=lambda kind: fault_response(world, kind),
                broken_write_body=BROKEN_WRITE_BODY if write else None,
            )

        return run

    return wrap


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise SnowError(400, "Exception while reading request", "The payload is not valid JSON.") from None


def _display_mode(request: Request) -> str:
    mode = (request.query_params.get("sysparm_display_value") or "false").lower()
    if mode not in ("true", "false", "all"):
        raise SnowError(400, "Invalid sysparm_display_value", "sysparm_display_value must be true, false or all")
    return mode


def _fields(request: Request) -> list[str] | None:
    raw = request.query_params.get("sysparm_fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SnowError(400, f"Invalid {name}", f"{name} must be a whole number") from None
    if value < 0:
        raise SnowError(400, f"Invalid {name}", f"{name} must not be negative")
    return value


def _page(request: Request, rows: list[dict[str, str]], columns: tuple[str, ...]) -> Reply:
    """One page of rows with X-Total-Count and a Link header (first, prev, next, last) like the Table API."""
    mode = _display_mode(request)
    fields = _fields(request)
    limit = max(1, _int(request, "sysparm_limit", DEFAULT_LIMIT))
    offset = _int(request, "sysparm_offset", 0)
    try:
        found = parse_query(request.query_params.get("sysparm_query"), columns).apply(rows)
    except QueryError as exc:
        raise SnowError(400, "Invalid query", str(exc)) from None
    page = found[offset : offset + limit]
    total = len(found)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("sysparm_offset", "sysparm_limit")]
    base = str(request.url.replace(query="")).rstrip("?")

    def link(at: int, rel: str) -> str:
        query = urllib.parse.urlencode([*params, ("sysparm_limit", str(limit)), ("sysparm_offset", str(at))])
        return f'<{base}?{query}>;rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = [link(0, "first")]
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    headers = {"X-Total-Count": str(total), "Link": ",".join(links)}
    return 200, {"result": [render(row, fields, mode) for row in page]}, headers


# ------------------------------------------------------------------------------------------ handlers


@endpoint("servicenow.incident.create", write=True)
async def incident_create(request: Request, world: World, snow: SnowInstance) -> Reply:
    body = await _json(request)
    with world.lock:
        record = snow.create(world, body)
        location = f"{str(request.url).rstrip('/')}/{record['sys_id']}"
        return 201, {"result": render(record, _fields(request), _display_mode(request))}, {"Location": location}


@endpoint("servicenow.incident.get")
async def incident_get(request: Request, world: World, snow: SnowInstance) -> Reply:
    with world.lock:
        record = snow.find(request.path_params["sys_id"])
        return 200, {"result": render(record, _fields(request), _display_mode(request))}, {}


@endpoint("servicenow.incident.update", write=True)
async def incident_update(request: Request, world: World, snow: SnowInstance) -> Reply:
    body = await _json(request)
    with world.lock:
        record = snow.update(world, snow.find(request.path_params["sys_id"]), body)
        return 200, {"result": render(record, _fields(request), _display_mode(request))}, {}


@endpoint("servicenow.incident.list")
async def incident_list(request: Request, world: World, snow: SnowInstance) -> Reply:
    with world.lock:
        rows = [dict(r) for r in snow.incidents.values()]
        return _page(request, rows, FIELDS)


@endpoint("servicenow.journal.list")
async def journal_list(request: Request, world: World, snow: SnowInstance) -> Reply:
    with world.lock:
        return _page(request, [dict(j) for j in snow.journal], JOURNAL_COLUMNS)


def routes() -> list[Route]:
    base = "/api/now/table"
    return [
        Route(f"{base}/incident", incident_create, methods=["POST"]),
        Route(f"{base}/incident", incident_list, methods=["GET"]),
        Route(f"{base}/incident/{{sys_id}}", incident_get, methods=["GET"]),
        Route(f"{base}/incident/{{sys_id}}", incident_update, methods=["PATCH", "PUT"]),
        Route(f"{base}/sys_journal_field", journal_list, methods=["GET"]),
    ]
