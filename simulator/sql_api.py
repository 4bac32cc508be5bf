"""Databricks SQL Statement Execution API 2.0: execute, get, result chunks, cancel - over the world's SQL warehouses.

Shapes follow databricks-sdk's StatementResponse, StatementStatus, ResultManifest and ResultData: a SQL error is a
200 answer whose status is FAILED with the error inside; an unknown warehouse or statement is a 404 error body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.dbx_api import dbx_error, fault_response
from simulator.model import WorkspaceSpec
from simulator.sql_engine import SqlColumn
from simulator.web import bearer_token, json_body, json_response, with_faults, world_of
from simulator.world import SimError, World
from simulator.world.sql import Statement, invalid

API = "/api/2.0/sql/statements"
Handler = Callable[[Request, World, WorkspaceSpec], Awaitable[Any]]


def endpoint(name: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Call counting, the workspace's token, fault injection and error bodies, as for the Jobs API."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            world = world_of(request)
            world.count_call(name)
            ws = world.workspace_for_token(bearer_token(request))
            if ws is None:
                return dbx_error(401, "UNAUTHENTICATED", "Invalid access token.")

            async def handle() -> Response:
                try:
                    return json_response(await handler(request, world, ws), 200)
                except SimError as exc:
                    return dbx_error(exc.status, exc.code, exc.message)

            return await with_faults(
                world,
                "databricks",
                handle,
                error_response=lambda kind: fault_response(world, kind),
                broken_write_body=None,
            )

        return run

    return wrap


def _column(column: SqlColumn, position: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": column.name,
        "position": position,
        "type_name": column.type_name,
        "type_text": column.type_text,
    }
    if column.precision is not None:
        out |= {"type_precision": column.precision, "type_scale": column.scale}
    return out


def _chunk(statement: Statement, index: int) -> dict[str, Any]:
    offset, rows = statement.chunks[index]
    out: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": len(rows), "data_array": rows}
    if index + 1 < len(statement.chunks):
        out["next_chunk_index"] = index + 1
        out["next_chunk_internal_link"] = f"{API}/{statement.statement_id}/result/chunks/{index + 1}"
    return out


def statement_json(statement: Statement) -> dict[str, Any]:
    state = statement.state(time.monotonic())
    out: dict[str, Any] = {"statement_id": statement.statement_id, "status": {"state": state}}
    if state == "FAILED" and statement.failure is not None:
        out["status"]["error"] = {"error_code": "BAD_REQUEST", "message": str(statement.failure)}
        out["status"]["sql_state"] = statement.failure.sql_state
    if state != "SUCCEEDED" or statement.result is None:
        return out
    columns = statement.result.columns
    out["manifest"] = {
        "format": "JSON_ARRAY",
        "schema": {"column_count": len(columns), "columns": [_column(c, i) for i, c in enumerate(columns)]},
        "total_chunk_count": len(statement.chunks),
        "chunks": [
            {"chunk_index": i, "row_offset": offset, "row_count": len(rows)}
            for i, (offset, rows) in enumerate(statement.chunks)
        ],
        "total_row_count": len(statement.result.rows),
        "truncated": statement.truncated,
    }
    out["result"] = _chunk(statement, 0) if statement.chunks else {}
    return out


@endpoint("sql.statements.execute")
async def execute(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    body = await json_body(request, invalid)
    statement_id = world.request_id()
    # DuckDB work runs off the event loop, so other requests (and the pump) carry on meanwhile.
    statement, wait, cancel = await asyncio.to_thread(world.sql.submit, ws, body, statement_id)
    remaining = statement.ready_at - time.monotonic()
    if wait > 0 and remaining > 0:
        await asyncio.sleep(min(wait, remaining))
        if cancel and statement.state(time.monotonic()) in ("PENDING", "RUNNING"):
            world.sql.cancel(ws, statement_id)
    return statement_json(statement)


@endpoint("sql.statements.get")
async def get(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    return statement_json(world.sql.find(ws, request.path_params["statement_id"]))


@endpoint("sql.statements.chunk")
async def chunk(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    statement = world.sql.find(ws, request.path_params["statement_id"])
    state = statement.state(time.monotonic())
    if state != "SUCCEEDED":
        raise SimError(400, "BAD_REQUEST", f"Statement {statement.statement_id} has no result: it is {state}.")
    index = request.path_params["chunk_index"]
    if not 0 <= index < len(statement.chunks):
        raise invalid(f"Chunk index {index} is out of range: the result has {len(statement.chunks)} chunks.")
    return _chunk(statement, index)


@endpoint("sql.statements.cancel")
async def cancel(request: Request, world: World, ws: WorkspaceSpec) -> Any:
    world.sql.cancel(ws, request.path_params["statement_id"])
    return {}


def routes() -> list[Route]:
    return [
        Route(API, execute, methods=["POST"]),
        Route(API + "/{statement_id:str}", get, methods=["GET"]),
        Route(API + "/{statement_id:str}/result/chunks/{chunk_index:int}", chunk, methods=["GET"]),
        Route(API + "/{statement_id:str}/cancel", cancel, methods=["POST"]),
    ]
