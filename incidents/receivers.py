"""What the incidents app does when the layers below announce something (each after their commit)."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from incidents import tasks
from incidents.realtime import runs_failed_broadcast
from incidents.services import retries, triage
from monitors import signals as monitors_signals
from remediation import signals as remediation_signals


@receiver(monitors_signals.runs_failed, dispatch_uid="incidents-runs-failed")
def runs_failed_show(sender, *, pipeline_ids: list[int], **kwargs) -> None:
    runs_failed_broadcast(pipeline_ids=pipeline_ids)


@receiver(monitors_signals.failures_detailed, dispatch_uid="incidents-failures-detailed")
def failures_detailed_triage(sender, *, run_ids: list[int], immediate: bool, **kwargs) -> None:
    """Triage the failures whose detail is stored: here and now when asked (a webhook's task), else queued."""
    if immediate:
        triage.failures_triage(run_ids=run_ids)
    else:
        transaction.on_commit(partial(async_task, tasks.failures_triage_task, run_ids, group="triage"))


@receiver(monitors_signals.runs_succeeded, dispatch_uid="incidents-runs-succeeded")
def runs_succeeded_recover(
    sender, *, connection_id: int, external_run_ids: list[str], pipeline_ids: list[int], **kwargs
) -> None:
    """Queue the recovery of what these successes may end (open incidents, running reruns), if anything."""
    if retries.recovery_awaited(connection_id=connection_id, pipeline_ids=pipeline_ids):
        async_task(tasks.runs_succeeded_task, connection_id, external_run_ids, group="recovery")


@receiver(remediation_signals.attempt_started, dispatch_uid="incidents-attempt-started")
def attempt_started(sender, *, attempt_id: int, adopted: bool, **kwargs) -> None:
    retries.attempt_started_note(attempt_id=attempt_id, adopted=adopted)


@receiver(remediation_signals.attempt_cancelled, dispatch_uid="incidents-attempt-cancelled")
def attempt_cancelled(sender, *, attempt_id: int, reason: str, reason_params: dict, **kwargs) -> None:
    retries.attempt_cancelled_note(attempt_id=attempt_id, reason=reason, reason_params=reason_params)


@receiver(remediation_signals.attempt_finished, dispatch_uid="incidents-attempt-finished")
def attempt_finished(sender, *, attempt_id: int, **kwargs) -> None:
    retries.attempt_outcome_take(attempt_id=attempt_id)
