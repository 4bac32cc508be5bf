"""The rerun engine: start a due attempt through the platform's own recovery, follow it to its end, reconcile one
whose worker died, and announce each step (after commit) to the layers above."""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aimsweb.batch import apply_each, each_then_raise
from aimsweb.redact import redact
from aimsweb.signals import send_on_commit
from monitors.clients import client_for
from monitors.clients.base import RerunRequest, RerunStarted, SourceError, call_twice
from monitors.maintenance import maintenance_window_active
from monitors.models import Connection, PipelineRun, RerunMode
from monitors.services import runs_ingest
from remediation import signals
from remediation.models import RetryAttempt
from remediation.services.attempts import FINISHED, IN_FLIGHT
from remediation.services.policies import Skip, retry_policy_match

logger = logging.getLogger(__name__)

TERMINAL_RUN = (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED)
STORM_WAIT = timedelta(seconds=60)
MANUAL_CAP = 5  # concurrent reruns per connection for a retry by hand when no policy names a cap
ANNOUNCE_AGAIN_AFTER = timedelta(minutes=2)  # an outcome no receiver took in (its worker died) is announced again


def _request(attempt: RetryAttempt) -> RerunRequest:
    run = attempt.run
    return RerunRequest(
        external_run_id=run.external_run_id,
        pipeline_external_id=run.pipeline.external_id,
        pipeline_name=run.pipeline.name,
        run_raw=run.raw,
        mode=attempt.mode,
        idempotency_key=attempt.idempotency_key,
    )


def _attempt_load(attempt_id: int) -> RetryAttempt:
    return RetryAttempt.objects.select_related("run__pipeline", "run__connection", "policy").get(pk=attempt_id)


def _cancel(attempt: RetryAttempt, reason: Skip, params: dict | None = None) -> RetryAttempt:
    with transaction.atomic():
        cancelled = RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.SCHEDULED).update(
            status=RetryAttempt.Status.CANCELLED, finished_at=timezone.now(), error_message=redact(str(reason))
        )
        if cancelled:
            send_on_commit(
                signals.attempt_cancelled,
                sender=signals.SENDER,
                attempt_id=attempt.pk,
                reason=reason,
                reason_params=params or {},
            )
    attempt.refresh_from_db()
    return attempt


def retry_attempt_execute(*, attempt_id: int, now: datetime | None = None) -> RetryAttempt:
    """Start a due attempt: re-check that it may still run (policy still matching, no maintenance window, under
    the connection's cap on reruns in flight), claim it (committed before the platform is called), then ask the
    platform for the rerun and record what it answered."""
    now = now or timezone.now()
    attempt = _attempt_load(attempt_id)
    if attempt.status != RetryAttempt.Status.SCHEDULED or attempt.scheduled_for > now:
        return attempt
    run = attempt.run
    policy = attempt.policy
    if attempt.trigger == RetryAttempt.Trigger.POLICY:
        current = retry_policy_match(
            connection_id=run.connection_id, pipeline_name=run.pipeline.name, category=attempt.category
        )
        if policy is None or current is None or current.pk != policy.pk:
            return _cancel(attempt, Skip.POLICY_GONE)
    window = maintenance_window_active(
        connection_id=run.connection_id, pipeline_name=run.pipeline.name, suppresses="retries", at=now
    )
    if window is not None:
        return _cancel(attempt, Skip.MAINTENANCE, {"window": window.name, "window_id": window.pk})
    cap = policy.max_concurrent_reruns if policy else MANUAL_CAP
    in_flight = RetryAttempt.objects.filter(run__connection_id=run.connection_id, status__in=IN_FLIGHT).count()
    if in_flight >= cap:
        RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.SCHEDULED).update(
            scheduled_for=now + STORM_WAIT,
            error_message=f"Waiting: {in_flight} reruns already in flight on {run.connection.name} (cap {cap}).",
        )
        attempt.refresh_from_db()
        return attempt
    claimed = RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.SCHEDULED).update(
        status=RetryAttempt.Status.CLAIMED, started_at=now, error_message=""
    )
    attempt.refresh_from_db()
    return _start(attempt) if claimed else attempt


def _start(attempt: RetryAttempt) -> RetryAttempt:
    """Call the platform for a claimed attempt and record the answer. A refusal that did not start anything
    (throttling, unavailability) puts the attempt back on the schedule; a definite refusal fails it; an answer that
    never came (timeout, lost connection) leaves it claimed, for reconciliation with the platform later."""
    run = attempt.run
    try:
        started = client_for(run.connection).start_rerun(_request(attempt))
    except SourceError as exc:
        if exc.status in (429, 503):
            RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.CLAIMED).update(
                status=RetryAttempt.Status.SCHEDULED,
                scheduled_for=timezone.now() + timedelta(seconds=max(exc.retry_after or 0, 60)),
                error_message=redact(f"Platform busy, trying again: {exc}")[:2000],
            )
        elif exc.status is not None:
            _finish(attempt, succeeded=False, status=RetryAttempt.Status.ERROR, detail=f"could not be started: {exc}")
        else:
            RetryAttempt.objects.filter(pk=attempt.pk).update(error_message=redact(f"No answer yet: {exc}")[:2000])
            logger.warning("rerun of attempt %s got no answer; reconciling after the lease: %s", attempt.pk, exc)
        attempt.refresh_from_db()
        return attempt
    return _record_started(attempt, started, adopted=False)


def _record_started(attempt: RetryAttempt, started: RerunStarted, *, adopted: bool) -> RetryAttempt:
    with transaction.atomic():
        updated = RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.CLAIMED).update(
            status=RetryAttempt.Status.RUNNING, external_rerun_id=started.rerun_id, error_message=""
        )
        if updated:
            send_on_commit(signals.attempt_started, sender=signals.SENDER, attempt_id=attempt.pk, adopted=adopted)
    attempt.refresh_from_db()
    return attempt


def retry_attempt_follow(*, attempt_id: int) -> RetryAttempt:
    """Read a running rerun's state from the platform (storing the rerun like a polled run); once it has ended,
    finish the attempt."""
    attempt = _attempt_load(attempt_id)
    if attempt.status != RetryAttempt.Status.RUNNING:
        return attempt
    run = attempt.run
    client = client_for(run.connection)
    started = RerunStarted(
        rerun_id=attempt.external_rerun_id,
        run_id=run.external_run_id
        if (run.connection.kind == Connection.Kind.DATABRICKS and attempt.mode == RerunMode.RECOVER)
        else attempt.external_rerun_id,
    )
    state = call_twice(partial(client.rerun_state, _request(attempt), started))
    runs_ingest(connection=run.connection, records=[state.record])
    if started.run_id != run.external_run_id:
        rerun = PipelineRun.objects.filter(connection=run.connection, external_run_id=started.run_id).first()
        if rerun is not None:
            PipelineRun.objects.filter(pk=rerun.pk, rerun_of__isnull=True).update(rerun_of=run)
            RetryAttempt.objects.filter(pk=attempt.pk).update(rerun=rerun)
    if state.status not in TERMINAL_RUN:
        return attempt
    detail = state.record.message if state.status != PipelineRun.Status.SUCCEEDED else ""
    return _finish(attempt, succeeded=state.status == PipelineRun.Status.SUCCEEDED, detail=detail)


def _finish(attempt: RetryAttempt, *, succeeded: bool, status: str | None = None, detail: str = "") -> RetryAttempt:
    """Record the outcome once (the conditional update is the guard) and announce it: the layers above resolve,
    schedule the next attempt or escalate."""
    status = status or (RetryAttempt.Status.SUCCEEDED if succeeded else RetryAttempt.Status.FAILED)
    with transaction.atomic():
        updated = RetryAttempt.objects.filter(pk=attempt.pk, status__in=IN_FLIGHT).update(
            status=status, finished_at=timezone.now(), error_message=redact(detail)[:2000]
        )
        if updated:
            send_on_commit(signals.attempt_finished, sender=signals.SENDER, attempt_id=attempt.pk)
    attempt.refresh_from_db()
    return attempt


def retry_attempt_reconcile(*, attempt_id: int, now: datetime | None = None) -> RetryAttempt:
    """An attempt claimed longer than the lease ago without an answer recorded (its worker died, or the platform
    never answered): adopt the rerun the platform has that no other attempt accounts for, else start it now,
    once (the claim is renewed first, so two reconcilers cannot both start it)."""
    now = now or timezone.now()
    attempt = _attempt_load(attempt_id)
    lease = timedelta(seconds=settings.AIMS_RETRY_CLAIM_LEASE_SECONDS)
    if attempt.status != RetryAttempt.Status.CLAIMED or attempt.started_at is None or attempt.started_at > now - lease:
        return attempt
    renewed = RetryAttempt.objects.filter(
        pk=attempt.pk, status=RetryAttempt.Status.CLAIMED, started_at=attempt.started_at
    ).update(started_at=now)
    if not renewed:
        attempt.refresh_from_db()
        return attempt
    attempt.refresh_from_db()
    known = set(
        RetryAttempt.objects.filter(run=attempt.run)
        .exclude(pk=attempt.pk)
        .exclude(external_rerun_id="")
        .values_list("external_rerun_id", flat=True)
    )
    found = call_twice(partial(client_for(attempt.run.connection).find_rerun, _request(attempt), known=known))
    if found is not None:
        return _record_started(attempt, found, adopted=True)
    return _start(attempt)


def retry_attempts_follow_succeeded(*, connection_id: int, external_run_ids: list[str]) -> int:
    """Runs that just succeeded: follow (and so finish) the running attempts they are, or are reruns of."""
    running = RetryAttempt.objects.filter(
        Q(run__connection_id=connection_id, run__external_run_id__in=external_run_ids)
        | Q(run__connection_id=connection_id, external_rerun_id__in=external_run_ids),
        status=RetryAttempt.Status.RUNNING,
    ).values_list("pk", flat=True)
    ids = list(running)
    each_then_raise(ids, lambda pk: retry_attempt_follow(attempt_id=pk))
    return len(ids)


def _outcome_announce(attempt_id: int) -> None:
    signals.attempt_finished.send(sender=signals.SENDER, attempt_id=attempt_id)


def remediation_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Every minute: start due attempts, follow running ones, reconcile stale claims, announce again the outcomes
    nobody took in. One item failing does not stop the others; the first error is raised at the end."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.AIMS_RETRY_CLAIM_LEASE_SECONDS)
    work = {
        "started": (
            lambda pk: retry_attempt_execute(attempt_id=pk, now=now),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.SCHEDULED, scheduled_for__lte=now),
        ),
        "followed": (
            lambda pk: retry_attempt_follow(attempt_id=pk),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.RUNNING),
        ),
        "reconciled": (
            lambda pk: retry_attempt_reconcile(attempt_id=pk, now=now),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.CLAIMED, started_at__lte=now - lease),
        ),
        "announced": (
            _outcome_announce,
            RetryAttempt.objects.filter(
                status__in=FINISHED, outcome_announced_at__isnull=True, finished_at__lte=now - ANNOUNCE_AGAIN_AFTER
            ),
        ),
    }
    counts, first_error = {}, None
    for name, (action, queryset) in work.items():
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:200])
        counts[name], error = apply_each(ids, action, label=f"remediation tick: {name}")
        first_error = first_error or error
    if first_error is not None:
        raise first_error
    return counts
