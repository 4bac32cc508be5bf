"""What every source client returns and raises, whichever platform it talks to."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Protocol, TypeVar

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


class SourceClient(Protocol):
    """The operations AIMS needs from a pipeline platform."""

    def list_runs_page(self, *, since: datetime, until: datetime, page_token: str | None) -> RunPage: ...

    def get_run(self, external_run_id: str) -> RunRecord: ...

    def failure_detail(self, run_raw: dict[str, Any], external_run_id: str) -> FailureDetail: ...

    def check(self) -> ConnectionCheck: ...

    def start_rerun(self, request: RerunRequest) -> RerunStarted: ...

    def rerun_state(self, request: RerunRequest, started: RerunStarted) -> RerunState: ...

    def find_rerun(self, request: RerunRequest, *, known: set[str]) -> RerunStarted | None:
        """A rerun of this run the platform has that is none of `known` (one a worker started before it died)."""


def call_with_backoff(
    call: Callable[[], T],
    *,
    attempts: int,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call until it succeeds, retrying retryable SourceErrors with exponential backoff and full jitter; a
    Retry-After hint from the platform is honoured (never retried sooner). The last error is re-raised."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except SourceError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            if exc.retry_after is not None:
                delay = max(delay, min(exc.retry_after, max_delay))
            sleep(delay)
    raise AssertionError("unreachable")


def call_twice(call: Callable[[], T]) -> T:
    """A read tried once more soon after a retryable failure (say, a pooled connection the platform closed
    meanwhile), without a poll's patience: for webhooks and ticks, which the next poll or tick backs up."""
    return call_with_backoff(call, attempts=2, max_delay=2.0)
