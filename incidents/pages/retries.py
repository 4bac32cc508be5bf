"""Retries as the pages show them: a badge with a countdown for a row of a list ("retry 2/3 in 0:42", "retrying…")
and the incident page's retry card (the current or next attempt, how many there were, the policy, cancel)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from remediation.models import RetryAttempt
from remediation.selectors import PENDING, pending_attempts


@dataclass(frozen=True)
class RetryBadge:
    """What a list row shows of its pending retry; `at` (the attempt's time, while it is ahead) lets the browser
    count down to it (retries.js), `text` is the same words rendered by the server."""

    label: str
    text: str
    at: datetime | None
    status: str

    @property
    def key(self) -> str:
        """Changes with the attempt, its state or time (for cached rows; the countdown itself ticks in the browser
        and the rows' cache keys hold the minute)."""
        return f"{self.status}-{self.label}-{self.at.isoformat() if self.at else ''}"


@dataclass(frozen=True)
class RetryCard:
    """The incident page's retry card."""

    attempt: RetryAttempt
    badge: RetryBadge | None
    attempts: int
    policy: str
    cancellable: bool


def clock_text(left: timedelta) -> str:
    """0:42, 12:05, 1:02:09 (what retries.js writes too)."""
    seconds = max(0, int(left.total_seconds() + 0.999))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def attempt_label(attempt: RetryAttempt) -> str:
    """ "retry 2/3" for a policy's attempt, "retry 2" for one asked for by hand."""
    policy = attempt.policy if attempt.trigger == RetryAttempt.Trigger.POLICY else None
    return f"retry {attempt.attempt_number}/{policy.max_attempts}" if policy else f"retry {attempt.attempt_number}"


def retry_badge(attempt: RetryAttempt | None, *, now: datetime | None = None) -> RetryBadge | None:
    """The badge of a pending attempt (None for no attempt, or one that is over)."""
    if attempt is None or attempt.status not in PENDING:
        return None
    now = now or timezone.now()
    label = attempt_label(attempt)
    if attempt.status == RetryAttempt.Status.SCHEDULED and attempt.scheduled_for > now:
        left = attempt.scheduled_for - now
        return RetryBadge(label=label, text=f"{label} in {clock_text(left)}", at=attempt.scheduled_for, status="due")
    return RetryBadge(label=label, text="retrying…", at=None, status="running")


def retry_badges_attach(rows: Iterable, attempts: dict[int, RetryAttempt], *, key: str = "pk") -> None:
    """Set `retry_badge` on each row (incidents or runs) from the pending attempts keyed by the row's `key`."""
    now = timezone.now()
    for row in rows:
        row.retry_badge = retry_badge(attempts.get(getattr(row, key)), now=now)


def retry_badges_of_runs(runs: list) -> None:
    """Set `retry_badge` on a page of runs (one query): the runs page's hook (monitors.run_rows)."""
    retry_badges_attach(runs, pending_attempts(run_ids=[run.pk for run in runs]))


def retry_card(attempts: list[RetryAttempt]) -> RetryCard | None:
    """From an incident's attempts (newest first): the soonest pending one, else the latest; None without any."""
    if not attempts:
        return None
    pending = sorted((a for a in attempts if a.status in PENDING), key=lambda a: (a.scheduled_for, a.pk))
    attempt = pending[0] if pending else attempts[0]
    if attempt.trigger == RetryAttempt.Trigger.MANUAL:
        who = attempt.requested_by.get_username() if attempt.requested_by else "a person"
        policy = f"By hand ({who})"
    else:
        policy = attempt.policy.name if attempt.policy else "Policy since removed"
    return RetryCard(
        attempt=attempt,
        badge=retry_badge(attempt),
        attempts=len(attempts),
        policy=policy,
        cancellable=attempt.status == RetryAttempt.Status.SCHEDULED,
    )
