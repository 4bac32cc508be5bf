"""Failure detail: where and why a failed run failed, fetched once per run and stored redacted."""

import logging
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.utils import timezone

from aimsweb.redact import redact
from aimsweb.signals import send_on_commit
from aimsweb.terminal import strip_terminal_escapes, strip_terminal_escapes_values
from monitors import signals
from monitors.clients import client_for
from monitors.clients.base import SourceError, call_with_backoff
from monitors.models import (
    Connection,
    PipelineRun,
)

logger = logging.getLogger(__name__)


def failures_enrich(*, connection_id: int, external_run_ids: Sequence[str], triage_now: bool = False) -> int:
    """Fetch where and why each failed run failed (ADF activity runs; Databricks task output), store the most
        specific error and announce the batch (failures_detailed; with triage_now, asking for it to be triaged here and
    now). Runs already enriched
        are skipped, so a repeated task does nothing twice. Returns how many runs were enriched; raises after trying
        them all if any could not be."""
    connection = Connection.objects.get(pk=connection_id)
    client = client_for(connection)
    runs = PipelineRun.objects.filter(
        connection=connection,
        external_run_id__in=list(external_run_ids),
        status=PipelineRun.Status.FAILED,
        detail_fetched_at__isnull=True,
    )
    enriched_ids, errors = [], []
    for run in runs:
        try:
            detail = call_with_backoff(
                partial(client.failure_detail, run.raw, run.external_run_id),
                attempts=settings.SOURCE_MAX_ATTEMPTS,
                max_delay=settings.SOURCE_BACKOFF_MAX_SECONDS,
            )
        except SourceError as exc:
            errors.append(f"{run.external_run_id}: {exc}")
            continue
        # Terminal escapes out first: a colour code may split a secret the redaction would otherwise find.
        run.failed_step = redact(strip_terminal_escapes(detail.failed_step))[:260]
        run.error_code = redact(strip_terminal_escapes(detail.error_code))[:100]
        run.error_message = redact(strip_terminal_escapes(detail.error_message)) or run.error_message
        run.error_trace = redact(strip_terminal_escapes(detail.error_trace))
        run.failure_detail = strip_terminal_escapes_values(detail.raw)
        run.detail_fetched_at = timezone.now()
        run.save(
            update_fields=[
                "failed_step",
                "error_code",
                "error_message",
                "error_trace",
                "failure_detail",
                "detail_fetched_at",
                "updated_at",
            ]
        )
        enriched_ids.append(run.pk)
    if enriched_ids:
        # The analysis needs the specific error, so the layer above hears of the batch once the detail is stored.
        send_on_commit(
            signals.failures_detailed,
            sender=signals.SENDER,
            connection_id=connection.pk,
            run_ids=enriched_ids,
            immediate=triage_now,
        )
    if errors:
        raise SourceError(f"failure detail unavailable for {len(errors)} run(s): " + "; ".join(errors[:5]))
    return len(enriched_ids)
