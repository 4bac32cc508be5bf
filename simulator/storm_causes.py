"""Storms: one shared dependency fails and takes many pipelines or jobs down at once with the same error. The causes
carry the errors the platforms report for them (a self-hosted integration runtime offline, a service principal whose
client secret expired, a Databricks workspace's control plane unavailable); a scenario may schedule storms
("storms": [{"cause", "after_seconds", "factory" or "pipelines" / "workspace" or "jobs"}]) and /_sim/storm starts
one now."""

from __future__ import annotations

from typing import Any

from simulator.corpus import CorpusRow

# As the activity's error.message reports them (one line each in ADF's output; the Databricks run's state message).
SHIR_OFFLINE = (
    "ErrorCode=UserErrorSelfHostedIntegrationRuntimeOffline,"
    "'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,"
    "Message=The self-hosted integration runtime 'shir-onprem-01' is offline: no node has reported for 10 minutes. "
    "Make sure the integration runtime service is running on at least one node, then retry.,"
    "Source=Microsoft.DataTransfer.TransferTask,'"
)
SP_EXPIRED = (
    "ErrorCode=AdlsGen2OperationFailed,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,"
    "Message=ADLS Gen2 operation failed for: Failed to get access token by using service principal. "
    "Error: invalid_client, Error Message: AADSTS7000222: The provided client secret keys for app "
    "'3c5e9f4b-2a71-4d7e-9c1a-8f0b6d2e4a17' are expired. Visit the Azure portal to create new keys for your app: "
    "https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: "
    "https://aka.ms/certCreds.,Source=Microsoft.DataTransfer.ClientLibrary,'"
)
WORKSPACE_OUTAGE = (
    "Run failed with error message\n Unexpected failure while waiting for the cluster to be ready: "
    "Cluster launch failed. Reason: CONTROL_PLANE_REQUEST_FAILURE (SERVICE_FAULT): "
    "TEMPORARILY_UNAVAILABLE: The workspace's control plane is temporarily unavailable. Please try again later."
)

STORM_CAUSES: dict[str, CorpusRow] = {
    "shir_offline": CorpusRow(
        id="storm-shir-offline",
        source_system="adf",
        error_message=SHIR_OFFLINE,
        error_code="2200",
        label="transient",
        should_retry=True,
    ),
    "sp_expired": CorpusRow(
        id="storm-sp-expired",
        source_system="adf",
        error_message=SP_EXPIRED,
        error_code="2200",
        label="permission",
        should_retry=False,
    ),
    "workspace_outage": CorpusRow(
        id="storm-workspace-outage",
        source_system="databricks",
        error_message=WORKSPACE_OUTAGE,
        error_code="CLUSTER_ERROR",
        label="transient",
        should_retry=True,
    ),
}
STORM_ROWS: dict[str, CorpusRow] = {row.id: row for row in STORM_CAUSES.values()}


def normalize_storms(raw: Any) -> list[dict[str, Any]]:
    """A scenario's scheduled storms, checked: each names a known cause and when (sim seconds after the start)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("storms must be a list")
    storms = []
    for item in raw:
        if not isinstance(item, dict) or item.get("cause") not in STORM_CAUSES:
            raise ValueError(f"every storm needs a cause, one of {sorted(STORM_CAUSES)}")
        after = item.get("after_seconds", 0)
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise ValueError("a storm's after_seconds must be a number >= 0")
        storms.append({**item, "after_seconds": float(after)})
    return storms
