"""Polling: every run updated since a monitor's watermark, page by page; and the connection check."""

import fnmatch
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from aimsweb.redact import redact
from monitors.clients import client_for
from monitors.clients.base import ConnectionCheck, SourceError, call_with_backoff
from monitors.models import (
    Connection,
    Monitor,
    PipelineRun,
)
from monitors.services.ingest import OPEN_STATUSES, runs_ingest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollResult:
    skipped: bool = False
    pages: int = 0
    runs_seen: int = 0
    created: int = 0
    updated: int = 0
    failures_queued: int = 0
    watermark: datetime | None = None


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


def connection_check(*, connection: Connection) -> ConnectionCheck:
    """Call the platform once with the connection's settings and say whether and how it answered (the status or
    error class, never the body: the host may echo the secret it was sent)."""
    try:
        return client_for(connection).check()
    except SourceError as exc:
        return ConnectionCheck(ok=False, message=exc.reason, latency_ms=0)
