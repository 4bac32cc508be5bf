"""Reads of the remediation app."""

from collections.abc import Iterable

from django.db.models import Count

from remediation.models import RetryAttempt

# An attempt still to come or under way: what a retry badge shows.
PENDING = (RetryAttempt.Status.SCHEDULED, RetryAttempt.Status.CLAIMED, RetryAttempt.Status.RUNNING)


def retry_counts(*, run_ids: Iterable[int]) -> dict[int, int]:
    """How many attempts each of these runs has had (runs without any are left out), in one query."""
    rows = RetryAttempt.objects.filter(run_id__in=list(run_ids)).values("run").annotate(n=Count("pk")).order_by()
    return {row["run"]: row["n"] for row in rows}


def run_retry_attempts(*, run_id: int, limit: int = 50) -> list[RetryAttempt]:
    """The attempts to rerun one run, newest first, with their policy, who asked and the rerun they made."""
    return list(
        RetryAttempt.objects.filter(run_id=run_id)
        .select_related("policy", "requested_by", "rerun")
        .order_by("-created_at", "-id")[:limit]
    )


def pending_attempts(*, run_ids: Iterable[int]) -> dict[int, RetryAttempt]:
    """The pending attempt (scheduled, claimed or running) of each of these runs that has one, with its policy, in one
    query; a run has at most one at a time (the engine and retries by hand see to it), else the latest wins."""
    attempts = (
        RetryAttempt.objects.filter(run_id__in=list(run_ids), status__in=PENDING)
        .select_related("policy")
        .order_by("run_id", "attempt_number")
    )
    return {attempt.run_id: attempt for attempt in attempts}
