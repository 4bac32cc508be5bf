"""Webhook drains: claim accepted deliveries, look their runs up, ingest and detail them, in one task."""

import contextlib
import functools
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task
from pydantic import BaseModel

from monitors import tasks
from monitors.adf_callback import (
    AdfCallback,
    callback_fallback_note,
    callback_lookup,
    callback_lookup_settle,
    callback_run_take,
    callback_target_problem,
)
from monitors.alerts import (
    COVERED,
    FiredAlert,
    alert_coverage_record,
    alert_needs,
    alert_target_problem,
    alerts_lookup,
)
from monitors.clients import client_for
from monitors.clients.base import RunRecord, SourceError, call_twice
from monitors.models import (
    Connection,
    WebhookDelivery,
)
from monitors.services.detail import failures_enrich
from monitors.services.ingest import runs_ingest
from monitors.webhooks import (
    AzureMonitorAlert,
    DatabricksNotification,
    PayloadError,
    payload_parse,
)

logger = logging.getLogger(__name__)

DRAIN_MARK = "aims:webhook-drain-queued"
DRAIN_MARK_SECONDS = 60  # a drain that was lost or died holds the next one back no longer than this
DRAIN_SECONDS = 30  # one drain task goes on no longer than this (well within the task timeout)


def _alerts_process(connection: Connection, client, alerts: list[tuple[WebhookDelivery, FiredAlert]]) -> list[str]:
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
        assert lookup is not None  # this delivery's need was among those looked up
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
    async_task(tasks.webhook_deliveries_drain_task, slot, group="webhooks")


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
    alerts: list[tuple[WebhookDelivery, FiredAlert]] = []  # fired Azure Monitor alerts: one lookup
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
                assert isinstance(payload, AzureMonitorAlert)  # the one payload model left
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
