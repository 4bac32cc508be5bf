"""Inbound Jira webhooks and ServiceNow callbacks (no login, no CSRF: each route's secret authenticates them): size,
then authentication in constant time, then parse and hand to one service. Errors are RFC 9457 problem details."""

import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets.clients.base import TicketSystemError
from tickets.models import TicketRoute
from tickets.services.inbound import body_digest, jira_webhook_take, servicenow_callback_take

SERVICENOW_SECRET_HEADER = "X-AIMS-Token"
MAX_NESTING = 64


def problem(status: int, title: str, detail: str, **extra) -> JsonResponse:
    response = JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}, status=status
    )
    response["Content-Type"] = "application/problem+json"
    return response


def _body(request: HttpRequest) -> bytes | JsonResponse:
    limit = settings.AIMS_TICKET_INBOUND_MAX_BYTES
    too_big = problem(413, "Payload too large", f"The body is over {limit} bytes.")
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return too_big
        body = request.body
    except ValueError:
        return problem(400, "Bad request", "Content-Length is not a number.")
    except RequestDataTooBig:
        return too_big
    return too_big if len(body) > limit else body


def _route(route_id: int, system: str) -> TicketRoute | None:
    route = TicketRoute.objects.filter(pk=route_id, system=system, enabled=True).first()
    return route if route is not None and route.inbound_secret_encrypted else None


def _json(body: bytes) -> object:
    payload = json.loads(body)
    depth, stack = 0, [(payload, 1)]
    while stack:  # a deeply nested body is refused before anything walks it recursively
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValueError(f"nesting over {MAX_NESTING} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return payload


def _take(take, *, route: TicketRoute, delivery_id: str, body: bytes) -> JsonResponse:
    try:
        payload = _json(body)
    except (ValueError, RecursionError) as exc:
        return problem(400, "Bad request", f"The body is not usable JSON ({str(exc)[:100]}).")
    try:
        outcome = take(route=route, delivery_id=delivery_id, payload=payload)
    except TicketSystemError as exc:
        return problem(400, "Bad request", str(exc)[:200])
    except DatabaseError:
        response = problem(503, "Unavailable", "AIMS cannot take the delivery right now; send it again.")
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": outcome})


@csrf_exempt
@login_not_required
@require_POST
def jira_webhook(request: HttpRequest, route_id: int) -> JsonResponse:
    """A Jira admin webhook signed `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`."""
    body = _body(request)
    if isinstance(body, JsonResponse):
        return body
    route = _route(route_id, TicketRoute.System.JIRA)
    signature = request.headers.get("X-Hub-Signature", "")
    if not signature:
        return problem(401, "Unauthorized", "X-Hub-Signature is missing.")
    expected = (
        "sha256=" + hmac.new((route.get_inbound_secret() if route else "").encode(), body, hashlib.sha256).hexdigest()
    )
    if route is None or not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return problem(403, "Forbidden", "The signature does not match this route's secret.")
    delivery_id = request.headers.get("X-Atlassian-Webhook-Identifier", "").strip() or body_digest(body)
    return _take(jira_webhook_take, route=route, delivery_id=delivery_id, body=body)


@csrf_exempt
@login_not_required
@require_POST
def servicenow_callback(request: HttpRequest, route_id: int) -> JsonResponse:
    """A ServiceNow business rule's callback carrying the route's shared secret in X-AIMS-Token."""
    body = _body(request)
    if isinstance(body, JsonResponse):
        return body
    route = _route(route_id, TicketRoute.System.SERVICENOW)
    token = request.headers.get(SERVICENOW_SECRET_HEADER, "")
    if not token:
        return problem(401, "Unauthorized", f"{SERVICENOW_SECRET_HEADER} is missing.")
    expected = route.get_inbound_secret() if route else ""
    if route is None or not hmac.compare_digest(expected.encode(), token.strip().encode()):
        return problem(403, "Forbidden", f"{SERVICENOW_SECRET_HEADER} does not match this route's secret.")
    return _take(servicenow_callback_take, route=route, delivery_id=body_digest(body), body=body)
