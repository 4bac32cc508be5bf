"""Reads of the remediation app."""

from collections.abc import Iterable

from django.db.models import Count

from remediation.models import RetryAttempt


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
