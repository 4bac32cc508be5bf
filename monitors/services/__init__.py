"""Writes of the monitors app, by concern: ingest of runs, polling, failure detail, webhook intake and drains."""

from monitors.services.detail import failures_enrich
from monitors.services.drains import (
    webhook_deliveries_claim,
    webhook_deliveries_drain,
    webhook_deliveries_process,
    webhook_drain_queue,
)
from monitors.services.ingest import IngestResult, pipeline_run_build, runs_ingest
from monitors.services.intake import (
    WebhookOutcome,
    webhook_delivery_receive,
    webhook_signature_first_seen,
    webhook_signature_forget,
)
from monitors.services.polling import PollResult, connection_check, monitor_poll

__all__ = [
    "IngestResult",
    "PollResult",
    "WebhookOutcome",
    "connection_check",
    "failures_enrich",
    "monitor_poll",
    "pipeline_run_build",
    "runs_ingest",
    "webhook_deliveries_claim",
    "webhook_deliveries_drain",
    "webhook_deliveries_process",
    "webhook_drain_queue",
    "webhook_delivery_receive",
    "webhook_signature_first_seen",
    "webhook_signature_forget",
]
