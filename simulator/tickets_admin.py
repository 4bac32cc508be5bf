"""Admin routes of the simulated Jira and ServiceNow under /_sim/ (no auth, never faulted): act as a person on a
ticket, register ServiceNow callbacks, and read the truth (every ticket with the ordered writes made to it)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import jira_workflows, snow_schema
from simulator.jira_workflows import adf_doc
from simulator.web import json_response, world_of
from simulator.world import World
from simulator.world.jira import JiraError
from simulator.world.servicenow import SnowError

AdminHandler = Callable[[Request, World, dict[str, Any]], dict[str, Any]]


def _admin(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """Parse the JSON body, run the handler under the world lock, render every error as 4xx {"error": ...}."""

    async def run(request: Request) -> Response:
        world = world_of(request)
        world.count_call("sim." + request.url.path.removeprefix("/_sim/").split("/", 1)[0])
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            with world.lock:
                return json_response(handler(request, world, body))
        except JiraError as exc:
            return json_response({"error": exc.messages or exc.errors, "errors": exc.errors}, exc.status)
        except SnowError as exc:
            return json_response({"error": exc.message, "detail": exc.detail}, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)

    return run


def _person(body: dict[str, Any], people: dict[str, str], default: str) -> str:
    person = str(body.get("person") or default)
    if person not in people:
        raise ValueError(f"person must be one of {sorted(people)}")
    return person


# ------------------------------------------------------------------------------------------------- Jira


@_admin
def jira_truth(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    return world.jira.truth()


@_admin
def jira_transition(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    """{"status": name} or {"category": new|indeterminate|done}, optional "person" (accountId)."""
    status, category = body.get("status"), body.get("category")
    if (status is None) == (category is None):
        raise ValueError("give exactly one of 'status' (a status name) or 'category' (new, indeterminate, done)")
    person = _person(body, jira_workflows.PEOPLE, jira_workflows.DEFAULT_PERSON)
    issue = world.jira.find(request.path_params["key"])
    move = world.jira.person_transition(world, issue, status=status, category=category, person=person)
    return {"key": issue.key, "transition": move.id, "status": issue.status, "category": issue.category}


@_admin
def jira_comment(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    """{"text": "...", "person"?}: a person comments in the UI."""
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("give 'text' (a non-empty string)")
    person = _person(body, jira_workflows.PEOPLE, jira_workflows.DEFAULT_PERSON)
    issue = world.jira.find(request.path_params["key"])
    comment = world.jira.comment(world, issue, adf_doc(text), actor=person)
    return {"key": issue.key, "comment_id": comment.id}


@_admin
def jira_fields(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    """{"summary"?, "labels"?, "priority"?, "person"?}: a person edits the issue."""
    person = _person(body, jira_workflows.PEOPLE, jira_workflows.DEFAULT_PERSON)
    issue = world.jira.find(request.path_params["key"])
    world.jira.person_edit(world, issue, {k: v for k, v in body.items() if k != "person"}, person)
    return {"key": issue.key, "summary": issue.summary, "labels": issue.labels, "priority": issue.priority}


# -------------------------------------------------------------------------------------------- ServiceNow


@_admin
def servicenow_truth(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    return world.servicenow.truth()


@_admin
def servicenow_person_update(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Any writable fields (state, work_notes, comments, close_code, ...) plus optional "person" (user name)."""
    person = _person(body, snow_schema.PEOPLE, snow_schema.DEFAULT_PERSON)
    snow = world.servicenow
    record = snow.update(world, snow.find(request.path_params["sys_id"]), body, user=person)
    return {"result": dict(record)}


@_admin
def servicenow_callbacks(request: Request, world: World, body: dict[str, Any]) -> dict[str, Any]:
    """GET: the registered callbacks; POST {"url", "header_name", "header_value"}: add one; DELETE: remove all."""
    snow = world.servicenow
    if request.method == "POST":
        snow.add_callback(body)
    elif request.method == "DELETE":
        snow.callbacks.clear()
    return {"callbacks": [{"url": c.url, "header_name": c.header_name} for c in snow.callbacks]}


def routes() -> list[Route]:
    return [
        Route("/_sim/jira/truth", jira_truth, methods=["GET"]),
        Route("/_sim/jira/issues/{key}/transition", jira_transition, methods=["POST"]),
        Route("/_sim/jira/issues/{key}/comment", jira_comment, methods=["POST"]),
        Route("/_sim/jira/issues/{key}/fields", jira_fields, methods=["POST"]),
        Route("/_sim/servicenow/truth", servicenow_truth, methods=["GET"]),
        Route("/_sim/servicenow/incidents/{sys_id}", servicenow_person_update, methods=["PATCH"]),
        Route("/_sim/servicenow/callbacks", servicenow_callbacks, methods=["GET", "POST", "DELETE"]),
    ]
