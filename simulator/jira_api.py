"""Jira Cloud REST v3 (issues, transitions, comments, enhanced JQL search) and admin webhooks (/rest/webhooks/1.0).

Basic auth with the API account's `email:api_token` (simulator.jira_workflows); errors are Jira's
{"errorMessages": [...], "errors": {field: message}}. State lives in `world.jira` (simulator.world.jira).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.jira_shapes import comment_json, issue_json
from simulator.jira_workflows import API_ACCOUNT_ID, API_EMAIL, API_TOKEN, CATEGORIES
from simulator.web import (
    basic_credentials,
    decode_token,
    encode_token,
    json_response,
    query_hash,
    with_faults,
    world_of,
)
from simulator.world import SimError, World
from simulator.world.jira import JiraError, JiraSite

PAGE_MAX = 100
RATE_LIMIT = 100
Reply = tuple[int, Any]
Handler = Callable[[Request, World, JiraSite], Awaitable[Reply]]
BROKEN_WRITE_BODIES = {
    "jira.issue.create": '{"id":"10000","key":"OPS-0","self":"http://127.0.0.1/rest/api/3/issue/10000"}'
}


def jira_error(
    status: int, messages: list[str], errors: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Response:
    return json_response({"errorMessages": messages, "errors": errors or {}}, status, headers)


def fault_response(world: World, kind: str) -> Response:
    retry_after = str(world.faults.config["retry_after"])
    if kind == "429":
        reset = (datetime.now(UTC) + timedelta(seconds=int(retry_after))).strftime("%Y-%m-%dT%H:%MZ")
        headers = {
            "Retry-After": retry_after,
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
            "RateLimit-Reason": "jira-burst-based",
        }
        return jira_error(429, ["Rate limit exceeded."], headers=headers)
    if kind == "503":
        return jira_error(503, ["Service unavailable. Please try again later."], headers={"Retry-After": retry_after})
    return jira_error(500, ["Internal server error"])


def authenticated(request: Request) -> bool:
    return basic_credentials(request) == (API_EMAIL, API_TOKEN)


def endpoint(name: str, write: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Call counting, auth, fault injection and Jira's error rendering around a handler."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            world = world_of(request)
            world.count_call(name)
            if not authenticated(request):
                return jira_error(
                    401, ["You are not authenticated. Authentication required to perform this operation."]
                )

            # Read the body now: a `slow` fault answers after the client gave up, and the write must still apply.
            await request.body()

            async def handle() -> Response:
                try:
                    with world.lock:
                        world.jira.base_url = str(request.base_url).rstrip("/")
                    status, body = await handler(request, world, world.jira)
                except JiraError as exc:
                    return jira_error(exc.status, exc.messages, exc.errors)
                except SimError as exc:
                    return jira_error(exc.status, [exc.message])
                return json_response(body, status)

            broken = BROKEN_WRITE_BODIES.get(name, "{}")
            return await with_faults(
                world,
                "jira",
                handle,
                error_response=lambda kind: fault_response(world, kind),
                broken_write_body=broken if write else None,
            )

        return run

    return wrap


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise JiraError(400, ["Unexpected character in the request body: it is not valid JSON."]) from None


def _int(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise JiraError(400, [f"'{name}' must be a number"]) from None


# ------------------------------------------------------------------------------------------ handlers


@endpoint("jira.myself")
async def myself(request: Request, world: World, site: JiraSite) -> Reply:
    return 200, {"accountId": API_ACCOUNT_ID, "emailAddress": API_EMAIL, "displayName": "AIMS Bot", "active": True}


@endpoint("jira.issue.create", write=True)
async def issue_create(request: Request, world: World, site: JiraSite) -> Reply:
    body = await _json(request)
    fields = body.get("fields") if isinstance(body, dict) else None
    with world.lock:
        issue = site.create(world, fields)
        return 201, {"id": issue.id, "key": issue.key, "self": f"{site.base_url}/rest/api/3/issue/{issue.id}"}


@endpoint("jira.issue.edit", write=True)
async def issue_edit(request: Request, world: World, site: JiraSite) -> Reply:
    """Edit summary, labels or priority (`{"fields": {...}}`) as the API account: 204, like Jira."""
    body = await _json(request)
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise JiraError(400, ["Give the fields to edit."])
    with world.lock:
        site.person_edit(world, site.find(request.path_params["key"]), fields, API_ACCOUNT_ID)
        return 204, None


@endpoint("jira.issue.get")
async def issue_get(request: Request, world: World, site: JiraSite) -> Reply:
    raw = request.query_params.get("fields")
    fields = None if raw in (None, "", "*all", "*navigable") else [f.strip() for f in raw.split(",")]
    with world.lock:
        return 200, issue_json(site.find(request.path_params["key"]), site.base_url, fields)


@endpoint("jira.issue.transitions")
async def transitions_get(request: Request, world: World, site: JiraSite) -> Reply:
    with world.lock:
        issue = site.find(request.path_params["key"])
        out = []
        for move in issue.project.available(issue.status):
            target = issue.project.status(move.to)
            category_id, category_name = CATEGORIES[target.category]
            out.append(
                {
                    "id": move.id,
                    "name": move.name,
                    "to": {
                        "self": f"{site.base_url}/rest/api/3/status/{target.id}",
                        "id": target.id,
                        "name": target.name,
                        "statusCategory": {"id": int(category_id), "key": target.category, "name": category_name},
                    },
                    "hasScreen": False,
                    "isGlobal": False,
                    "isInitial": False,
                    "isConditional": False,
                }
            )
        return 200, {"expand": "transitions", "transitions": out}


@endpoint("jira.issue.transition", write=True)
async def transition_post(request: Request, world: World, site: JiraSite) -> Reply:
    body = await _json(request)
    with world.lock:
        site.transition(world, site.find(request.path_params["key"]), body)
    return 204, None


@endpoint("jira.issue.comment.add", write=True)
async def comment_add(request: Request, world: World, site: JiraSite) -> Reply:
    body = await _json(request)
    with world.lock:
        issue = site.find(request.path_params["key"])
        comment = site.comment(world, issue, body.get("body") if isinstance(body, dict) else None)
        return 201, comment_json(issue, comment, site.base_url)


@endpoint("jira.issue.comment.list")
async def comment_list(request: Request, world: World, site: JiraSite) -> Reply:
    q = request.query_params
    start = max(0, _int(q.get("startAt"), "startAt", 0))
    size = min(PAGE_MAX, max(1, _int(q.get("maxResults"), "maxResults", 50)))
    with world.lock:
        issue = site.find(request.path_params["key"])
        page = issue.comments[start : start + size]
        comments = [comment_json(issue, c, site.base_url) for c in page]
        return 200, {"startAt": start, "maxResults": size, "total": len(issue.comments), "comments": comments}


@endpoint("jira.search.jql")
async def search_jql(request: Request, world: World, site: JiraSite) -> Reply:
    body = await _json(request)
    if not isinstance(body, dict) or not isinstance(body.get("jql"), str):
        raise JiraError(400, ["The JQL query is required ('jql')."])
    fields = body.get("fields") or []
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")]
    if not isinstance(fields, list):
        raise JiraError(400, errors={"fields": "fields must be a list of field names"})
    size = body.get("maxResults", 50)
    if not isinstance(size, int) or size < 1:
        raise JiraError(400, errors={"maxResults": "maxResults must be a positive number"})
    size = min(size, PAGE_MAX)
    qhash = query_hash(body["jql"])
    offset = 0
    if body.get("nextPageToken"):
        offset = decode_token(str(body["nextPageToken"]), qhash, lambda m: SimError(400, "bad_token", m))[2]
    wanted = None if any(f in ("*all", "*navigable") for f in fields) else fields
    with world.lock:
        found = site.search(body["jql"])
        page = found[offset : offset + size]
        out: dict[str, Any] = {"issues": [issue_json(i, site.base_url, wanted) for i in page]}
        end = offset + len(page)
        out["isLast"] = end >= len(found)
        if end < len(found):
            out["nextPageToken"] = encode_token(0, 0, end, page[-1].key, qhash)
        return 200, out


def _webhook_json(site: JiraSite, hook: Any) -> dict[str, Any]:
    return {
        "self": f"{site.base_url}/rest/webhooks/1.0/webhook/{hook.id}",
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "filters": {"issue-related-events-section": hook.jql or ""},
        "enabled": True,
    }


@endpoint("jira.webhook.register", write=True)
async def webhook_register(request: Request, world: World, site: JiraSite) -> Reply:
    body = await _json(request)
    if not isinstance(body, dict):
        raise JiraError(400, ["The request body must be a JSON object."])
    with world.lock:
        return 201, _webhook_json(site, site.register_webhook(body))


@endpoint("jira.webhook.list")
async def webhook_list(request: Request, world: World, site: JiraSite) -> Reply:
    with world.lock:
        return 200, [_webhook_json(site, hook) for hook in site.webhooks.values()]


@endpoint("jira.webhook.delete", write=True)
async def webhook_delete(request: Request, world: World, site: JiraSite) -> Reply:
    with world.lock:
        if site.webhooks.pop(_int(request.path_params["id"], "id", 0), None) is None:
            raise JiraError(404, ["Webhook not found."])
    return 204, None


def routes() -> list[Route]:
    base = "/rest/api/3"
    return [
        Route(f"{base}/myself", myself, methods=["GET"]),
        Route(f"{base}/issue", issue_create, methods=["POST"]),
        Route(f"{base}/issue/{{key}}", issue_get, methods=["GET"]),
        Route(f"{base}/issue/{{key}}", issue_edit, methods=["PUT"]),
        Route(f"{base}/issue/{{key}}/transitions", transitions_get, methods=["GET"]),
        Route(f"{base}/issue/{{key}}/transitions", transition_post, methods=["POST"]),
        Route(f"{base}/issue/{{key}}/comment", comment_add, methods=["POST"]),
        Route(f"{base}/issue/{{key}}/comment", comment_list, methods=["GET"]),
        Route(f"{base}/search/jql", search_jql, methods=["POST"]),
        Route("/rest/webhooks/1.0/webhook", webhook_register, methods=["POST"]),
        Route("/rest/webhooks/1.0/webhook", webhook_list, methods=["GET"]),
        Route("/rest/webhooks/1.0/webhook/{id}", webhook_delete, methods=["DELETE"]),
    ]
