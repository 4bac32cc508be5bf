"""ADF JSON shapes: a pipeline run and an activity run (input, output, error) as the service returns them."""

from __future__ import annotations

import re
from typing import Any

from simulator.adf_errors import activity_error
from simulator.model import AdfActivity, AdfRun
from simulator.timefmt import iso7
from simulator.world.adf_views import AdfRunView


def pipeline_run_json(view: AdfRunView) -> dict[str, Any]:
    run, status, last_updated, end, latest = view
    factory = run.pipeline.factory
    message = ""
    if status == "Failed" and run.failure is not None:
        target = run.pipeline.activities[run.failure.step][0]
        message = f"Operation on target {target} failed: {run.failure.row.first_line}"
    return {
        "id": f"{factory.arm_id.upper()}/pipelineruns/{run.run_id}",
        "runId": run.run_id,
        "debugRunId": None,
        "runGroupId": run.group_id,
        "isLatest": latest,
        "pipelineName": run.pipeline.name,
        "parameters": dict(run.parameters),
        "runDimensions": {},
        "invokedBy": dict(run.invoked_by),
        "runStart": iso7(run.created_us),
        "runEnd": iso7(end) if end is not None else None,
        "durationInMs": (end - run.created_us) // 1000 if end is not None else None,
        "status": status,
        "message": message,
        "lastUpdated": iso7(last_updated),
        "annotations": [],
        "runDimension": {},
    }


def activity_run_json(run: AdfRun, act: AdfActivity, status: str, end: int | None) -> dict[str, Any]:
    error: dict[str, Any] = {"errorCode": "", "message": "", "failureType": "", "target": act.name, "details": ""}
    if status == "Failed" and run.failure is not None:
        error = activity_error(run.failure.row, act.name)
    return {
        "activityRunEnd": iso7(end) if end is not None else None,
        "activityName": act.name,
        "activityRunStart": iso7(act.start_us),
        "activityType": act.type,
        "durationInMs": (end - act.start_us) // 1000 if end is not None else None,
        "retryAttempt": None,
        "error": error,
        "activityRunId": act.activity_run_id,
        "iterationHash": "",
        "input": _activity_input(run, act),
        "linkedServiceName": "",
        "output": _activity_output(run, act, status, end),
        "userProperties": {},
        "pipelineName": run.pipeline.name,
        "pipelineRunId": run.run_id,
        "status": status,
        "recoveryStatus": "None",
        "integrationRuntimeNames": ["AutoResolveIntegrationRuntime"],
    }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _activity_input(run: AdfRun, act: AdfActivity) -> dict[str, Any]:
    if act.type == "Copy":
        return {"source": {"type": "AzureSqlSource"}, "sink": {"type": "ParquetSink"}, "enableStaging": False}
    if act.type == "DatabricksNotebook":
        return {"notebookPath": f"/Repos/etl/{_slug(act.name)}", "baseParameters": dict(run.parameters)}
    if act.type == "Lookup":
        return {
            "source": {"type": "AzureSqlSource", "sqlReaderQuery": "SELECT MAX(modified_at) AS watermark FROM etl.w"}
        }
    if act.type == "WebActivity":
        return {"method": "POST", "url": "https://prod-00.westeurope.logic.azure.com/workflows/notify/triggers/manual"}
    return {}


def _activity_output(run: AdfRun, act: AdfActivity, status: str, end: int | None) -> dict[str, Any]:
    if end is None:
        return {}
    seconds = max(1, (end - act.start_us) // 1_000_000)
    runtime = "AutoResolveIntegrationRuntime (West Europe)"
    seed = int(act.activity_run_id.replace("-", "")[:8], 16)
    if act.type == "Copy":
        rows = seed % 5_000_000 if status == "Succeeded" else 0
        return {
            "dataRead": rows * 212,
            "dataWritten": rows * 97,
            "rowsRead": rows,
            "rowsCopied": rows,
            "copyDuration": seconds,
            "effectiveIntegrationRuntime": runtime,
            "errors": [],
        }
    if act.type == "DatabricksNotebook":
        job_id, run_id = 10**14 + seed % 10**14, 10**14 + (seed * 7919) % 10**14
        url = f"https://adb-1234567890123456.7.azuredatabricks.net/?o=1234567890123456#job/{job_id}/run/{run_id}"
        return {"runPageUrl": url, "effectiveIntegrationRuntime": runtime, "executionDuration": seconds}
    if act.type == "Lookup" and status == "Succeeded":
        return {"firstRow": {"watermark": iso7(run.created_us)}, "effectiveIntegrationRuntime": runtime}
    return {"effectiveIntegrationRuntime": runtime}
