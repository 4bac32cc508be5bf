"""The retry engine: the matched RetryPolicy decides whether and when a failed run is rerun (the analysis only
advises); each rerun is an attempt row claimed before the platform is called, followed until it ends, and its
outcome resolves the incident, schedules the next attempt or escalates."""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from aimsweb.memo import memoized
from aimsweb.redact import redact
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Notification
from incidents.services.analysis import signature_retry_record
from incidents.services.events import RETRY_ENGINE, SYSTEM, Actor, incident_event_add
from incidents.services.incidents import incident_resolve_locked, incident_unsilence
from incidents.services.notifications import incident_notify, maintenance_window_active
from monitors.clients import client_for
from monitors.clients.base import RerunRequest, RerunStarted, SourceError, call_twice
from monitors.models import Connection, PipelineRun, RerunMode, RetryAttempt, RetryPolicy
from monitors.services import runs_ingest

logger = logging.getLogger(__name__)

IN_FLIGHT = (RetryAttempt.Status.CLAIMED, RetryAttempt.Status.RUNNING)
TERMINAL_RUN = (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED)
STORM_WAIT = timedelta(seconds=60)
MANUAL_CAP = 5  # concurrent reruns per connection for a retry by hand when no policy names a cap
RERUN_WORDS = {
    (Connection.Kind.ADF, RerunMode.RECOVER): "ADF recovery run from the failed activity",
    (Connection.Kind.ADF, RerunMode.FULL): "ADF rerun of the whole pipeline",
    (Connection.Kind.DATABRICKS, RerunMode.RECOVER): "Databricks repair of the failed tasks",
    (Connection.Kind.DATABRICKS, RerunMode.FULL): "new Databricks run of the job",
}


@dataclass(frozen=True)
class Decision:
    attempt: RetryAttempt | None
    reason: str


def retry_policy_match(*, connection_id: int, pipeline_name: str, category: str) -> RetryPolicy | None:
    """The enabled policy with the lowest priority number that matches, or None (then nothing is retried)."""
    for policy in _enabled_policies():
        if policy.matches(connection_id=connection_id, pipeline_name=pipeline_name, category=category):
            return policy
    return None


@memoized
def _enabled_policies() -> list[RetryPolicy]:
    return list(RetryPolicy.objects.filter(enabled=True).order_by("priority", "name"))


def retry_delay(*, policy: RetryPolicy, attempt_number: int, advised_minutes: int = 0, rng=random) -> timedelta:
    """initial × multiplier^(n-1), at least what the analysis advises, capped at the policy's maximum, plus up to
    `jitter` of itself at random."""
    base = policy.backoff_initial_seconds * policy.backoff_multiplier ** (attempt_number - 1)
    seconds = min(max(base, advised_minutes * 60), policy.backoff_max_seconds)
    return timedelta(seconds=seconds * (1 + rng.uniform(0, policy.jitter)))


def _incident_of(run: PipelineRun) -> Incident | None:
    analysis = FailureAnalysis.objects.filter(run=run).select_related("incident").first()
    return analysis.incident if analysis else None


def _words(run: PipelineRun, mode: str) -> str:
    return RERUN_WORDS[(run.connection.kind, mode)]


def retry_attempt_schedule(
    *,
    run: PipelineRun,
    incident: Incident | None,
    policy: RetryPolicy | None,
    number: int,
    delay: timedelta,
    trigger: str = RetryAttempt.Trigger.POLICY,
    mode: str | None = None,
    actor: Actor = RETRY_ENGINE,
    key: str | None = None,
) -> RetryAttempt:
    """Create attempt `number` of a run (its unique key makes a repeat harmless) with a timeline entry; queue it at
    once after commit when it is due now, else the remediation tick starts it at its time."""
    mode = mode or (policy.rerun_mode if policy else RerunMode.RECOVER)
    now = timezone.now()
    attempt, created = RetryAttempt.objects.get_or_create(
        run=run,
        attempt_number=number,
        defaults={
            "idempotency_key": key or f"aims-{run.connection_id}-{run.external_run_id}-{number}",
            "policy": policy,
            "mode": mode,
            "trigger": trigger,
            "requested_by": actor.user,
            "scheduled_for": now + delay,
        },
    )
    if not created:
        return attempt
    if incident is not None:
        of = f" of {policy.max_attempts}" if policy and trigger == RetryAttempt.Trigger.POLICY else ""
        when = "now" if delay.total_seconds() < 1 else f"in {_duration(delay)}"
        by = f"policy “{policy.name}”" if trigger == RetryAttempt.Trigger.POLICY and policy else "request"
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SCHEDULED,
            actor=actor,
            message=f"Retry {number}{of} scheduled {when} ({by}): {_words(run, mode)}.",
            details={"attempt_id": attempt.pk, "run_id": run.pk, "scheduled_for": attempt.scheduled_for.isoformat()},
        )
    if delay.total_seconds() < 1:
        transaction.on_commit(partial(async_task, "incidents.tasks.retry_attempt_execute_task", attempt.pk))
    return attempt


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def remediation_decide(*, run: PipelineRun, analysis: FailureAnalysis, incident: Incident) -> Decision:
    """Whether this failed run is rerun: only under a matching enabled policy, when the analysis advises it with
    enough confidence and no maintenance window forbids it; the reason goes on the timeline either way. Call inside
    the triage transaction."""
    pipeline_name = run.pipeline.name
    window = maintenance_window_active(
        connection_id=run.connection_id, pipeline_name=pipeline_name, suppresses="retries"
    )
    policy = retry_policy_match(
        connection_id=run.connection_id, pipeline_name=pipeline_name, category=analysis.category
    )
    reason = ""
    if window is not None:
        reason = f"Not retried: maintenance window “{window.name}” is active."
    elif policy is None:
        reason = f"Not retried: no retry policy covers {analysis.get_category_display().lower()} failures here."
    elif not analysis.should_retry:
        reason = f"Not retried: policy “{policy.name}” would allow it, but the analysis advises against a retry."
    elif analysis.confidence < policy.min_confidence:
        reason = (
            f"Not retried: the analysis is {analysis.confidence}% confident, below the {policy.min_confidence}% "
            f"policy “{policy.name}” requires."
        )
    if reason:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SKIPPED,
            actor=RETRY_ENGINE,
            message=reason,
            details={"run_id": run.pk},
        )
        return Decision(attempt=None, reason=reason)
    delay = retry_delay(policy=policy, attempt_number=1, advised_minutes=analysis.retry_delay_minutes)
    attempt = retry_attempt_schedule(run=run, incident=incident, policy=policy, number=1, delay=delay)
    return Decision(attempt=attempt, reason="")


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


def _cancel(attempt: RetryAttempt, incident: Incident | None, reason: str) -> RetryAttempt:
    with transaction.atomic():
        if (
            RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.SCHEDULED).update(
                status=RetryAttempt.Status.CANCELLED, finished_at=timezone.now(), error_message=redact(reason)[:2000]
            )
            and incident is not None
        ):
            incident_event_add(
                incident=incident,
                kind=IncidentEvent.Kind.RETRY_SKIPPED,
                actor=RETRY_ENGINE,
                message=f"Retry {attempt.attempt_number} cancelled: {reason}",
                details={"attempt_id": attempt.pk},
            )
    attempt.refresh_from_db()
    return attempt


def retry_attempt_execute(*, attempt_id: int, now: datetime | None = None) -> RetryAttempt:
    """Start a due attempt: re-check that it may still run (incident open, policy still matching, no maintenance
    window, under the connection's cap on reruns in flight), claim it (committed before the platform is called),
    then ask the platform for the rerun and record what it answered."""
    now = now or timezone.now()
    attempt = _attempt_load(attempt_id)
    if attempt.status != RetryAttempt.Status.SCHEDULED or attempt.scheduled_for > now:
        return attempt
    run = attempt.run
    incident = _incident_of(run)
    policy = attempt.policy
    if attempt.trigger == RetryAttempt.Trigger.POLICY:
        if incident is not None and incident.status == Incident.Status.RESOLVED:
            return _cancel(attempt, incident, "the incident was resolved meanwhile.")
        analysis = FailureAnalysis.objects.filter(run=run).first()
        current = retry_policy_match(
            connection_id=run.connection_id,
            pipeline_name=run.pipeline.name,
            category=analysis.category if analysis else "unknown",
        )
        if policy is None or current is None or current.pk != policy.pk:
            return _cancel(attempt, incident, "the retry policy that scheduled it no longer applies.")
    window = maintenance_window_active(
        connection_id=run.connection_id, pipeline_name=run.pipeline.name, suppresses="retries", at=now
    )
    if window is not None:
        return _cancel(attempt, incident, f"maintenance window “{window.name}” is active.")
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
    if not claimed:
        attempt.refresh_from_db()
        return attempt
    attempt.refresh_from_db()
    return _start(attempt, incident)


def _start(attempt: RetryAttempt, incident: Incident | None) -> RetryAttempt:
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
    return _record_started(attempt, incident, started, adopted=False)


def _record_started(
    attempt: RetryAttempt, incident: Incident | None, started: RerunStarted, *, adopted: bool
) -> RetryAttempt:
    with transaction.atomic():
        updated = RetryAttempt.objects.filter(pk=attempt.pk, status=RetryAttempt.Status.CLAIMED).update(
            status=RetryAttempt.Status.RUNNING, external_rerun_id=started.rerun_id, error_message=""
        )
        if updated and incident is not None:
            run = attempt.run
            how = "adopted (a stopped worker had started it)" if adopted else "started"
            step = f" (from {run.failed_step})" if run.failed_step and attempt.mode == RerunMode.RECOVER else ""
            incident_event_add(
                incident=incident,
                kind=IncidentEvent.Kind.RETRY_STARTED,
                actor=RETRY_ENGINE,
                message=f"Retry {attempt.attempt_number} {how}: {_words(run, attempt.mode)}{step}, {started.rerun_id}.",
                details={"attempt_id": attempt.pk, "rerun_id": started.rerun_id, "run_id": started.run_id},
            )
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
    """Record the outcome once (the conditional update is the guard), feed the signature's statistics, then:
    success resolves the incident; failure schedules the next attempt the policy allows, or escalates."""
    status = status or (RetryAttempt.Status.SUCCEEDED if succeeded else RetryAttempt.Status.FAILED)
    run = attempt.run
    with transaction.atomic():
        updated = RetryAttempt.objects.filter(pk=attempt.pk, status__in=IN_FLIGHT).update(
            status=status, finished_at=timezone.now(), error_message=redact(detail)[:2000]
        )
        if not updated:
            attempt.refresh_from_db()
            return attempt
        analysis = FailureAnalysis.objects.filter(run=run).first()
        if analysis is not None and status != RetryAttempt.Status.ERROR:
            signature_retry_record(signature=analysis.signature, succeeded=succeeded)
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("pipeline", "connection")
            .get(pk=analysis.incident_id)
            if analysis is not None and analysis.incident_id
            else None
        )
        policy = attempt.policy
        of = (
            f" of {policy.max_attempts}"
            if policy is not None and attempt.trigger == RetryAttempt.Trigger.POLICY
            else " (by hand)"
        )
        if incident is not None:
            if succeeded:
                incident_event_add(
                    incident=incident,
                    kind=IncidentEvent.Kind.RETRY_SUCCEEDED,
                    actor=RETRY_ENGINE,
                    message=f"Retry {attempt.attempt_number}{of} succeeded ({attempt.external_rerun_id}).",
                    details={"attempt_id": attempt.pk},
                )
                incident_resolve_locked(
                    incident,
                    actor=RETRY_ENGINE,
                    message=f"Recovered by retry {attempt.attempt_number}{of}.",
                    kind=IncidentEvent.Kind.AUTO_RESOLVED,
                    details={"attempt_id": attempt.pk},
                )
            else:
                words = "could not be started" if status == RetryAttempt.Status.ERROR else "failed"
                incident_event_add(
                    incident=incident,
                    kind=IncidentEvent.Kind.RETRY_FAILED,
                    actor=RETRY_ENGINE,
                    message=f"Retry {attempt.attempt_number}{of} {words}" + (f": {detail[:500]}" if detail else "."),
                    details={"attempt_id": attempt.pk},
                )
                _after_failure(attempt, run, incident, analysis)
    attempt.refresh_from_db()
    return attempt


def _after_failure(attempt: RetryAttempt, run: PipelineRun, incident: Incident, analysis) -> None:
    if attempt.trigger != RetryAttempt.Trigger.POLICY or incident.status == Incident.Status.RESOLVED:
        return
    policy = attempt.policy
    current = retry_policy_match(
        connection_id=run.connection_id, pipeline_name=run.pipeline.name, category=analysis.category
    )
    if policy is not None and current is not None and current.pk == policy.pk:
        if attempt.attempt_number < policy.max_attempts:
            delay = retry_delay(
                policy=policy, attempt_number=attempt.attempt_number + 1, advised_minutes=analysis.retry_delay_minutes
            )
            retry_attempt_schedule(
                run=run, incident=incident, policy=policy, number=attempt.attempt_number + 1, delay=delay
            )
            return
        reason = f"all {policy.max_attempts} retries failed"
    else:
        reason = "the retry policy no longer applies"
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.ESCALATED,
        actor=RETRY_ENGINE,
        message=f"Escalated: {reason}; a person needs to look at it.",
        details={"attempt_id": attempt.pk},
    )
    incident_notify(incident=incident, event=Notification.Event.ESCALATED, reason=reason)


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
    incident = _incident_of(attempt.run)
    known = set(
        RetryAttempt.objects.filter(run=attempt.run)
        .exclude(pk=attempt.pk)
        .exclude(external_rerun_id="")
        .values_list("external_rerun_id", flat=True)
    )
    found = call_twice(partial(client_for(attempt.run.connection).find_rerun, _request(attempt), known=known))
    if found is not None:
        return _record_started(attempt, incident, found, adopted=True)
    return _start(attempt, incident)


def pipeline_run_retry(*, run_id: int, user: AbstractBaseUser, request_key: str) -> RetryAttempt:
    """A retry by hand (Responder): the next attempt of this run, due now, in the matching policy's mode or a
    recovery; the request key makes a double submit one attempt."""
    with transaction.atomic():
        run = (
            PipelineRun.objects.select_for_update(of=("self",)).select_related("pipeline", "connection").get(pk=run_id)
        )
        if run.status != PipelineRun.Status.FAILED:
            raise ValidationError(f"Run {run.external_run_id} is {run.get_status_display().lower()}, not failed.")
        existing = RetryAttempt.objects.filter(idempotency_key=f"manual-{request_key}").first()
        if existing is not None:
            return existing
        if RetryAttempt.objects.filter(run=run, status__in=(*IN_FLIGHT, RetryAttempt.Status.SCHEDULED)).exists():
            raise ValidationError("A retry of this run is already scheduled or running.")
        analysis = FailureAnalysis.objects.filter(run=run).first()
        policy = retry_policy_match(
            connection_id=run.connection_id,
            pipeline_name=run.pipeline.name,
            category=analysis.category if analysis else "unknown",
        )
        last = RetryAttempt.objects.filter(run=run).order_by("-attempt_number").first()
        return retry_attempt_schedule(
            run=run,
            incident=analysis.incident if analysis else None,
            policy=policy,
            number=(last.attempt_number if last else 0) + 1,
            delay=timedelta(0),
            trigger=RetryAttempt.Trigger.MANUAL,
            mode=policy.rerun_mode if policy else RerunMode.RECOVER,
            actor=Actor.of_user(user),
            key=f"manual-{request_key}",
        )


def runs_succeeded(*, connection_id: int, external_run_ids: list[str]) -> int:
    """Runs that just succeeded: finish the attempts they are reruns of, and resolve the open incidents of their
    pipelines that began before them (when the matching policy, or no policy, allows auto-resolve). Returns how many
    incidents were resolved."""
    runs = list(
        PipelineRun.objects.filter(
            connection_id=connection_id, external_run_id__in=external_run_ids, status=PipelineRun.Status.SUCCEEDED
        ).select_related("pipeline", "connection")
    )
    for attempt in RetryAttempt.objects.filter(
        Q(run__in=runs) | Q(run__connection_id=connection_id, external_rerun_id__in=external_run_ids),
        status=RetryAttempt.Status.RUNNING,
    ).values_list("pk", flat=True):
        retry_attempt_follow(attempt_id=attempt)
    resolved = 0
    for run in runs:
        for incident_id in (
            Incident.objects.filter(pipeline_id=run.pipeline_id)
            .exclude(status=Incident.Status.RESOLVED)
            .values_list("pk", flat=True)
        ):
            with transaction.atomic():
                incident = (
                    Incident.objects.select_for_update(of=("self",))
                    .select_related("pipeline", "connection", "latest_run")
                    .get(pk=incident_id)
                )
                latest = incident.latest_run
                if incident.status == Incident.Status.RESOLVED or latest is None or latest.pk == run.pk:
                    continue
                if (latest.started_at or latest.created_at) >= (run.started_at or run.created_at):
                    continue
                policy = retry_policy_match(
                    connection_id=connection_id, pipeline_name=run.pipeline.name, category=incident.category
                )
                if policy is not None and not policy.auto_resolve:
                    continue
                resolved += incident_resolve_locked(
                    incident,
                    actor=SYSTEM,
                    message=f"Resolved automatically: a later run of {run.pipeline.name} ({run.external_run_id}) "
                    "succeeded.",
                    kind=IncidentEvent.Kind.AUTO_RESOLVED,
                    details={"run_id": run.pk},
                )
    return resolved


def remediation_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Every minute: start due attempts, follow running ones, reconcile stale claims, end expired silences. One
    item failing does not stop the others; the first error is raised at the end for the task log."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.AIMS_RETRY_CLAIM_LEASE_SECONDS)
    counts = {"started": 0, "followed": 0, "reconciled": 0, "unsilenced": 0}
    first_error = None
    work = [
        (
            "unsilenced",
            lambda pk: incident_unsilence(incident_id=pk),
            Incident.objects.filter(status=Incident.Status.SILENCED, silenced_until__lte=now),
        ),
        (
            "started",
            lambda pk: retry_attempt_execute(attempt_id=pk, now=now),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.SCHEDULED, scheduled_for__lte=now),
        ),
        (
            "followed",
            lambda pk: retry_attempt_follow(attempt_id=pk),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.RUNNING),
        ),
        (
            "reconciled",
            lambda pk: retry_attempt_reconcile(attempt_id=pk, now=now),
            RetryAttempt.objects.filter(status=RetryAttempt.Status.CLAIMED, started_at__lte=now - lease),
        ),
    ]
    for name, action, queryset in work:
        for pk in list(queryset.order_by("pk").values_list("pk", flat=True)[:200]):
            try:
                action(pk)
                counts[name] += 1
            except Exception as exc:
                logger.exception("remediation tick: %s %s failed", name, pk)
                first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return counts
