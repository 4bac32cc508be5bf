"""The runs page, and the failure webhooks from Databricks, Azure Monitor and ADF pipelines' own failure
callbacks (authenticate, store raw, answer fast; a task does the rest)."""

import time

from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from aimsweb.export import EXPORT_FORMATS
from aimsweb.htmx import partial_only
from monitors.models import Connection, WebhookDelivery
from monitors.run_list_page import run_export, run_list_page
from monitors.selectors import webhook_target_get
from monitors.services import webhook_delivery_receive, webhook_signature_first_seen, webhook_signature_forget
from monitors.webhooks import MAX_BODY_BYTES, NO_SECRET, SOURCE_KIND, request_authenticate

# A callback sent to a Databricks connection's name is answered 400 once its sender has proved the secret (an ADF
# pipeline pointed at the wrong connection); without the secret the answer stays 401, as for any name.
OTHER_KIND: dict[str, str] = {WebhookDelivery.Source.ADF_CALLBACK: Connection.Kind.DATABRICKS}


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _receive(request: HttpRequest, connection_name: str, source: str) -> JsonResponse:
    """Size, then authentication (alike whether or not the URL names a usable connection: the answer never tells
    which connection names exist), then replay, then store."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number")
    if declared > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, f"body over {MAX_BODY_BYTES} bytes")
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES} bytes")
    seen: tuple[int, str] | None = None  # (connection, signature) marked as seen: unmarked if not stored
    try:
        target = webhook_target_get(name=connection_name, kind=SOURCE_KIND[source])
        other = None
        if target is None and source in OTHER_KIND:
            other = webhook_target_get(name=connection_name, kind=OTHER_KIND[source])
        holder = target or other
        authentication = request_authenticate(
            secret=holder.secret if holder else "",
            body=body,
            headers=request.headers,
            query_token=request.GET.get("token"),
            now=time.time(),
        )
        if other is not None and not authentication.problem:
            # Only a sender that holds the connection's secret learns which kind it is.
            return _error(
                400, f"connection {connection_name} is a Databricks workspace: ADF callbacks go to an ADF one"
            )
        if target is None or authentication.problem:
            response = _error(401, authentication.problem or NO_SECRET)
            response["WWW-Authenticate"] = 'Basic realm="AIMS webhooks"'
            return response
        if authentication.signature:
            seen = (target.connection_id, authentication.signature)
            if not webhook_signature_first_seen(connection_id=seen[0], signature=seen[1]):
                return _error(409, "duplicate: a request with this X-AIMS-Signature was already received")
        outcome = webhook_delivery_receive(
            connection_id=target.connection_id, source=source, body=body, headers=request.headers
        )
    except DatabaseError:
        if seen is not None:
            webhook_signature_forget(connection_id=seen[0], signature=seen[1])
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
def adf_callback_webhook(request: HttpRequest, connection_name: str) -> JsonResponse:
    return _receive(request, connection_name, WebhookDelivery.Source.ADF_CALLBACK)


@csrf_exempt
@login_not_required
@require_POST
def azure_monitor_webhook(request: HttpRequest, connection_name: str) -> JsonResponse:
    return _receive(request, connection_name, WebhookDelivery.Source.AZURE_MONITOR)


@permission_required("monitors.view_pipelinerun", raise_exception=True)
@vary_on_headers("HX-Request")
def run_list_view(request: HttpRequest) -> HttpResponse:
    """The newest runs, filtered by status, pipeline, time range and a search, 50 a page; only the rows for an htmx
    request."""
    template = "monitors/run_list.html#rows" if partial_only(request) else "monitors/run_list.html"
    return render(request, template, run_list_page(params=request.GET))


@permission_required("monitors.view_pipelinerun", raise_exception=True)
def run_export_view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The runs the page's filters select, as a file: ?format=csv (the default) or json."""
    export_format = request.GET.get("format", "csv")
    if export_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(b"format: use csv or json.", content_type="text/plain; charset=utf-8")
    return run_export(params=request.GET, export_format=export_format)
