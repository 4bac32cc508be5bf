"""Azure Monitor alerts in the shapes the common alert schema documents, for one failed pipeline run.

An ADF failure reaches an action group through several kinds of rule, each with its own payload: a metric alert on
PipelineFailedRuns (split by Name: the pipeline) or on ActivityFailedRuns (split by Name: the activity, not the
pipeline), a log search alert over the factory's logs (Log Analytics v1 context with US-format UTC times and
capitalised Dimensions; v2 LogQueryCriteria; a Simple Log Alert with null dimensions and window), and alerts about
other resources that share the action group (the self-hosted integration runtime's VM, another factory). Shapes as in
MicrosoftDocs/azure-monitor-docs articles/azure-monitor/alerts/alerts-common-schema.md and alerts-payload-samples.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.notify import azure_monitor_pipeline_failed
from simulator.timefmt import US_PER_S, floor_minute, iso7, iso_ms

ALERT_SHAPES = (
    "pipeline_metric",
    "activity_metric",
    "simple_log",
    "log_v1",
    "log_v2",
    "vm_metric",
    "other_factory",
)
FAILED_RUNS_QUERY = 'ADFPipelineRun | where Status == "Failed"'


def azure_monitor_alert(
    shape: str,
    *,
    subscription_id: str,
    resource_group: str,
    factory_name: str,
    pipeline_name: str,
    activity_name: str,
    failure_type: str,
    failed_at_us: int,
    fired_at_us: int,
    alert_guid: str,
) -> dict[str, Any]:
    """One common-schema alert of `shape` (one of ALERT_SHAPES) about a run of `pipeline_name` that failed at
    `failed_at_us` in `activity_name`."""
    if shape not in ALERT_SHAPES:
        raise ValueError(f"unknown alert shape {shape!r}; shapes: {list(ALERT_SHAPES)}")
    if shape in ("pipeline_metric", "other_factory"):
        return azure_monitor_pipeline_failed(
            subscription_id=subscription_id,
            resource_group=resource_group,
            # an alert rule on a second factory whose action group is this factory's
            factory_name=factory_name if shape == "pipeline_metric" else f"{factory_name}-dev",
            pipeline_name=pipeline_name,
            failure_type=failure_type,
            failed_at_us=failed_at_us,
            fired_at_us=fired_at_us,
            alert_guid=alert_guid,
        )
    window_end = floor_minute(failed_at_us) + 60 * US_PER_S
    window_start = window_end - 5 * 60 * US_PER_S
    fired = max(fired_at_us, window_end)
    rule = f"{factory_name}-{shape.replace('_', '-')}"
    group = f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}".lower()
    factory_id = f"{group}/providers/microsoft.datafactory/factories/{factory_name}".lower()
    workspace_id = f"{group}/providers/microsoft.operationalinsights/workspaces/{factory_name}-logs".lower()
    if shape == "activity_metric":
        essentials = _essentials(
            rule, subscription_id, alert_guid, fired, "Metric", "Platform", factory_id, factory_name
        )
        context = _metric_context(
            "ActivityFailedRuns", "Microsoft.DataFactory/factories", [{"name": "Name", "value": activity_name}]
        )
        context["condition"].update(windowStartTime=iso_ms(window_start), windowEndTime=iso_ms(window_end))
    elif shape == "vm_metric":
        vm_id = f"{group}/providers/microsoft.compute/virtualmachines/{factory_name}-shir"
        essentials = _essentials(
            rule, subscription_id, alert_guid, fired, "Metric", "Platform", vm_id, f"{factory_name}-shir"
        )
        context = _metric_context(
            "Percentage CPU", "Microsoft.Compute/virtualMachines", [{"name": "ResourceId", "value": alert_guid}]
        )
    elif shape == "log_v1":
        essentials = _essentials(
            rule, subscription_id, alert_guid, fired, "Log", "Log Analytics", workspace_id, factory_id.upper()
        )
        context = {
            "SearchQuery": FAILED_RUNS_QUERY + " | summarize AggregatedValue = count() by PipelineName, _ResourceId",
            "SearchIntervalStartTimeUtc": _us_time(window_start),
            "SearchIntervalEndtimeUtc": _us_time(window_end),
            "ResultCount": 1,
            "SearchIntervalDurationMin": "5",
            "SearchIntervalInMinutes": "5",
            # Log Analytics keeps a factory's _ResourceId upper-cased
            "AffectedConfigurationItems": [factory_id.upper()],
            "Threshold": 0,
            "Operator": "Greater Than",
            "Dimensions": [
                {"name": "PipelineName", "value": pipeline_name},
                {"name": "_ResourceId", "value": factory_id.upper()},
            ],
            "IncludedSearchResults": "False",
            "AlertType": "Metric measurement",
        }
    else:  # simple_log, log_v2: LogQueryCriteria
        simple = shape == "simple_log"
        service = "Simple Log Alert" if simple else "Log Alerts V2"
        target = factory_id if simple else workspace_id
        essentials = _essentials(rule, subscription_id, alert_guid, fired, "Log", service, target, factory_name)
        dimensions = [{"name": "PipelineName", "value": pipeline_name}, {"name": "_ResourceId", "value": factory_id}]
        context = {
            "properties": {},
            "conditionType": "LogQueryCriteria",
            "condition": {
                "windowSize": None if simple else "PT5M",
                "allOf": [
                    {
                        "searchQuery": FAILED_RUNS_QUERY,
                        "metricMeasureColumn": None,
                        "targetResourceTypes": None if simple else "['Microsoft.DataFactory/factories']",
                        "operator": None if simple else "GreaterThan",
                        "threshold": None if simple else "0",
                        "timeAggregation": None if simple else "Count",
                        "dimensions": None if simple else dimensions,
                        "metricValue": 1.0,
                        "failingPeriods": None,
                    }
                ],
                "windowStartTime": None if simple else iso_ms(window_start),
                "windowEndTime": None if simple else iso_ms(window_end),
            },
        }
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {"essentials": essentials, "alertContext": context, "customProperties": None},
    }


def _essentials(
    rule: str, subscription_id: str, alert_guid: str, fired_us: int, signal: str, service: str, target: str, item: str
) -> dict[str, Any]:
    return {
        "alertId": f"/subscriptions/{subscription_id}/providers/Microsoft.AlertsManagement/alerts/{alert_guid}",
        "alertRule": rule,
        "severity": "Sev2",
        "signalType": signal,
        "monitorCondition": "Fired",
        "monitoringService": service,
        "alertTargetIDs": [target],
        "configurationItems": [item],
        "originAlertId": alert_guid,
        "firedDateTime": iso7(fired_us),
        "description": "",
        "essentialsVersion": "1.0",
        "alertContextVersion": "1.0",
    }


def _metric_context(metric: str, namespace: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    """A static-threshold metric condition; without window times, as the schema's first sample has it."""
    return {
        "properties": None,
        "conditionType": "SingleResourceMultipleMetricCriteria",
        "condition": {
            "windowSize": "PT5M",
            "allOf": [
                {
                    "metricName": metric,
                    "metricNamespace": namespace,
                    "operator": "GreaterThan",
                    "threshold": "0",
                    "timeAggregation": "Total",
                    "dimensions": dimensions,
                    "metricValue": 1,
                    "webTestName": None,
                }
            ],
        },
    }


def _us_time(us: int) -> str:
    """Log Analytics (v1) style: M/D/YYYY h:mm:ss AM/PM, UTC."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    hour = moment.hour % 12 or 12
    noon = "PM" if moment.hour >= 12 else "AM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {noon}"


def alert_shapes_check(shapes: Any) -> list[str]:
    """The `notify.alert_shapes` setting, checked: a list of ALERT_SHAPES (empty: ADF failures send no alert)."""
    if not isinstance(shapes, list) or any(shape not in ALERT_SHAPES for shape in shapes):
        raise ValueError(f"notify.alert_shapes must be a list of {list(ALERT_SHAPES)}")
    return list(shapes)
