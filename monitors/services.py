"""Writes for sources and runs: retry policy defaults, run ingest, polling, failure detail, webhooks, schedules."""

import contextlib
import fnmatch
import functools
import hashlib
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.db import transaction
from django.db.models import Exists, Min, Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from pydantic import BaseModel

from aimsweb.choices import ErrorCategory
from aimsweb.redact import redact
from aimsweb.schedules import scheduled_tasks_allow
from aimsweb.terminal import strip_terminal_escapes, strip_terminal_escapes_values
from incidents.realtime import runs_failed_broadcast
from monitors.adf_callback import (
    AdfCallback,
    callback_fallback_note,
    callback_lookup,
    callback_lookup_settle,
    callback_run_take,
    callback_target_problem,
)
from monitors.alerts import COVERED, alert_coverage_record, alert_needs, alert_target_problem, alerts_lookup
from monitors.clients import client_for
from monitors.clients.base import ConnectionCheck, RunRecord, SourceError, call_twice, call_with_backoff
from monitors.models import (
    Connection,
    Monitor,
    Pipeline,
    PipelineRun,
    RerunMode,
    RetryAttempt,
    RetryPolicy,
    WebhookDelivery,
)
from monitors.webhooks import (
    KEPT_HEADERS,
    SIGNATURE_TOLERANCE_SECONDS,
    AzureMonitorAlert,
    DatabricksNotification,
    PayloadError,
    payload_parse,
)

logger = logging.getLogger(__name__)

DEFAULT_RETRY_POLICIES = [
    {
        "name": "Transient failures",
        "error_classes": [ErrorCategory.TRANSIENT.value],
        "max_attempts": 3,
        "backoff_initial_seconds": 60,
        "backoff_multiplier": 2.0,
        "backoff_max_seconds": 900,
        "rerun_mode": RerunMode.RECOVER,
        "priority": 100,
    },
    {
        "name": "Resource pressure",
        "error_classes": [ErrorCategory.RESOURCE.value],
        "max_attempts": 2,
        "backoff_initial_seconds": 300,
        "backoff_multiplier": 2.0,
        "backoff_max_seconds": 1800,
        "rerun_mode": RerunMode.RECOVER,
        "priority": 110,
    },
]


@transaction.atomic
def retry_policy_defaults_ensure() -> list[str]:
    """Create the default retry policies that do not exist yet (by name); existing ones are left as edited."""
    created = []
    for defaults in DEFAULT_RETRY_POLICIES:
        _, was_created = RetryPolicy.objects.get_or_create(name=defaults["name"], defaults=defaults)
        if was_created:
            created.append(defaults["name"])
    return created


# --- Runs: ingest, polling, failure detail ----------------------------------------------------------------------

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


@dataclass(frozen=True)
class PollResult:
    skipped: bool = False
    pages: int = 0
    runs_seen: int = 0
    created: int = 0
    updated: int = 0
    failures_queued: int = 0
    watermark: datetime | None = None


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


def _recovery_awaited(connection: Connection, pipeline_ids: set[int]) -> bool:
    """Whether a success on these pipelines may resolve an incident or end a rerun (one query)."""
    from incidents.models import Incident  # the triage app builds on this one, not the other way round

    open_incident = Incident.objects.filter(pipeline_id__in=pipeline_ids).exclude(status=Incident.Status.RESOLVED)
    running = RetryAttempt.objects.filter(run__connection=connection, status=RetryAttempt.Status.RUNNING)
    return Connection.objects.filter(pk=connection.pk).filter(Exists(open_incident) | Exists(running)).exists()


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
                partial(async_task, "monitors.tasks.failures_enrich_task", connection.pk, needs_detail, group="enrich")
            )
        if needs_detail:
            failed = {pipeline_ids.get(latest[external_id].pipeline_external_id) for external_id in needs_detail}
            runs_failed_broadcast(pipeline_ids=failed - {None})
        succeeded = [record for record in changed if record.status == PipelineRun.Status.SUCCEEDED]
        if succeeded and _recovery_awaited(connection, {pipeline_ids[r.pipeline_external_id] for r in succeeded}):
            ids = [record.external_run_id for record in succeeded]
            transaction.on_commit(
                partial(async_task, "incidents.tasks.runs_succeeded_task", connection.pk, ids, group="recovery")
            )
    created = sum(1 for record in changed if record.external_run_id not in known)
    return IngestResult(
        created=created,
        updated=len(changed) - created,
        unchanged=len(latest) - len(changed),
        failures_queued=needs_detail,
    )


def _poll_window(monitor: Monitor, client, now: datetime) -> tuple[datetime, datetime]:
    lookback = timedelta(hours=settings.POLL_INITIAL_LOOKBACK_HOURS)
    since = (monitor.watermark or now - lookback) - timedelta(seconds=monitor.overlap_seconds)
    if client.tracks_start_time:
        # The window is on start time: runs still open in AIMS started earlier and must be read again until they end.
        oldest_open = PipelineRun.objects.filter(connection=monitor.connection, status__in=OPEN_STATUSES).aggregate(
            oldest=Min("started_at")
        )["oldest"]
        if oldest_open is not None:
            since = min(since, oldest_open - timedelta(seconds=1))
    # The upper bound tolerates a platform clock ahead of ours; the watermark only ever takes times the platform sent.
    return since, now + timedelta(hours=settings.POLL_FUTURE_TOLERANCE_HOURS)


def monitor_poll(*, monitor_id: int) -> PollResult:
    """Read every run updated since the monitor's watermark (less the overlap), page by page, each page committed
    on its own; advance the watermark, to the newest time the platform reported, only once all pages are in."""
    now = timezone.now()
    claimed = (
        Monitor.objects.filter(pk=monitor_id, enabled=True, connection__enabled=True)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + timedelta(seconds=settings.POLL_LEASE_SECONDS), last_polled_at=now)
    )
    if not claimed:
        return PollResult(skipped=True)
    monitor = Monitor.objects.select_related("connection").get(pk=monitor_id)
    pages = runs_seen = created = updated = failures = 0
    newest = monitor.watermark
    try:
        client = client_for(monitor.connection)
        since, until = _poll_window(monitor, client, now)
        token = None
        while True:
            page = call_with_backoff(
                partial(client.list_runs_page, since=since, until=until, page_token=token),
                attempts=settings.SOURCE_MAX_ATTEMPTS,
                max_delay=settings.SOURCE_BACKOFF_MAX_SECONDS,
            )
            pages += 1
            runs_seen += len(page.runs)
            watched = [r for r in page.runs if fnmatch.fnmatchcase(r.pipeline_name, monitor.pipeline_pattern)]
            result = runs_ingest(connection=monitor.connection, records=watched)
            created, updated, failures = (
                created + result.created,
                updated + result.updated,
                failures + len(result.failures_queued),
            )
            for record in page.runs:
                seen = record.started_at if client.tracks_start_time else record.updated_at
                if seen is not None and (newest is None or seen > newest):
                    newest = seen
            token = page.next_token
            if not token:
                break
    except Exception as exc:
        # The pages already committed stay; the watermark stays where it was, so the next poll reads them again.
        message = str(exc) if isinstance(exc, SourceError) else f"{exc.__class__.__name__}: {exc}"
        Monitor.objects.filter(pk=monitor_id).update(last_error=redact(message)[:2000], poll_lease_until=None)
        raise
    Monitor.objects.filter(pk=monitor_id).update(
        watermark=newest, last_success_at=timezone.now(), last_error="", poll_lease_until=None
    )
    return PollResult(
        pages=pages, runs_seen=runs_seen, created=created, updated=updated, failures_queued=failures, watermark=newest
    )


def failures_enrich(*, connection_id: int, external_run_ids: Sequence[str], triage_now: bool = False) -> int:
    """Fetch where and why each failed run failed (ADF activity runs; Databricks task output), store the most
    specific error and queue its analysis (or, with triage_now, triage them here and now). Runs already enriched
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
    if enriched_ids and triage_now:
        from incidents.services import failures_triage  # the triage app builds on this one, not the other way round

        failures_triage(run_ids=enriched_ids)
    elif enriched_ids:
        # The analysis needs the specific error, so it is queued (one task for the batch) once the detail is stored.
        transaction.on_commit(partial(async_task, "incidents.tasks.failures_triage_task", enriched_ids, group="triage"))
    if errors:
        raise SourceError(f"failure detail unavailable for {len(errors)} run(s): " + "; ".join(errors[:5]))
    return len(enriched_ids)


def connection_check(*, connection: Connection) -> ConnectionCheck:
    """Call the platform once with the connection's settings and say whether and how it answered (the status or
    error class, never the body: the host may echo the secret it was sent)."""
    try:
        return client_for(connection).check()
    except SourceError as exc:
        return ConnectionCheck(ok=False, message=exc.reason, latency_ms=0)


# --- Schedules ----------------------------------------------------------------------------------------------------

POLL_SCHEDULE_PREFIX = "monitor-poll-"
# Every minute: queue a webhook drain unless one is running (for deliveries whose drain was lost); start due
# reruns, follow running ones, reconcile stale claims, end silences; send due notification retries, digests and
# escalations. Once a day: prune old webhook deliveries and task results.
SYSTEM_SCHEDULES = {
    "aims-webhooks-tick": "monitors.tasks.webhooks_tick_task",
    "aims-remediation-tick": "incidents.tasks.remediation_tick_task",
    "aims-notifications-tick": "incidents.tasks.notifications_tick_task",
    "aims-retention-prune": "monitors.tasks.records_prune_task",
}
# Every minute unless named here: old deliveries and task results are pruned once a day.
SYSTEM_SCHEDULE_MINUTES = {"aims-retention-prune": 24 * 60}
POLL_TASK = "monitors.tasks.monitor_poll_task"
# Schedules may name only these (aimsweb.schedules refuses any other function in a schedule).
scheduled_tasks_allow(POLL_TASK, *SYSTEM_SCHEDULES.values())


def monitor_schedules_sync() -> dict[str, int]:
    """Make the task scheduler hold exactly one poll schedule per enabled monitor (by name, so running this again,
    or on every start, never doubles one), none for disabled or deleted monitors, and the system's minute ticks."""
    wanted = {
        f"{POLL_SCHEDULE_PREFIX}{monitor_id}": (monitor_id, interval)
        for monitor_id, interval in Monitor.objects.filter(enabled=True, connection__enabled=True).values_list(
            "id", "interval_seconds"
        )
    }
    with transaction.atomic():
        removed, _ = (
            Schedule.objects.filter(name__startswith=POLL_SCHEDULE_PREFIX).exclude(name__in=list(wanted)).delete()
        )
        for name, (monitor_id, interval) in wanted.items():
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": POLL_TASK,
                    "args": str(monitor_id),
                    "schedule_type": Schedule.MINUTES,
                    "minutes": max(1, math.ceil(interval / 60)),
                    "repeats": -1,
                },
            )
        for name, func in SYSTEM_SCHEDULES.items():
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": SYSTEM_SCHEDULE_MINUTES.get(name, 1),
                    "repeats": -1,
                },
            )
    return {"schedules": len(wanted), "removed": removed}


# --- Webhooks -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcome:
    delivery: WebhookDelivery
    problem: str  # empty when accepted


def webhook_delivery_receive(
    *, connection_id: int, source: str, body: bytes, headers: dict[str, str]
) -> WebhookOutcome:
    """Store an authenticated delivery as received, with its verdict, and queue a drain of the accepted deliveries
    once stored when the payload has a known shape. A rejected delivery is stored too, with the reason. One INSERT,
    in autocommit: the task is queued only after the row is committed. NUL characters, which PostgreSQL text cannot
    hold, are stored as U+FFFD (a body with a raw one is not JSON anyway, so it is rejected)."""
    try:
        payload_parse(source, body)
        problem = ""
    except PayloadError as exc:
        problem = str(exc)
    delivery = WebhookDelivery.objects.create(
        connection_id=connection_id,
        source=source,
        status=WebhookDelivery.Status.REJECTED if problem else WebhookDelivery.Status.ACCEPTED,
        body=_storable(body.decode("utf-8", errors="replace")),
        headers={name: _storable(headers[name]) for name in KEPT_HEADERS if name in headers},
        error=_storable(problem),
    )
    if not problem:
        transaction.on_commit(webhook_drain_queue)
    return WebhookOutcome(delivery=delivery, problem=problem)


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    """Text any database column can hold: NUL and lone surrogates (which no UTF-8 encoding takes) become U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


def webhook_signature_first_seen(*, connection_id: int, signature: str) -> bool:
    """Mark a signed delivery's signature as seen for as long as its timestamp is accepted (either side of AIMS's
    clock); False when it was already: the same request again, replayed or resent. With the cache down, True (a
    replay within the window is then stored twice; the platform lookup makes that harmless)."""
    try:
        return _marks().add(_signature_mark(connection_id, signature), 1, timeout=2 * SIGNATURE_TOLERANCE_SECONDS)
    except Exception:  # any cache failure
        logger.warning("cache unavailable: a signed webhook is not checked for replay", exc_info=True)
        return True


def webhook_signature_forget(*, connection_id: int, signature: str) -> None:
    """Unmark a signature whose delivery could not be stored, so that sending it again is not a duplicate."""
    with contextlib.suppress(Exception):
        _marks().delete(_signature_mark(connection_id, signature))


def _signature_mark(connection_id: int, signature: str) -> str:
    return f"{SIGNATURE_MARK}:{connection_id}:{hashlib.sha256(signature.encode()).hexdigest()}"


SIGNATURE_MARK = "aims:webhook-signature"
DRAIN_MARK = "aims:webhook-drain-queued"
DRAIN_MARK_SECONDS = 60  # a drain that was lost or died holds the next one back no longer than this
DRAIN_SECONDS = 30  # one drain task goes on no longer than this (well within the task timeout)


def _alerts_process(
    connection: Connection, client, alerts: list[tuple[WebhookDelivery, AzureMonitorAlert]]
) -> list[str]:
    """Look up, store and attribute the failed runs behind a batch's fired alerts; returns the failures new to AIMS.
    An alert names no run: the runs it led to are the new failures of its pipelines in its window."""
    needs = alert_needs(connection, alerts)
    wanted = [need for need in needs.values() if need is not None]
    lookup = alerts_lookup(client, wanted) if wanted else None
    new: list[str] = []
    if lookup is not None:
        new = runs_ingest(connection=connection, records=lookup.records, queue_detail=False).failures_queued
        if lookup.names:
            alert_coverage_record(connection, lookup)
    fresh = set(new)
    for delivery, _ in alerts:
        need = needs[delivery.pk]
        if need is None:
            delivery.status, delivery.error = WebhookDelivery.Status.IGNORED, COVERED
            continue
        matched = [record for record in lookup.records if need.matches(record)]
        delivery.run_ids = [record.external_run_id for record in matched if record.external_run_id in fresh]
        if not matched:
            delivery.status = WebhookDelivery.Status.IGNORED
    return new


def webhook_deliveries_claim(*, limit: int, now: datetime | None = None) -> list[WebhookDelivery]:
    """Up to `limit` accepted deliveries that no worker holds, oldest first, now held by this one for
    AIMS_WEBHOOK_CLAIM_SECONDS: two workers never take the same delivery, and one that dies lets go when its claim
    ends. Four statements whatever the number."""
    now = now or timezone.now()
    with transaction.atomic():
        deliveries = list(
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.ACCEPTED)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .select_related("connection")
            .select_for_update(of=("self",), skip_locked=True)
            .order_by("id")[:limit]
        )
        if deliveries:
            until = now + timedelta(seconds=settings.AIMS_WEBHOOK_CLAIM_SECONDS)
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(claimed_until=until)
    return deliveries


@functools.cache
def _marks() -> BaseCache:
    """The default cache, one client per process: Django's `cache` is per request context under ASGI, which would
    open a new Redis connection for every webhook."""
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


def _drain_mark(slot: int) -> str:
    return f"{DRAIN_MARK}:{slot}"


def webhook_drain_queue(*, slot: int | None = None) -> None:
    """Queue a drain of the accepted deliveries in the first of the AIMS_WEBHOOK_DRAINS slots that has no drain
    queued or running (its mark is in the cache), or none when every slot has one: the deliveries that arrive
    meanwhile are those drains' next batches. `slot`: queue a drain in that slot, whatever its mark says (a drain
    handing over to its successor). With the cache down, always queue: a drain too many finds nothing, one too few
    would leave deliveries to the minute tick."""
    if slot is None:
        for candidate in range(settings.AIMS_WEBHOOK_DRAINS):
            try:
                free = _marks().add(_drain_mark(candidate), 1, timeout=DRAIN_MARK_SECONDS)
            except Exception:  # any cache failure
                logger.warning("cache unavailable: queueing a webhook drain regardless", exc_info=True)
                free = True
            if free:
                slot = candidate
                break
        else:
            return
    async_task("monitors.tasks.webhook_deliveries_drain_task", slot, group="webhooks")


def webhook_deliveries_drain(*, limit: int | None = None, slot: int = 0) -> int:
    """Process the accepted deliveries, up to `limit` (AIMS_WEBHOOK_BATCH) at a time, batch after batch until none
    is left. At most AIMS_WEBHOOK_DRAINS drains run at once, one per slot: a drain keeps its slot's mark in the
    cache while it works, so what arrives meanwhile is a running drain's next batch (batches grow with the load,
    and a batch costs less per delivery than one at a time). Before it stops it clears the mark and claims once
    more: a delivery stored after that queues the next drain. After DRAIN_SECONDS it hands its slot to a successor.
    A batch that fails does not stop the next; the first error is raised at the end. Returns how many deliveries
    it processed."""
    limit = limit or settings.AIMS_WEBHOOK_BATCH
    mark = _drain_mark(slot)
    deadline = time.monotonic() + min(DRAIN_SECONDS, settings.Q_CLUSTER["timeout"] / 2)
    done, first_error, finishing = 0, None, False
    while True:
        deliveries = webhook_deliveries_claim(limit=limit)
        if not deliveries:
            if finishing:
                break
            finishing = True
            with contextlib.suppress(Exception):
                _marks().delete(mark)
            continue
        if not finishing:
            with contextlib.suppress(Exception):  # still running: the mark outlives this batch
                _marks().set(mark, 1, timeout=DRAIN_MARK_SECONDS)
        try:
            webhook_deliveries_process(deliveries)
        except Exception as exc:  # noqa: BLE001 - raised once the rest is drained
            first_error = first_error or exc
        done += len(deliveries)
        if time.monotonic() > deadline:
            webhook_drain_queue(slot=slot)
            break
    if first_error is not None:
        raise first_error
    return done


def webhook_deliveries_process(deliveries: Sequence[WebhookDelivery]) -> None:
    """Look up the runs each delivery points at through the platform API, ingest them like a poll would, and fetch
    and triage the new failures right here, one batch per connection: from webhook to incident in one task, where
    a poll queues two more. A delivery whose lookup fails is marked failed and the others go on; the first error is
    raised at the end so the task queue records it."""
    by_connection: dict[int, list[WebhookDelivery]] = {}
    for delivery in deliveries:
        by_connection.setdefault(delivery.connection_id, []).append(delivery)
    errors: list[Exception] = []
    for batch in by_connection.values():
        try:
            _connection_deliveries_process(batch[0].connection, batch, errors)
        except Exception as exc:  # noqa: BLE001 - the other connections' deliveries still get processed
            errors.append(exc)
    if errors:
        raise errors[0]


def _resolved(alert: AzureMonitorAlert) -> bool:
    return alert.data.essentials.monitorCondition != "Fired"


def _target_problem(payload: BaseModel, connection: Connection) -> str:
    """Why a fired alert or an ADF callback is not about the connection's factory ("" when it is, or may be)."""
    if isinstance(payload, AzureMonitorAlert):
        return alert_target_problem(payload, connection)
    if isinstance(payload, AdfCallback):
        return callback_target_problem(payload, connection)
    return ""


def _platform_down(error: SourceError) -> bool:
    """Whether a lookup's failure says the platform (or AIMS's access to it) is failing, so the batch's other
    lookups would fail too: transport errors, timeouts, 429 and 5xx (all retryable) and refused credentials. Any
    other answer (404, 400) is about the one run asked for."""
    return error.retryable or error.status in (401, 403)


def _not_looked_up(delivery: WebhookDelivery, cause: SourceError) -> None:
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.error = f"not looked up: an earlier lookup of its batch failed: {cause}"[:2000]


def _connection_deliveries_process(
    connection: Connection, deliveries: list[WebhookDelivery], errors: list[Exception]
) -> None:
    client = client_for(connection)
    # A webhook only hurries what the next poll finds anyway: its lookups give up sooner than a poll's, and once
    # one has failed the rest of the batch's deliveries to this connection are not tried (a platform that is down
    # must not hold up every other connection's webhooks behind its retries).
    down: SourceError | None = None
    notified: list[RunRecord] = []  # Databricks: ingested together, after the loop
    alerts: list[tuple[WebhookDelivery, AzureMonitorAlert]] = []  # fired Azure Monitor alerts: one lookup
    failures: dict[str, None] = {}  # the failures new to AIMS, in the order they came
    for delivery in deliveries:
        delivery.status, delivery.error = WebhookDelivery.Status.PROCESSED, ""
        try:
            payload = payload_parse(delivery.source, delivery.body.encode())
            if isinstance(payload, AzureMonitorAlert) and _resolved(payload):
                delivery.status = WebhookDelivery.Status.IGNORED
            elif problem := _target_problem(payload, connection):
                delivery.status, delivery.error = WebhookDelivery.Status.IGNORED, problem[:2000]
            elif down is not None:
                _not_looked_up(delivery, down)
            elif isinstance(payload, DatabricksNotification):
                record = call_twice(partial(client.get_run, payload.job_run_id))
                notified.append(record)
                delivery.run_ids = [record.external_run_id]
            elif isinstance(payload, AdfCallback) and payload.runId:
                record = call_twice(partial(client.get_run, payload.runId))
                if callback_run_take(delivery, record, now=timezone.now()):
                    notified.append(record)
            elif isinstance(payload, AdfCallback):  # no run id: its pipeline's failures, as for an alert
                alerts.append((delivery, callback_lookup(payload, received=delivery.created_at, now=timezone.now())))
            else:
                alerts.append((delivery, payload))
        except SourceError as exc:
            delivery.status = WebhookDelivery.Status.FAILED
            if _platform_down(exc):
                delivery.error = str(exc)[:2000]
                errors.append(exc)
                down = exc
            else:  # this run only: say so, and look the others up
                delivery.error = f"run not found or refused by the platform: {exc}"[:2000]
        except PayloadError as exc:
            delivery.status, delivery.error = WebhookDelivery.Status.FAILED, str(exc)[:2000]
            errors.append(exc)
    if alerts and down is not None:
        for delivery, _ in alerts:
            _not_looked_up(delivery, down)
    elif alerts:
        try:
            failures.update(dict.fromkeys(_alerts_process(connection, client, alerts)))
            for delivery, _ in alerts:
                if delivery.source == WebhookDelivery.Source.ADF_CALLBACK:
                    callback_lookup_settle(delivery, now=timezone.now())
        except SourceError as exc:
            for delivery, _ in alerts:
                delivery.status, delivery.error = WebhookDelivery.Status.FAILED, str(exc)[:2000]
            errors.append(exc)
    if notified:
        # Should this fail, the deliveries stay accepted and are taken up again once their claim ends.
        result = runs_ingest(connection=connection, records=notified, queue_detail=False)
        failures.update(dict.fromkeys(result.failures_queued))
    try:
        if failures:
            failures_enrich(connection_id=connection.pk, external_run_ids=list(failures), triage_now=True)
    finally:
        # Processed once its runs are stored. A detail error fails the task, and the next poll fetches it again.
        callback_fallback_note(deliveries)
        now = timezone.now()
        for delivery in deliveries:  # an ADF callback whose run has not ended stays accepted, to be read again
            delivery.updated_at = now
            delivery.processed_at = None if delivery.status == WebhookDelivery.Status.ACCEPTED else now
        WebhookDelivery.objects.bulk_update(
            deliveries, ["status", "run_ids", "error", "processed_at", "updated_at", "claimed_until"]
        )


def webhook_delivery_process(*, delivery_id: int) -> WebhookDelivery:
    """Process one delivery now, whoever holds it (see webhook_deliveries_process); a delivery already processed is
    left as it is."""
    delivery = WebhookDelivery.objects.select_related("connection").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.ACCEPTED:
        webhook_deliveries_process([delivery])
    return delivery
