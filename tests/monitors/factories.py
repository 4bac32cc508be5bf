"""Rows of the monitors app for tests, with sensible defaults that keyword arguments override."""

from datetime import timedelta
from itertools import count

from django.utils import timezone

from monitors.models import Connection, Pipeline, PipelineRun, RerunMode
from remediation.models import RetryAttempt, RetryPolicy

_seq = count(1)


def make_connection(**fields) -> Connection:
    n = next(_seq)
    defaults = {
        "name": f"sim-adf-{n}",
        "kind": Connection.Kind.ADF,
        "is_simulator": True,
        "host": "http://127.0.0.1:8765",
        "auth_method": Connection.AuthMethod.STATIC_TOKEN,
        "subscription_id": "sub-1",
        "resource_group": "rg-1",
        "factory_name": f"factory-{n}",
    }
    return Connection.objects.create(**{**defaults, **fields})


def make_webhook_connection(*, name: str, kind: str, secret: str, **fields) -> Connection:
    """A connection that accepts failure webhooks presenting `secret`."""
    if kind == Connection.Kind.DATABRICKS:
        fields = {"auth_method": Connection.AuthMethod.PAT, **fields}
    connection = make_connection(name=name, kind=kind, **fields)
    connection.set_webhook_secret(secret)
    connection.save()
    return connection


# Webhook bodies as the platforms send them: a Databricks job notification and an Azure Monitor common-schema alert.
DBX_PAYLOAD = {
    "event_type": "jobs.on_failure",
    "workspace_id": "1234567890123456",
    "run": {"run_id": "912345678901234"},
    "job": {"job_id": "684127337461209", "name": "orders_daily"},
}
ALERT_PAYLOAD = {
    "schemaId": "azureMonitorCommonAlertSchema",
    "data": {
        "essentials": {
            "alertId": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/1",
            "alertRule": "adf-failed",
            "severity": "Sev1",
            "signalType": "Metric",
            "monitorCondition": "Fired",
            "monitoringService": "Platform",
            "alertTargetIDs": ["/subscriptions/s/resourcegroups/rg/providers/microsoft.datafactory/factories/f"],
            "configurationItems": ["f"],
            "firedDateTime": "2026-11-20T02:14:37.5512391Z",
        },
        "alertContext": {
            "conditionType": "SingleResourceMultipleMetricCriteria",
            "condition": {
                "windowSize": "PT5M",
                "allOf": [{"metricName": "PipelineFailedRuns", "dimensions": [{"name": "Name", "value": "pl_orders"}]}],
                "windowStartTime": "2026-11-20T02:00:00Z",
                "windowEndTime": "2026-11-20T02:13:00Z",
            },
        },
    },
}


def make_pipeline(connection: Connection | None = None, **fields) -> Pipeline:
    connection = connection or make_connection()
    n = next(_seq)
    return Pipeline.objects.create(
        **{"connection": connection, "external_id": f"nightly_load_{n}", "name": f"nightly_load_{n}", **fields}
    )


def make_run(pipeline: Pipeline | None = None, **fields) -> PipelineRun:
    pipeline = pipeline or make_pipeline()
    started = timezone.now() - timedelta(minutes=10)
    defaults = {
        "connection": pipeline.connection,
        "pipeline": pipeline,
        "external_run_id": f"run-{next(_seq)}",
        "status": PipelineRun.Status.FAILED,
        "platform_status": "Failed",
        "started_at": started,
        "ended_at": started + timedelta(minutes=5),
        "duration_ms": 300_000,
        "failed_step": "Copy sales",
        "error_code": "2200",
        "error_message": "ErrorCode=UserErrorFailedToConnectOdbcSource: nightly source timed out",
    }
    return PipelineRun.objects.create(**{**defaults, **fields})


def make_retry_policy(**fields) -> RetryPolicy:
    defaults = {"name": f"policy-{next(_seq)}", "error_classes": ["transient"], "rerun_mode": RerunMode.RECOVER}
    return RetryPolicy.objects.create(**{**defaults, **fields})


def make_retry_attempt(run: PipelineRun | None = None, **fields) -> RetryAttempt:
    run = run or make_run()
    defaults = {
        "run": run,
        "attempt_number": 1,
        "idempotency_key": f"{run.pk}:1",
        "mode": RerunMode.RECOVER,
        "scheduled_for": timezone.now(),
    }
    return RetryAttempt.objects.create(**{**defaults, **fields})
