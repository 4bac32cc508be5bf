"""Reads for the monitors app."""

import time
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from monitors.models import Connection, PipelineRun

WEBHOOK_TARGET_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class WebhookTarget:
    connection_id: int
    secret: str


_webhook_targets: dict[tuple[str, str], tuple[float, WebhookTarget | None]] = {}


def webhook_target_get(*, name: str, kind: str) -> WebhookTarget | None:
    """The enabled connection a webhook URL names, with its decrypted secret. Kept in memory for a few seconds:
    deliveries arrive in bursts and this runs on each. Edits in this process take effect at once
    (monitors.signals clears the cache); other processes see them within WEBHOOK_TARGET_TTL_SECONDS."""
    key = (name, kind)
    cached = _webhook_targets.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = Connection.objects.filter(name=name, kind=kind, enabled=True).values("id", "webhook_secret_encrypted").first()
    target = None
    if row is not None:
        secret = Connection(webhook_secret_encrypted=row["webhook_secret_encrypted"]).get_webhook_secret()
        target = WebhookTarget(connection_id=row["id"], secret=secret)
    _webhook_targets[key] = (time.monotonic() + WEBHOOK_TARGET_TTL_SECONDS, target)
    return target


def webhook_targets_forget() -> None:
    _webhook_targets.clear()


def pipeline_run_list(*, status: str = "", search: str = "", limit: int = 100) -> QuerySet[PipelineRun]:
    """Newest runs first, optionally of one status and matching a search over pipeline, run id and error."""
    runs = PipelineRun.objects.select_related("pipeline", "connection").order_by("-started_at", "-id")
    if status:
        runs = runs.filter(status=status)
    if search:
        runs = runs.filter(
            Q(pipeline__name__icontains=search)
            | Q(external_run_id__icontains=search)
            | Q(error_message__icontains=search)
            | Q(error_code__iexact=search)
        )
    return runs.defer("raw", "failure_detail", "error_trace")[:limit]
