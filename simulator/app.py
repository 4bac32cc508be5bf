"""Starlette application: all routes plus a background pump that advances the world and sends notifications."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import adf_api, admin_api, dbx_api, dbx_pages, jira_api, llm_api, servicenow_api, sql_api, tickets_admin
from simulator.notify import Outgoing, post_json
from simulator.web import json_response
from simulator.world import World

log = logging.getLogger("simulator")
PUMP_INTERVAL_SECONDS = 0.05


async def _deliver(world: World, item: Outgoing) -> None:
    try:
        status = await asyncio.to_thread(post_json, item.url, item.payload, item.headers, item.body)
        world.record_delivery(item, status, None)
    except Exception as exc:  # noqa: BLE001 - any delivery problem is counted, never fatal
        world.record_delivery(item, None, f"{type(exc).__name__}: {exc}")


async def _pump(world: World, pending: set[asyncio.Task[Any]]) -> None:
    """Tick the clock so scheduled runs and failure notifications happen even when nobody calls the APIs."""
    while True:
        try:
            world.tick()
            for item in world.take_outbox():
                task = asyncio.create_task(_deliver(world, item))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except Exception:
            log.exception("simulator pump failed")
        await asyncio.sleep(PUMP_INTERVAL_SECONDS)


async def _not_found(request: Request, exc: Exception) -> Response:
    return json_response({"error": f"no route for {request.method} {request.url.path}"}, 404)


async def _health(request: Request) -> Response:
    return json_response({"ok": True})


def build_app(world: World) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pending: set[asyncio.Task[Any]] = set()
        pump = asyncio.create_task(_pump(world, pending))
        try:
            yield
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            if pending:
                await asyncio.wait(pending, timeout=1.0)

    routes = [
        Route("/_sim/health", _health, methods=["GET"]),
        *admin_api.routes(),
        *tickets_admin.routes(),
        *jira_api.routes(),
        *servicenow_api.routes(),
        *dbx_api.routes(),
        *dbx_pages.routes(),
        *sql_api.routes(),
        *llm_api.routes(),
        *adf_api.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: _not_found})
    app.state.world = world
    return app
