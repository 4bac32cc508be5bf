"""Attempts: scheduling a rerun (by policy or by hand), the next one after a failure, cancelling scheduled ones.
Each is one row claimed by its unique key, so a repeated task or a double submit schedules nothing twice."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from aimsweb.choices import ErrorCategory
from aimsweb.redact import redact
from monitors.models import PipelineRun, RerunMode
from remediation import tasks
from remediation.models import RetryAttempt, RetryPolicy
from remediation.services.policies import RetryAdvice, Skip, retry_delay, retry_policy_match, retry_verdict

IN_FLIGHT = (RetryAttempt.Status.CLAIMED, RetryAttempt.Status.RUNNING)
FINISHED = (RetryAttempt.Status.SUCCEEDED, RetryAttempt.Status.FAILED, RetryAttempt.Status.ERROR)


@dataclass(frozen=True)
class Scheduled:
    attempt: RetryAttempt
    created: bool  # False: the attempt existed already (a repeat), nothing new to tell


@dataclass(frozen=True)
class Decision:
    """A rerun scheduled, or why not (a Skip, or after a failed attempt an Escalation), with plain-value params."""

    scheduled: Scheduled | None
    reason: str = ""
    params: dict = field(default_factory=dict)


class Escalation(StrEnum):
    """Why no further attempt follows a failed one: a person has to look."""

    EXHAUSTED = "exhausted"  # params: max_attempts
    POLICY_GONE = "policy_gone"


def retry_attempt_schedule(
    *,
    run: PipelineRun,
    policy: RetryPolicy | None,
    number: int,
    delay: timedelta,
    category: str = ErrorCategory.UNKNOWN,
    advised_delay_minutes: int = 0,
    trigger: str = RetryAttempt.Trigger.POLICY,
    mode: str | None = None,
    requested_by: User | None = None,
    key: str | None = None,
) -> Scheduled:
    """Create attempt `number` of a run (its unique key makes a repeat harmless); queue it at once after commit when
    it is due now, else the remediation tick starts it at its time."""
    attempt, created = RetryAttempt.objects.get_or_create(
        run=run,
        attempt_number=number,
        defaults={
            "idempotency_key": key or f"aims-{run.connection_id}-{run.external_run_id}-{number}",
            "policy": policy,
            "mode": mode or (policy.rerun_mode if policy else RerunMode.RECOVER),
            "trigger": trigger,
            "requested_by": requested_by,
            "scheduled_for": timezone.now() + delay,
            "category": category,
            "advised_delay_minutes": advised_delay_minutes,
        },
    )
    if created and delay.total_seconds() < 1:
        transaction.on_commit(partial(async_task, tasks.retry_attempt_execute_task, attempt.pk))
    return Scheduled(attempt=attempt, created=created)


def remediation_decide(*, run: PipelineRun, advice: RetryAdvice) -> Decision:
    """Schedule the first rerun of a failed run (loaded with its pipeline) when a policy allows it (see
    retry_verdict), else say why not. Call inside the transaction that counts the failure."""
    verdict = retry_verdict(run=run, advice=advice)
    if verdict.policy is None:
        return Decision(scheduled=None, reason=str(verdict.skip), params=verdict.params)
    delay = retry_delay(policy=verdict.policy, attempt_number=1, advised_minutes=advice.delay_minutes)
    scheduled = retry_attempt_schedule(
        run=run,
        policy=verdict.policy,
        number=1,
        delay=delay,
        category=advice.category,
        advised_delay_minutes=advice.delay_minutes,
    )
    return Decision(scheduled=scheduled)


def retry_attempt_continue(*, attempt: RetryAttempt) -> Decision:
    """After a policy's attempt failed: schedule the next one while the same policy still covers the failure and
    allows more, else say why a person must look (Escalation). Call inside a transaction."""
    run, policy = attempt.run, attempt.policy
    current = retry_policy_match(
        connection_id=run.connection_id, pipeline_name=run.pipeline.name, category=attempt.category
    )
    if policy is None or current is None or current.pk != policy.pk:
        return Decision(scheduled=None, reason=Escalation.POLICY_GONE)
    if attempt.attempt_number >= policy.max_attempts:
        return Decision(scheduled=None, reason=Escalation.EXHAUSTED, params={"max_attempts": policy.max_attempts})
    number = attempt.attempt_number + 1
    delay = retry_delay(policy=policy, attempt_number=number, advised_minutes=attempt.advised_delay_minutes)
    scheduled = retry_attempt_schedule(
        run=run,
        policy=policy,
        number=number,
        delay=delay,
        category=attempt.category,
        advised_delay_minutes=attempt.advised_delay_minutes,
    )
    return Decision(scheduled=scheduled)


def pipeline_run_retry(*, run_id: int, user: User, request_key: str, category: str) -> Scheduled:
    """A retry by hand: the next attempt of this failed run, due now, in the mode of the policy matching its error
    class or a recovery; the request key makes a double submit one attempt."""
    with transaction.atomic():
        run = (
            PipelineRun.objects.select_for_update(of=("self",)).select_related("pipeline", "connection").get(pk=run_id)
        )
        if run.status != PipelineRun.Status.FAILED:
            raise ValidationError(f"Run {run.external_run_id} is {run.get_status_display().lower()}, not failed.")
        existing = RetryAttempt.objects.filter(idempotency_key=f"manual-{request_key}").first()
        if existing is not None:
            return Scheduled(attempt=existing, created=False)
        if RetryAttempt.objects.filter(run=run, status__in=(*IN_FLIGHT, RetryAttempt.Status.SCHEDULED)).exists():
            raise ValidationError("A retry of this run is already scheduled or running.")
        policy = retry_policy_match(connection_id=run.connection_id, pipeline_name=run.pipeline.name, category=category)
        last = RetryAttempt.objects.filter(run=run).order_by("-attempt_number").first()
        return retry_attempt_schedule(
            run=run,
            policy=policy,
            number=(last.attempt_number if last else 0) + 1,
            delay=timedelta(0),
            category=category,
            trigger=RetryAttempt.Trigger.MANUAL,
            mode=policy.rerun_mode if policy else RerunMode.RECOVER,
            requested_by=user,
            key=f"manual-{request_key}",
        )


def retry_attempts_cancel(
    *, run_ids: Iterable[int] | QuerySet, reason: Skip, attempt_ids: Iterable[int] | None = None
) -> list[RetryAttempt]:
    """Cancel the scheduled policy attempts of these runs (e.g. their incident was resolved); returns those
    cancelled. Attempts by hand stay: a person asked for them. With `attempt_ids` (a person cancels), exactly those
    of them still scheduled are cancelled, by hand or not. Call inside a transaction."""
    due = RetryAttempt.objects.select_for_update(of=("self",)).filter(
        run_id__in=run_ids, status=RetryAttempt.Status.SCHEDULED
    )
    if attempt_ids is None:
        due = due.filter(trigger=RetryAttempt.Trigger.POLICY)
    else:
        due = due.filter(pk__in=list(attempt_ids))
    cancelled = list(due.order_by("pk"))
    if cancelled:
        RetryAttempt.objects.filter(pk__in=[attempt.pk for attempt in cancelled]).update(
            status=RetryAttempt.Status.CANCELLED, finished_at=timezone.now(), error_message=redact(str(reason))
        )
    return cancelled


def retry_attempt_outcome_taken(*, attempt_id: int) -> None:
    """The layers above have taken a finished attempt's outcome in: it is not announced again."""
    RetryAttempt.objects.filter(pk=attempt_id, outcome_announced_at__isnull=True).update(
        outcome_announced_at=timezone.now()
    )
