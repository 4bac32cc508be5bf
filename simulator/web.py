"""HTTP plumbing shared by the platform APIs: JSON responses, query parsing, page tokens, fault rendering."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulator.world import SimError, World

JSON_TYPE = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = "" if body is None else json.dumps(body, separators=(",", ":"))
    media = JSON_TYPE if body is not None else None
    return Response(text, status_code=status, headers=headers, media_type=media)


def world_of(request: Request) -> World:
    return request.app.state.world


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header, or None when there is none or it is malformed."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def query_bool(value: str | None, name: str, error: Callable[[str], SimError]) -> bool | None:
    """Booleans arrive as "true"/"false" strings in query parameters."""
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise error(f"Invalid value for {name}: {value!r} (expected true or false)")


def query_int(value: str | None, name: str, error: Callable[[str], SimError]) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise error(f"Invalid value for {name}: {value!r} (expected an integer)") from None


async def json_body(request: Request, error: Callable[[str], SimError]) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise error("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise error("The request body must be a JSON object.")
    return body


# ------------------------------------------------------------------------------------------ page tokens


def query_hash(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(t: int, s: int, index: int, last_id: Any, qhash: str) -> str:
    """Opaque token = the frozen snapshot (sim time t, world sequence s) plus the position in its ordering."""
    raw = json.dumps({"v": 1, "t": t, "s": s, "i": index, "r": last_id, "q": qhash}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, qhash: str, error: Callable[[str], SimError]) -> tuple[int, int, int, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        t, s, index, last_id, got_hash = int(data["t"]), int(data["s"]), int(data["i"]), data["r"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise error("The continuation token is not valid.") from None
    if got_hash != qhash:
        raise error("The continuation token does not belong to this query; repeat the same filters with it.")
    return t, s, index, last_id


def position_after(ids: list[Any], index: int, last_id: Any) -> int:
    """Resume position: the snapshot is deterministic, so `index` normally matches; fall back to the id."""
    if 0 < index <= len(ids) and ids[index - 1] == last_id:
        return index
    try:
        return ids.index(last_id) + 1
    except ValueError:
        return min(index, len(ids))


# --------------------------------------------------------------------------------------------- faults

Handler = Callable[[], Awaitable[Response]]


async def with_faults(
    world: World,
    source: str,
    handler: Handler,
    *,
    error_response: Callable[[str], Response],
    broken_write_body: str | None,
) -> Response:
    """Run `handler` unless the fault injector decides otherwise.

    429/500/503 never reach the handler, so they cannot change state. For write endpoints
    (broken_write_body given) truncated/malformed answers are synthesised without running the handler either.
    `lost` and `dropped` run the handler (a write is applied) and then lose its answer: a 500, or a connection that
    drops after the status line.
    """
    with world.lock:
        kind = world.faults.decide(source)
        slow = float(world.faults.config["slow_seconds"])
    if kind in ("429", "500", "503"):
        return error_response(kind)
    if kind == "slow":
        await asyncio.sleep(slow)
    if kind in ("truncated", "malformed") and broken_write_body is not None:
        text = broken_write_body[: max(1, len(broken_write_body) // 2)] if kind == "truncated" else '{"value": [ ,,'
        return Response(text, status_code=200, media_type=JSON_TYPE)
    response = await handler()
    if kind == "lost":
        return error_response("500")
    if kind == "dropped":
        return DroppedResponse()
    if kind == "truncated":
        body = bytes(response.body)
        return Response(body[: max(1, len(body) // 2)], status_code=200, media_type=JSON_TYPE, headers=_extra(response))
    if kind == "malformed":
        return Response('{"value": [ ,,', status_code=200, media_type=JSON_TYPE, headers=_extra(response))
    return response


class DroppedResponse(Response):
    """Announces a body, sends the status line and headers, then returns: uvicorn closes the connection, so the
    client sees the answer cut off (requests raises ChunkedEncodingError/ConnectionError)."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200, media_type=JSON_TYPE)
        self.headers["content-length"] = "64"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})


def _extra(response: Response) -> dict[str, str]:
    skip = {"content-length", "content-type"}
    return {k: v for k, v in response.headers.items() if k.lower() not in skip}
