"""What every source client returns and raises, whichever platform it talks to."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from math import ceil
from typing import Any, Protocol, TypeVar

from django.conf import settings

from monitors.models import Connection

T = TypeVar("T")


class SourceError(Exception):
    """A call to a pipeline platform failed.

    `retryable` says whether the same call may succeed later (throttling, 5xx, timeouts, garbled bodies);
    `retry_after` is the platform's own hint in seconds, when it gave one. `reason` says what went wrong without
    anything the other side sent back (status, error class, origin), for pages: a host an Admin points at could
    echo the secret it was sent.
    """

    provider = "source"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
        reason: str = "",
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.reason = reason or (f"HTTP {status} {_phrase(status)}" if status else "the call failed")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass(frozen=True)
class RunRecord:
    """One pipeline or job run as the platform reports it, normalised."""

    external_run_id: str
    pipeline_external_id: str
    pipeline_name: str
    status: str
    platform_status: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None
    updated_at: datetime | None
    message: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    next_token: str | None


@dataclass(frozen=True)
class FailureDetail:
    """Where and why a run failed, with the most specific error the platform offers."""

    failed_step: str
    error_code: str
    error_message: str
    error_trace: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class RerunRequest:
    """A failed run to rerun, and how."""

    external_run_id: str
    pipeline_external_id: str
    pipeline_name: str
    run_raw: dict[str, Any] = field(repr=False)
    mode: str  # monitors.models.RerunMode
    idempotency_key: str  # unique per attempt; sent where the platform honours one


@dataclass(frozen=True)
class RerunStarted:
    """What the platform answered: `rerun_id` is the new ADF run, the Databricks repair, or the new job run;
    `run_id` is the run whose state tells the outcome (the new run, or for a repair the repaired run itself)."""

    rerun_id: str
    run_id: str


@dataclass(frozen=True)
class RerunState:
    status: str  # monitors.models.PipelineRun.Status of the rerun
    record: RunRecord  # the run as the platform reports it now, to store like a polled one


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    latency_ms: int


@dataclass(frozen=True)
class PlatformSchedule:
    """When the platform itself is set to start a pipeline or job: one ADF trigger's recurrence for one of its
    pipelines, or a Databricks job's schedule. Expected start times: monitors.schedule_times.expected_starts."""

    pipeline_external_id: str  # as AIMS stores Pipeline.external_id: the ADF pipeline name, the Databricks job id
    pipeline_name: str
    source: str  # "adf_trigger" | "databricks_job"
    name: str  # the trigger's name, or the job's
    active: bool  # False when the trigger is Stopped or the schedule PAUSED
    cron: str | None  # 5-field cron in `timezone`
    every: timedelta | None  # a fixed interval from `anchor`, when the schedule is one
    anchor: datetime | None  # a recurrence's startTime (aware): nothing is expected before it
    timezone: str  # IANA name
    note: str = ""  # what AIMS could not read exactly (an unknown zone, a schedule no cron can say)
    ends: datetime | None = None  # a recurrence's endTime: nothing is expected from it on


class SourceClient(Protocol):
    """Everything AIMS calls on a pipeline platform's client (monitors.clients.client_for returns one). The ADF and
    Databricks clients subclass it, so mypy checks that they implement all of it; test fakes match it by shape."""

    tracks_start_time: bool  # list_runs_page's window is on start time (else on last update): the poll's watermark

    def __init__(self, connection: Connection, *, timeout: float) -> None:
        """How client_for builds the class the MONITOR_CLIENTS setting names."""

    def list_runs_page(self, *, since: datetime, until: datetime, page_token: str | None) -> RunPage: ...

    def failed_runs_page(
        self, *, since: datetime, until: datetime, pipeline_names: set[str], page_token: str | None
    ) -> RunPage:
        """Failed runs updated in the window, of the named pipelines (all when none are named): what an Azure
        Monitor alert or an ADF callback without a run id points at."""

    def get_run(self, external_run_id: str) -> RunRecord: ...

    def failure_detail(self, run_raw: dict[str, Any], external_run_id: str) -> FailureDetail: ...

    def rows_written(self, external_run_id: str, *, started_at: datetime, ended_at: datetime | None) -> int | None:
        """Rows a succeeded run wrote, where the platform reports it (ADF Copy activities); None otherwise."""

    def check(self) -> ConnectionCheck: ...

    def start_rerun(self, request: RerunRequest) -> RerunStarted: ...

    def rerun_state(self, request: RerunRequest, started: RerunStarted) -> RerunState: ...

    def find_rerun(self, request: RerunRequest, *, known: set[str]) -> RerunStarted | None:
        """A rerun of this run the platform has that is none of `known` (one a worker started before it died)."""

    def schedules(self) -> list[PlatformSchedule]:
        """The platform's own time schedules of its pipelines or jobs (event triggers have none)."""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds from now: delta-seconds or an HTTP date (RFC 9110); None when absent or
    unreadable, so the caller backs off on its own terms rather than on a guess."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; an obsolete form may parse without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _throttled(exc: SourceError, wait: float) -> SourceError:
    """The error a caller gets when the platform asks for a longer pause than AIMS may spend: it names the pause,
    so the poll or lookup can mark its work and move on."""
    return type(exc)(
        f"throttled, retry after {ceil(wait)} s: {exc}",
        retryable=True,
        retry_after=wait,
        status=exc.status,
        reason=f"throttled, retry after {ceil(wait)} s",
    )


def call_with_backoff(
    call: Callable[[], T],
    *,
    attempts: int,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    budget: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call until it succeeds, retrying retryable SourceErrors with exponential backoff (capped at `max_delay`) and
    full jitter. A Retry-After hint is honoured, never retried sooner, and all the pauses together stay within
    `budget` seconds (AIMS_SOURCE_RETRY_BUDGET_SECONDS): when the platform asks for more than is left, or the
    attempts run out while it throttles, a "throttled, retry after N s" SourceError is raised at once."""
    if budget is None:
        budget = settings.AIMS_SOURCE_RETRY_BUDGET_SECONDS
    deadline = clock() + budget
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except SourceError as exc:
            if not exc.retryable:
                raise
            delay = random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            if attempt == attempts or clock() + delay > deadline:
                if exc.retry_after is not None:
                    raise _throttled(exc, exc.retry_after) from exc
                raise
            sleep(delay)
    raise AssertionError("unreachable")


def call_twice(call: Callable[[], T]) -> T:
    """A read tried once more soon after a retryable failure (say, a pooled connection the platform closed
    meanwhile), without a poll's patience: for webhooks and ticks, which the next poll or tick backs up."""
    return call_with_backoff(call, attempts=2, max_delay=2.0)
