"""Outgoing failure notifications: payload builders and a best-effort HTTP sender.

Delivery never raises: a failed POST is counted, logged and dropped, so a missing receiver cannot crash the
simulator. Plain http.client in a worker thread (httpx is not installed here) keeps the event loop responsive.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from simulator.timefmt import US_PER_S, floor_minute, iso7, iso_ms

SEND_TIMEOUT_SECONDS = 2.0


@dataclass(slots=True)
class Outgoing:
    kind: str  # "databricks" | "azure_monitor" | "adf_callback" | "jira_webhook" | "servicenow_callback"
    url: str
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    run_id: str = ""  # the run, Jira issue key or ServiceNow sys_id it is about
    # Signed deliveries send exactly these bytes (the signature covers them); None: json.dumps(payload).
    body: bytes | None = None
    # Failure notifications are fire-once; Jira webhooks retry (same delivery id, `retry_header` = retry number).
    attempt: int = 1
    max_attempts: int = 1
    due: float = 0.0  # time.monotonic() before which the pump leaves it queued (retry backoff)
    delivery_id: str = ""
    retry_header: str = ""


def check_notify_url(url: str | None, allow_remote: bool) -> None:
    """Only loopback targets unless explicitly allowed: the simulator must not push data off the machine."""
    if not url:
        return
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"notification URL must be an http(s) URL: {url!r}")
    if allow_remote:
        return
    host = parts.hostname
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"notification URL {url!r} is not a loopback address (set notify.allow_remote to allow it)")


DATABRICKS_AUTH = ("basic", "token")
DATABRICKS_USERNAME = "databricks"


def databricks_destination(url: str, secret: str | None, auth: str) -> tuple[str, dict[str, str]]:
    """(URL, headers) of a Databricks generic webhook destination: it can hold a URL and an optional username and
    password, nothing else, so the secret is the Basic-auth password or a `token` query parameter of the URL, never
    a header of AIMS's own."""
    if not secret:
        return url, {}
    if auth == "token":
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("token", secret)])
        return urllib.parse.urlunsplit(parts._replace(query=query)), {}
    credentials = base64.b64encode(f"{DATABRICKS_USERNAME}:{secret}".encode()).decode()
    return url, {"Authorization": f"Basic {credentials}"}


def databricks_job_failure(workspace_id: int, run_id: int, job_id: int, job_name: str) -> dict[str, Any]:
    # The docs show the ids as strings; we send strings (parsers should accept both).
    return {
        "event_type": "jobs.on_failure",
        "workspace_id": str(workspace_id),
        "run": {"run_id": str(run_id)},
        "job": {"job_id": str(job_id), "name": job_name},
    }


def azure_monitor_pipeline_failed(
    *,
    subscription_id: str,
    resource_group: str,
    factory_name: str,
    pipeline_name: str,
    failure_type: str,
    failed_at_us: int,
    fired_at_us: int,
    alert_guid: str,
) -> dict[str, Any]:
    """A common-alert-schema metric alert on PipelineFailedRuns split by Name and FailureType."""
    rule = f"{factory_name}-pipeline-failed"
    factory_id = (
        f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}"
        f"/providers/microsoft.datafactory/factories/{factory_name}"
    ).lower()
    window_end = floor_minute(failed_at_us) + 60 * US_PER_S
    window_start = window_end - 5 * 60 * US_PER_S
    fired = max(fired_at_us, window_end)
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": f"/subscriptions/{subscription_id}/providers/Microsoft.AlertsManagement/alerts/{alert_guid}",
                "alertRule": rule,
                "alertRuleID": f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
                f"/providers/Microsoft.Insights/metricAlerts/{rule}",
                "severity": "Sev1",
                "signalType": "Metric",
                "monitorCondition": "Fired",
                "monitoringService": "Platform",
                "alertTargetIDs": [factory_id],
                "configurationItems": [factory_name],
                "originAlertId": f"{subscription_id}_{resource_group}_Microsoft.Insights_metricAlerts_{rule}"
                f"_{int(alert_guid[:8], 16)}",
                "firedDateTime": iso7(fired),
                "description": f"Any failed pipeline run in {factory_name}",
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
                "targetResourceType": "microsoft.datafactory/factories",
                "targetResourceGroup": resource_group,
            },
            "alertContext": {
                "properties": None,
                "conditionType": "SingleResourceMultipleMetricCriteria",
                "condition": {
                    "windowSize": "PT5M",
                    "allOf": [
                        {
                            "metricName": "PipelineFailedRuns",
                            "metricNamespace": "Microsoft.DataFactory/factories",
                            "operator": "GreaterThan",
                            "threshold": "0",
                            "timeAggregation": "Total",
                            "dimensions": [
                                {"name": "Name", "value": pipeline_name},
                                {"name": "FailureType", "value": failure_type},
                            ],
                            "metricValue": 1,
                            "webTestName": None,
                        }
                    ],
                    "windowStartTime": iso_ms(window_start),
                    "windowEndTime": iso_ms(window_end),
                },
            },
            "customProperties": None,
        },
    }


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str], raw: bytes | None = None) -> int:
    """Blocking POST; returns the HTTP status, raises OSError on connection problems.

    http.client rather than urllib: it keeps header names exactly as given (X-AIMS-Token) and never consults
    proxy environment variables, which would defeat the loopback-only rule.
    """
    parts = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=SEND_TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        body = json.dumps(payload).encode() if raw is None else raw
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()
