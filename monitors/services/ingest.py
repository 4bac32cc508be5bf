"""Runs as the platforms report them: upserted idempotently, announcing new failures and successes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from django.db import transaction
from django_q.tasks import async_task

from aimsweb.redact import redact
from aimsweb.signals import send_on_commit
from aimsweb.terminal import strip_terminal_escapes
from monitors import signals, tasks
from monitors.clients.base import RunRecord
from monitors.models import (
    Connection,
    Pipeline,
    PipelineRun,
)
from monitors.realtime import runs_changed_broadcast

OPEN_STATUSES = (PipelineRun.Status.QUEUED, PipelineRun.Status.RUNNING, PipelineRun.Status.CANCELLING)
# What an upsert of a known run may change; the failure detail columns belong to failures_enrich.
RUN_UPDATE_FIELDS = [
    "pipeline",
    "status",
    "platform_status",
    "started_at",
    "ended_at",
    "duration_ms",
    "platform_updated_at",
    "raw",
    "updated_at",
]


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    failures_queued: list[str]


def _pipelines_ensure(connection: Connection, records: Sequence[RunRecord]) -> dict[str, int]:
    """Pipeline ids by platform id, creating the ones not seen before (2 queries whatever the count)."""
    names = {record.pipeline_external_id: record.pipeline_name for record in records}
    Pipeline.objects.bulk_create(
        [Pipeline(connection=connection, external_id=external_id, name=name) for external_id, name in names.items()],
        ignore_conflicts=True,
    )
    return dict(Pipeline.objects.filter(connection=connection, external_id__in=names).values_list("external_id", "id"))


def pipeline_run_build(connection: Connection, pipeline_id: int, record: RunRecord) -> PipelineRun:
    """An unsaved run row from what the platform reported (the platform's own message stands in as the error
    until the failure detail arrives)."""
    return PipelineRun(
        connection=connection,
        pipeline_id=pipeline_id,
        external_run_id=record.external_run_id,
        status=record.status,
        platform_status=record.platform_status[:60],
        started_at=record.started_at,
        ended_at=record.ended_at,
        duration_ms=record.duration_ms,
        platform_updated_at=record.updated_at,
        # Cleaned and redacted as it enters storage: every page, timeline and message shows the stored text.
        error_message=(
            redact(strip_terminal_escapes(record.message)) if record.status == PipelineRun.Status.FAILED else ""
        ),
        raw=record.raw,
    )


def runs_ingest(*, connection: Connection, records: Sequence[RunRecord], queue_detail: bool = True) -> IngestResult:
    """Upsert runs by (connection, external run id) in one bulk statement, skipping unchanged ones, and queue the
    failure-detail task (after commit) for runs that are failed and have no detail yet (or, with queue_detail
    False, leave that to the caller: they are in failures_queued). Safe to run concurrently
    with itself for the same runs: the database's ON CONFLICT decides, not a read before the write."""
    latest: dict[str, RunRecord] = {}
    for record in records:
        seen = latest.get(record.external_run_id)
        if seen is None or (record.updated_at or datetime.min.replace(tzinfo=UTC)) >= (
            seen.updated_at or datetime.min.replace(tzinfo=UTC)
        ):
            latest[record.external_run_id] = record
    if not latest:
        return IngestResult(created=0, updated=0, unchanged=0, failures_queued=[])
    with transaction.atomic():
        known = {
            external_id: (status, platform_status, updated, fetched)
            for external_id, status, platform_status, updated, fetched in PipelineRun.objects.filter(
                connection=connection, external_run_id__in=latest
            ).values_list("external_run_id", "status", "platform_status", "platform_updated_at", "detail_fetched_at")
        }
        changed = [
            record
            for external_id, record in latest.items()
            if external_id not in known
            or known[external_id][:3] != (record.status, record.platform_status, record.updated_at)
        ]
        pipeline_ids = _pipelines_ensure(connection, changed) if changed else {}
        PipelineRun.objects.bulk_create(
            [pipeline_run_build(connection, pipeline_ids[record.pipeline_external_id], record) for record in changed],
            update_conflicts=True,
            unique_fields=["connection", "external_run_id"],
            update_fields=RUN_UPDATE_FIELDS,
        )
        if changed:
            runs_changed_broadcast(pipeline_ids=pipeline_ids.values())
        # A known failure still without detail is queued again by a poll (its first task may have died); the
        # caller of queue_detail=False takes only the failures new to AIMS, which no one else is working on.
        needs_detail = [
            external_id
            for external_id, record in latest.items()
            if record.status == PipelineRun.Status.FAILED
            and (
                external_id not in known
                or known[external_id][0] != record.status
                or (queue_detail and known[external_id][3] is None)
            )
        ]
        if needs_detail and queue_detail:
            transaction.on_commit(
                partial(async_task, tasks.failures_enrich_task, connection.pk, needs_detail, group="enrich")
            )
        if needs_detail:
            failed = {pipeline_ids.get(latest[external_id].pipeline_external_id) for external_id in needs_detail}
            send_on_commit(
                signals.runs_failed,
                sender=signals.SENDER,
                connection_id=connection.pk,
                pipeline_ids=sorted(pipeline_id for pipeline_id in failed if pipeline_id is not None),
            )
        succeeded = [record for record in changed if record.status == PipelineRun.Status.SUCCEEDED]
        if succeeded:
            send_on_commit(
                signals.runs_succeeded,
                sender=signals.SENDER,
                connection_id=connection.pk,
                external_run_ids=[record.external_run_id for record in succeeded],
                pipeline_ids=sorted({pipeline_ids[record.pipeline_external_id] for record in succeeded}),
            )
    created = sum(1 for record in changed if record.external_run_id not in known)
    return IngestResult(
        created=created,
        updated=len(changed) - created,
        unchanged=len(latest) - len(changed),
        failures_queued=needs_detail,
    )
