"""ADF triggers of the default scenario that the simulator serves as they are and never fires."""

from __future__ import annotations

from typing import Any

SUBSCRIPTION = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the default scenario's


def _reference(name: str, **parameters: str) -> dict[str, Any]:
    return {"pipelineReference": {"referenceName": name, "type": "PipelineReference"}, "parameters": parameters}


# Triggers of adf-sim that start nothing in the simulator: a stopped weekday trigger of three pipelines, left over from
# before the pipelines were scheduled one by one, and a storage event trigger (no time schedule).
LEGACY_TRIGGERS: list[dict[str, Any]] = [
    {
        "name": "tr_weekday_batch_legacy",
        "properties": {
            "description": "Nightly batch before the split (kept for rollback)",
            "type": "ScheduleTrigger",
            "runtimeState": "Stopped",
            "annotations": [],
            "pipelines": [
                _reference("pl_daily_orders", load_date="@trigger().scheduledTime"),
                _reference("pl_customers_sync"),
                _reference("pl_finance_export"),
            ],
            "typeProperties": {
                "recurrence": {
                    "frequency": "Week",
                    "interval": 1,
                    "startTime": "2024-01-01T00:00:00",
                    "timeZone": "W. Europe Standard Time",
                    "schedule": {"minutes": [30], "hours": [2], "weekDays": ["Monday", "Wednesday", "Friday"]},
                }
            },
        },
    },
    {
        "name": "tr_finance_dropzone",
        "properties": {
            "type": "BlobEventsTrigger",
            "runtimeState": "Started",
            "annotations": ["finance"],
            "pipelines": [_reference("pl_finance_export")],
            "typeProperties": {
                "blobPathBeginsWith": "/finance/blobs/incoming/",
                "blobPathEndsWith": ".csv",
                "ignoreEmptyBlobs": True,
                "scope": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-sim/providers"
                "/Microsoft.Storage/storageAccounts/stsimfinance",
                "events": ["Microsoft.Storage.BlobCreated"],
            },
        },
    },
]
