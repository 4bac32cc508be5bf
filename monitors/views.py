"""Pages of runs, and the failure webhooks from Databricks and Azure Monitor (authenticate, store raw, answer fast;
a task does the rest)."""

from django.contrib.auth.decorators import login_not_required, permission_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from monitors.models import Connection, PipelineRun, WebhookDelivery
from monitors.selectors import pipeline_run_list, webhook_target_get
from monitors.services import webhook_delivery_receive
from monitors.webhooks import MAX_BODY_BYTES, SOURCE_KIND, request_authenticated


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _receive(request: HttpRequest, connection_name: str, source: str) -> JsonResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number")
    if declared > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        target = webhook_target_get(name=connection_name, kind=SOURCE_KIND[source])
        if target is None:
            kind = Connection.Kind(SOURCE_KIND[source]).label
            return _error(404, f"no enabled {kind} connection named {connection_name!r}")
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes")
        if not request_authenticated(
            secret=target.secret, body=body, headers=request.headers, query_token=request.GET.get("token")
        ):
            response = _error(401, "missing or wrong webhook secret")
            response["WWW-Authenticate"] = 'Basic realm="AIMS webhooks"'
            return response
        outcome = webhook_delivery_receive(
            connection_id=target.connection_id, source=source, body=body, headers=request.headers
        )
    except DatabaseError:
        response = _error(503, "AIMS cannot store the delivery right now; send it again")
        response["Retry-After"] = "5"
        return response
    if outcome.problem:
        return _error(400, outcome.problem, delivery=outcome.delivery.pk)
    return JsonResponse({"delivery": outcome.delivery.pk, "status": outcome.delivery.status}, status=202)


@csrf_exempt
@login_not_required
@require_POST
def databricks_webhook(request: HttpRequest, connection_name: str) -> JsonResponse:
    return _receive(request, connection_name, WebhookDelivery.Source.DATABRICKS)


@csrf_exempt
@login_not_required
@require_POST
def azure_monitor_webhook(request: HttpRequest, connection_name: str) -> JsonResponse:
    return _receive(request, connection_name, WebhookDelivery.Source.AZURE_MONITOR)


@permission_required("monitors.view_pipelinerun", raise_exception=True)
def run_list_view(request: HttpRequest) -> HttpResponse:
    """The newest runs, filtered by status and a search; only the rows for an htmx request."""
    status = request.GET.get("status", "")
    if status not in PipelineRun.Status.values:
        status = ""
    search = request.GET.get("q", "").strip()[:200]
    template = "monitors/run_list.html#rows" if request.htmx else "monitors/run_list.html"
    context = {
        "runs": pipeline_run_list(status=status, search=search),
        "status": status,
        "search": search,
        "statuses": PipelineRun.Status.choices,
    }
    return render(request, template, context)
