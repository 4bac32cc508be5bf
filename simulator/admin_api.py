"""Admin and introspection endpoints under /_sim/ (no auth, never faulted)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.adf_callback import SCENARIO_KEYS as CALLBACK_SCENARIO_KEYS
from simulator.model import WorkspaceSpec
from simulator.scenarios import BUILTIN_SCENARIOS
from simulator.sql_demo import DEMO_TABLES
from simulator.sql_engine import SqlFailure
from simulator.timefmt import US_PER_S, iso7, to_ms
from simulator.web import json_response, world_of
from simulator.world import SimError, World
from simulator.world.storms import storm_start


def _error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


AdminHandler = Callable[[Request, World], Awaitable[dict[str, Any]]]


def _admin(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """Render bad input (ValueError/KeyError/SimError) as a 400 {"error": ...} instead of a 500."""

    async def run(request: Request) -> Response:
        world = world_of(request)
        world.count_call(f"sim.{request.url.path.rsplit('/', 1)[-1]}")
        try:
            return json_response(await handler(request, world))
        except SimError as exc:
            return _error(exc.message, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(str(exc))

    return run


def clock_info(world: World) -> dict[str, Any]:
    with world.lock:
        now = world.tick()
        return {
            "now": iso7(now),
            "now_ms": to_ms(now),
            "speed": world.clock.speed,
            "clock_start": iso7(world.clock_start_us),
            "offset_seconds": world.clock.offset_us / US_PER_S,
        }


@_admin
async def llm(request: Request, world: World) -> dict[str, Any]:
    """GET: the chat calls received and their bodies; POST {"override": {...}}: fields forced into JSON answers."""
    if request.method == "POST":
        body = await _body(request)
        with world.lock:
            world.llm_override = dict(body.get("override") or {})
    with world.lock:
        return {"calls": world.llm_counter, "override": world.llm_override, "requests": list(world.llm_requests)}


@_admin
async def reset(request: Request, world: World) -> dict[str, Any]:
    body = await _body(request)
    keep_notify = dict(world.notify_config)
    name = body.get("name")
    if name in BUILTIN_SCENARIOS and "factories" not in body and "workspaces" not in body:
        world.reset(name, **{k: v for k, v in body.items() if k != "name"})
    else:
        world.reset(body or "default")
    if "notify" not in body:
        # targets given on the command line survive a reset; the alert shapes and callbacks are the scenario's
        scenario_keys = ("alert_shapes", *CALLBACK_SCENARIO_KEYS)
        world.set_notify({key: value for key, value in keep_notify.items() if key not in scenario_keys})
    return {
        "ok": True,
        "name": world.scenario.get("name"),
        "seed": world.seed,
        "now": clock_info(world)["now"],
        "runs": {"adf": len(world.adf_runs), "databricks": len(world.dbx_runs)},
    }


@_admin
async def advance(request: Request, world: World) -> dict[str, Any]:
    seconds = float((await _body(request)).get("seconds", 0))
    world.advance(seconds)
    return {"advanced_seconds": seconds, **clock_info(world)}


@_admin
async def clock(request: Request, world: World) -> dict[str, Any]:
    if request.method == "POST":
        body = await _body(request)
        if "speed" in body:
            with world.lock:
                world.clock.set_speed(float(body["speed"]))
    return clock_info(world)


@_admin
async def truth(request: Request, world: World) -> dict[str, Any]:
    q = request.query_params
    limit = q.get("limit")
    return world.truth(q.get("source", "adf"), int(q.get("offset") or 0), int(limit) if limit else None)


@_admin
async def reruns(request: Request, world: World) -> dict[str, Any]:
    source = request.query_params.get("source")
    with world.lock:
        items = [dict(r) for r in world.reruns if source in (None, r["source"])]
    return {"count": len(items), "reruns": items}


@_admin
async def faults(request: Request, world: World) -> dict[str, Any]:
    if request.method == "POST":
        body = await _body(request)
        with world.lock:
            world.faults.configure(body)
    return {"faults": dict(world.faults.config), "injected": dict(world.faults.injected)}


@_admin
async def stats(request: Request, world: World) -> dict[str, Any]:
    return world.stats()


@_admin
async def fail(request: Request, world: World) -> dict[str, Any]:
    body = await _body(request)
    source = str(body.get("source"))
    name = body.get("pipeline") if source == "adf" else body.get("job")
    if not name:
        raise ValueError("give 'pipeline' (source adf) or 'job' (source databricks)")
    return world.inject_failure(
        source, name, body.get("corpus_id"), bool(body.get("notify", True)), body.get("step"), body.get("variant")
    )


@_admin
async def storm(request: Request, world: World) -> dict[str, Any]:
    """One cause fails many pipelines or jobs now: {"cause", and optionally "pipelines"/"factory" (ADF) or
    "jobs"/"workspace" (Databricks), "notify"}."""
    return storm_start(world, await _body(request))


@_admin
async def skip(request: Request, world: World) -> dict[str, Any]:
    body = await _body(request)
    source = str(body.get("source"))
    name = body.get("pipeline") if source == "adf" else body.get("job")
    if not name:
        raise ValueError("give 'pipeline' (source adf) or 'job' (source databricks)")
    return world.skip_scheduled(source, str(name), body.get("runs", 1))


@_admin
async def notify(request: Request, world: World) -> dict[str, Any]:
    if request.method == "POST":
        return {"notify": world.set_notify(await _body(request))}
    return {"notify": dict(world.notify_config)}


@_admin
async def notifications(request: Request, world: World) -> dict[str, Any]:
    with world.lock:
        return {"count": len(world.notifications), "notifications": list(world.notifications)}


@_admin
async def scenario(request: Request, world: World) -> dict[str, Any]:
    """The active scenario plus the ids the simulator derived from it (job ids, ARM ids)."""
    with world.lock:
        factories = [
            {
                "subscription_id": f.subscription_id,
                "resource_group": f.resource_group,
                "factory_name": f.name,
                "arm_id": f.arm_id,
                "pipelines": [
                    {"name": p.name, "activities": [a for a, _ in p.activities]} for p in f.pipelines.values()
                ],
            }
            for f in world.factories.values()
        ]
        workspaces = [
            {
                "workspace_id": w.workspace_id,
                "token": w.token,
                "host": w.host,
                "jobs": [{"job_id": j.job_id, "name": j.name, "tasks": list(j.tasks)} for j in w.jobs.values()],
            }
            for w in world.workspaces.values()
        ]
        return {"scenario": world.scenario, "factories": factories, "workspaces": workspaces}


def _sql_workspace(world: World, body: dict[str, Any]) -> WorkspaceSpec:
    wanted = body.get("workspace_id")
    with world.lock:
        spaces = [w for w in world.workspaces.values() if wanted in (None, w.workspace_id)]
    if not spaces:
        raise SimError(404, "NOT_FOUND", f"no workspace {wanted}")
    return spaces[0]


@_admin
async def loads(request: Request, world: World) -> dict[str, Any]:
    """The demo tables' loaders, the problem injected now (if any), the problems so far and the recent loads."""
    with world.lock:
        world.tick()
        return world.loads.snapshot()


@_admin
async def sql(request: Request, world: World) -> dict[str, Any]:
    """Set up a workspace's SQL warehouse tables (default: the first workspace's). POST, each key optional, in this
    order: {"delay_seconds", "chunk_rows", "load_demo": ["main.sales.orders"] | "all", "statements": [Databricks
    SQL, ...], "insert": {"table", "rows": [[...]]}}; answers the tables and the last statement's rows."""
    body = await _body(request) if request.method == "POST" else {}
    ws = _sql_workspace(world, body)
    store = world.sql
    out: dict[str, Any] = {}
    if "delay_seconds" in body:
        store.delay_seconds = max(0.0, float(body["delay_seconds"]))
    if "chunk_rows" in body:
        store.chunk_rows = max(1, int(body["chunk_rows"]))
    try:
        if body.get("load_demo"):
            tables = list(DEMO_TABLES) if body["load_demo"] == "all" else list(body["load_demo"])
            out["loaded"] = store.load_demo(ws, tables)
        for statement in body.get("statements") or []:
            result = store.engine(ws).execute(statement)
            out["columns"], out["rows"] = [c.name for c in result.columns], result.rows
        if body.get("insert"):
            out["inserted"] = store.engine(ws).insert(body["insert"]["table"], body["insert"]["rows"])
    except SqlFailure as exc:
        raise SimError(400, exc.error_class, str(exc)) from None
    return {
        **out,
        "workspace_id": ws.workspace_id,
        "warehouses": [{"id": key, "name": name} for key, name in ws.sql_warehouses.items()],
        "tables": store.engine(ws).tables(),
        "delay_seconds": store.delay_seconds,
        "chunk_rows": store.chunk_rows,
    }


async def inbox_receive(request: Request) -> Response:
    """A stand-in for a Teams Workflows, Slack or webhook receiver: keep what was posted (the demo's notification
    channels point here), answer like the service would (Teams 202, else 200 "ok")."""
    world = world_of(request)
    raw = await request.body()
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", errors="replace")
    name = request.path_params["name"]
    with world.lock:
        world.inbox.append(
            {
                "name": name,
                "at": iso7(world.now_us()),
                "headers": {
                    k: v for k, v in request.headers.items() if k.startswith(("x-aims", "webhook-", "content-type"))
                },
                "body": body,
            }
        )
    return Response("ok", status_code=202 if name == "teams" else 200, media_type="text/plain")


@_admin
async def inbox(request: Request, world: World) -> dict[str, Any]:
    """What was posted to /_sim/inbox/<name>, newest first (?name= filters)."""
    name = request.query_params.get("name")
    with world.lock:
        items = [item for item in reversed(world.inbox) if name in (None, item["name"])]
    return {"count": len(items), "messages": items}


def routes() -> list[Route]:
    return [
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/clock", clock, methods=["GET", "POST"]),
        Route("/_sim/truth", truth, methods=["GET"]),
        Route("/_sim/reruns", reruns, methods=["GET"]),
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/fail", fail, methods=["POST"]),
        Route("/_sim/skip", skip, methods=["POST"]),
        Route("/_sim/storm", storm, methods=["POST"]),
        Route("/_sim/notify", notify, methods=["GET", "POST"]),
        Route("/_sim/notifications", notifications, methods=["GET"]),
        Route("/_sim/scenario", scenario, methods=["GET"]),
        Route("/_sim/llm", llm, methods=["GET", "POST"]),
        Route("/_sim/inbox", inbox, methods=["GET"]),
        Route("/_sim/sql", sql, methods=["GET", "POST"]),
        Route("/_sim/loads", loads, methods=["GET"]),
        Route("/_sim/inbox/{name:str}", inbox_receive, methods=["POST"]),
    ]
