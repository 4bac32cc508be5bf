"""The incident's side of reruns: what the analysis advises the engine, the timeline of each attempt, and what an
attempt's outcome does to its incident (resolve, next attempt, escalate). The engine (remediation) announces; this
module listens and never starts a rerun itself."""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from aimsweb.batch import each_then_raise
from aimsweb.choices import ErrorCategory
from incidents.models import FailureAnalysis, Incident, IncidentEvent, IncidentPipeline, Notification
from incidents.services.analysis import signature_retry_record
from incidents.services.events import RETRY_ENGINE, Actor, incident_event_add
from incidents.services.incidents import incident_resolve_locked, incident_unsilence
from incidents.services.notifications import incident_notify
from incidents.services.occurrences import incident_recover
from incidents.services.storms import part_recover_locked, pipeline_parts_recover
from incidents.timeline import escalation_words
from monitors.models import PipelineRun, RerunMode
from remediation.models import RetryAttempt, RetryPolicy
from remediation.services import (
    RetryAdvice,
    Scheduled,
    Skip,
    pipeline_run_retry,
    remediation_decide,
    retry_attempt_continue,
    retry_attempt_outcome_taken,
    retry_attempts_cancel,
    retry_attempts_follow_succeeded,
    retry_policy_match,
)


def retry_advice(analysis: FailureAnalysis) -> RetryAdvice:
    return RetryAdvice(
        category=analysis.category,
        should_retry=analysis.should_retry,
        confidence=analysis.confidence,
        delay_minutes=analysis.retry_delay_minutes,
    )


def _scheduled_note(incident: Incident, scheduled: Scheduled, *, actor: Actor = RETRY_ENGINE) -> None:
    attempt = scheduled.attempt
    if not scheduled.created:
        return
    policy, run = _by_policy(attempt), attempt.run
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.RETRY_SCHEDULED,
        actor=actor,
        params={
            **_attempt_params(attempt),
            "run_id": run.pk,
            "scheduled_for": attempt.scheduled_for.isoformat(),
            "delay_seconds": (attempt.scheduled_for - attempt.created_at).total_seconds(),
            "policy": policy.name if policy else None,
            "policy_id": policy.pk if policy else None,
            "platform": run.connection.kind,
            "mode": attempt.mode,
        },
    )


def _by_policy(attempt: RetryAttempt) -> RetryPolicy | None:
    """The policy that scheduled the attempt (None for one asked for by hand)."""
    return attempt.policy if attempt.trigger == RetryAttempt.Trigger.POLICY else None


def _attempt_params(attempt: RetryAttempt) -> dict:
    policy = _by_policy(attempt)
    return {
        "attempt_id": attempt.pk,
        "attempt_number": attempt.attempt_number,
        "max_attempts": policy.max_attempts if policy else None,
    }


def incident_retry_decide(*, run: PipelineRun, analysis: FailureAnalysis, incident: Incident) -> bool:
    """Ask the retry policy about a failed run counted in this incident, and put the answer on its timeline.
    Returns whether a rerun is scheduled. Call inside the triage transaction."""
    decision = remediation_decide(run=run, advice=retry_advice(analysis))
    if decision.scheduled is None:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SKIPPED,
            actor=RETRY_ENGINE,
            params={"run_id": run.pk, "reason": decision.reason, "reason_params": decision.params},
        )
        return False
    _scheduled_note(incident, decision.scheduled)
    return True


def _incident_of_run(run_id: int, *, lock: bool = False) -> Incident | None:
    incident_id = FailureAnalysis.objects.filter(run_id=run_id).values_list("incident", flat=True).first()
    if incident_id is None:
        return None
    incidents = Incident.objects.select_for_update(of=("self",)) if lock else Incident.objects
    return incidents.select_related("pipeline", "connection").get(pk=incident_id)


class RetryNotAdvised(ValidationError):
    """A retry by hand the analysis advises against, asked for without confirming: `reason` says why in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="not_advised")
        self.reason = reason


def retry_advised_against(analysis: FailureAnalysis | None) -> str:
    """Why the analysis advises against retrying its run, in words, or "" when it does not (or there is none)."""
    if analysis is None or (analysis.should_retry and not analysis.manual_intervention_required):
        return ""
    verdict = (
        "The analysis says a manual fix is required"
        if analysis.manual_intervention_required
        else "The analysis does not advise a retry"
    )
    why = (analysis.root_cause or analysis.summary).strip()
    return f"{verdict}: {why[:500]}" if why else f"{verdict}."


def pipeline_run_retry_by_hand(
    *, run_id: int, user: User, request_key: str, actor: Actor | None = None, confirmed: bool = False
) -> RetryAttempt:
    """A Responder retries a failed run: the engine schedules it now (see pipeline_run_retry), the run's incident
    says who asked (`actor`, by default the user; an API key names itself). A retry the analysis advises against
    needs `confirmed`, else RetryNotAdvised is raised and nothing is written."""
    with transaction.atomic():
        analysis = FailureAnalysis.objects.filter(run_id=run_id).first()
        against = retry_advised_against(analysis)
        if against and not confirmed:
            raise RetryNotAdvised(against)
        category = analysis.category if analysis else ErrorCategory.UNKNOWN
        scheduled = pipeline_run_retry(run_id=run_id, user=user, request_key=request_key, category=category)
        incident = _incident_of_run(run_id)
        if incident is not None:
            _scheduled_note(incident, scheduled, actor=actor or Actor.of_user(user))
    return scheduled.attempt


def incident_retry_cancel(*, incident_id: int, attempt_id: int, user: User) -> RetryAttempt:
    """A Responder cancels a scheduled attempt of a run of this incident: marked cancelled with the reason "cancelled
    by <user>", put on the timeline. RetryAttempt.DoesNotExist for an attempt of another incident; ValidationError
    when it is no longer scheduled (claimed, running or finished)."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident_id)
        attempt = _attempt(attempt_id)
        owner = _incident_of_run(attempt.run_id)
        if owner is None or owner.pk != incident.pk:
            raise RetryAttempt.DoesNotExist("No such retry in this incident.")
        cancelled = retry_attempts_cancel(
            run_ids=[attempt.run_id], reason=Skip.CANCELLED_BY_HAND, attempt_ids=[attempt.pk]
        )
        if not cancelled:
            state = attempt.get_status_display().lower()
            raise ValidationError(
                f"Retry {attempt.attempt_number} is {state}: only a scheduled retry can be cancelled."
            )
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SKIPPED,
            actor=Actor.of_user(user),
            params={
                **_attempt_params(attempt),
                "reason": Skip.CANCELLED_BY_HAND,
                "reason_params": {"user": user.get_username()},
            },
        )
    attempt.refresh_from_db()
    return attempt


def _attempt(attempt_id: int, *, lock: bool = False) -> RetryAttempt:
    attempts = RetryAttempt.objects.select_for_update(of=("self",)) if lock else RetryAttempt.objects
    return attempts.select_related("run__pipeline", "run__connection", "policy").get(pk=attempt_id)


def attempt_started_note(*, attempt_id: int, adopted: bool) -> None:
    """Timeline: the platform started (or a stopped worker had started) the rerun."""
    attempt = _attempt(attempt_id)
    incident = _incident_of_run(attempt.run_id)
    if incident is None:
        return
    run = attempt.run
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.RETRY_STARTED,
        actor=RETRY_ENGINE,
        params={
            **_attempt_params(attempt),
            "rerun_id": attempt.external_rerun_id,
            "adopted": adopted,
            "platform": run.connection.kind,
            "mode": attempt.mode,
            "failed_step": run.failed_step if attempt.mode == RerunMode.RECOVER else "",
        },
    )


def attempt_cancelled_note(*, attempt_id: int, reason: str, reason_params: dict) -> None:
    """Timeline: a scheduled attempt was cancelled before it started, and why."""
    attempt = _attempt(attempt_id)
    incident = _incident_of_run(attempt.run_id)
    if incident is not None:
        _cancelled_event(incident, attempt, reason, reason_params)


def _cancelled_event(incident: Incident, attempt: RetryAttempt, reason: str, params: dict) -> None:
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.RETRY_SKIPPED,
        actor=RETRY_ENGINE,
        params={**_attempt_params(attempt), "reason": reason, "reason_params": params},
    )


def attempt_outcome_take(*, attempt_id: int) -> None:
    """A finished attempt's outcome, taken in once: feed the signature's statistics, then success resolves the
    incident; failure schedules the next attempt the policy allows, or escalates."""
    with transaction.atomic():
        attempt = _attempt(attempt_id, lock=True)
        if attempt.outcome_announced_at is not None or attempt.finished_at is None:
            return
        retry_attempt_outcome_taken(attempt_id=attempt.pk)
        succeeded = attempt.status == RetryAttempt.Status.SUCCEEDED
        analysis = FailureAnalysis.objects.filter(run_id=attempt.run_id).first()
        if analysis is not None and attempt.status != RetryAttempt.Status.ERROR:
            signature_retry_record(signature=analysis.signature, succeeded=succeeded)
        incident = _incident_of_run(attempt.run_id, lock=True)
        if incident is None:
            return
        about = _attempt_params(attempt)
        if succeeded:
            incident_event_add(
                incident=incident,
                kind=IncidentEvent.Kind.RETRY_SUCCEEDED,
                actor=RETRY_ENGINE,
                params={**about, "rerun_id": attempt.external_rerun_id},
            )
            # The rerun recovers its pipeline's part; the incident resolves when no other pipeline's part still fails.
            recovered = part_recover_locked(
                incident,
                pipeline_id=attempt.run.pipeline_id,
                recovered_at=attempt.finished_at,
                subject_label=f"retry {attempt.attempt_number} of {attempt.run.pipeline.name}",
                actor=RETRY_ENGINE,
                resolve_params=about,
            )
            if recovered is None:
                incident_resolve_locked(
                    incident, actor=RETRY_ENGINE, kind=IncidentEvent.Kind.AUTO_RESOLVED, params=about
                )
            return
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_FAILED,
            actor=RETRY_ENGINE,
            params={
                **about,
                "not_started": attempt.status == RetryAttempt.Status.ERROR,
                "error": attempt.error_message[:500],
            },
        )
        if attempt.trigger != RetryAttempt.Trigger.POLICY or incident.status == Incident.Status.RESOLVED:
            return
        decision = retry_attempt_continue(attempt=attempt)
        if decision.scheduled is not None:
            _scheduled_note(incident, decision.scheduled)
            return
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.ESCALATED,
            actor=RETRY_ENGINE,
            params={"attempt_id": attempt.pk, "reason": decision.reason, **decision.params},
        )
        reason = escalation_words(decision.reason, decision.params)
        incident_notify(incident=incident, event=Notification.Event.ESCALATED, reason=reason)


def recovery_awaited(*, connection_id: int, pipeline_ids: list[int]) -> bool:
    """Whether a success on these pipelines may resolve an incident, recover a storm's part or end a rerun."""
    open_incident = Incident.objects.filter(pipeline_id__in=pipeline_ids).exclude(status=Incident.Status.RESOLVED)
    # A storm's incident names its first pipeline: the others are its failing parts.
    failing_part = IncidentPipeline.objects.filter(pipeline_id__in=pipeline_ids, recovered_at__isnull=True).exclude(
        incident__status=Incident.Status.RESOLVED
    )
    running = RetryAttempt.objects.filter(run__connection_id=connection_id, status=RetryAttempt.Status.RUNNING)
    return open_incident.exists() or failing_part.exists() or running.exists()


def runs_succeeded(*, connection_id: int, external_run_ids: list[str]) -> int:
    """Runs that just succeeded: finish the attempts they are reruns of, and resolve the open incidents of their
    pipelines that began before them (when the matching policy, or no policy, allows auto-resolve). Returns how many
    incidents were resolved."""
    retry_attempts_follow_succeeded(connection_id=connection_id, external_run_ids=external_run_ids)
    runs = list(
        PipelineRun.objects.filter(
            connection_id=connection_id, external_run_id__in=external_run_ids, status=PipelineRun.Status.SUCCEEDED
        ).select_related("pipeline", "connection")
    )
    resolved = 0
    for run in runs:

        def allowed(incident: Incident, run: PipelineRun = run) -> bool:
            policy = retry_policy_match(
                connection_id=connection_id, pipeline_name=run.pipeline.name, category=incident.category
            )
            return policy is None or policy.auto_resolve

        recovered_at = run.started_at or run.created_at
        subject_label = f"a later run of {run.pipeline.name} ({run.external_run_id})"
        # The run's part of each incident it failed in (a storm's incident resolves when its last part recovers).
        by_parts, without_parts = pipeline_parts_recover(
            pipeline_id=run.pipeline_id, recovered_at=recovered_at, subject_label=subject_label, allowed=allowed
        )
        resolved += by_parts
        for incident_id in without_parts:
            resolved += incident_recover(
                incident_id=incident_id, recovered_at=recovered_at, subject_label=subject_label, allowed=allowed
            )
    return resolved


def silences_end(*, now: datetime | None = None) -> int:
    """End the silences that are over (each through incident_unsilence); the first error is raised at the end."""
    due = Incident.objects.filter(status=Incident.Status.SILENCED, silenced_until__lte=now or timezone.now())
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:200])
    return each_then_raise(ids, lambda pk: incident_unsilence(incident_id=pk), label="silence end")
