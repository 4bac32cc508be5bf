"""A stand-in at the client boundary, for unit tests of services and views (flow tests use the simulator)."""

from datetime import UTC, datetime
from typing import Any, ClassVar

from monitors.clients.base import (
    ConnectionCheck,
    FailureDetail,
    PlatformSchedule,
    RerunRequest,
    RerunStarted,
    RerunState,
    RunPage,
    RunRecord,
)
from monitors.models import PipelineRun


def record(run_id: str, *, pipeline: str = "pl_orders", status: str = PipelineRun.Status.FAILED, minute: int = 0):
    at = datetime(2026, 11, 20, 2, minute, tzinfo=UTC)
    return RunRecord(
        external_run_id=run_id,
        pipeline_external_id=pipeline,
        pipeline_name=pipeline,
        status=status,
        platform_status=status.title(),
        started_at=at,
        ended_at=at if status != PipelineRun.Status.RUNNING else None,
        duration_ms=1000,
        updated_at=at,
        message="Operation on target Copy failed" if status == PipelineRun.Status.FAILED else "",
        raw={"runId": run_id},
    )


class FakeSourceClient:
    """Serves `runs` in pages of `page_size`; records every call."""

    runs: ClassVar[list[RunRecord]] = []
    page_size: ClassVar[int] = 2
    calls: ClassVar[list[tuple[str, Any]]] = []
    tracks_start_time = False
    rerun_status: ClassVar[str] = PipelineRun.Status.RUNNING
    platform_schedules: ClassVar[list[PlatformSchedule]] = []
    written: ClassVar[dict[str, int]] = {}

    def __init__(self, connection, *, timeout: float):
        self.connection = connection

    def list_runs_page(self, *, since, until, page_token):
        self.calls.append(("list", page_token))
        start = int(page_token or 0)
        chunk = self.runs[start : start + self.page_size]
        more = start + self.page_size < len(self.runs)
        return RunPage(runs=chunk, next_token=str(start + self.page_size) if more else None)

    def failed_runs_page(self, *, since, until, pipeline_names, page_token):
        """As the service filters: failed runs, of the named pipelines, updated in the window (when known)."""
        self.calls.append(("failed", (since, until, tuple(sorted(pipeline_names)), page_token)))
        matching = [
            run
            for run in self.runs
            if run.status == PipelineRun.Status.FAILED
            and (not pipeline_names or run.pipeline_name in pipeline_names)
            and (run.updated_at is None or since <= run.updated_at <= until)
        ]
        start = int(page_token or 0)
        more = start + self.page_size < len(matching)
        return RunPage(
            runs=matching[start : start + self.page_size], next_token=str(start + self.page_size) if more else None
        )

    def get_run(self, external_run_id):
        self.calls.append(("get", external_run_id))
        return next(run for run in self.runs if run.external_run_id == external_run_id)

    def failure_detail(self, run_raw, external_run_id):
        self.calls.append(("detail", external_run_id))
        return FailureDetail(
            failed_step="Copy",
            error_code="2200",
            error_message=f"specific error of {external_run_id}",
            error_trace="",
            raw={"activity_runs": []},
        )

    def check(self):
        return ConnectionCheck(ok=True, message="fake", latency_ms=1)

    def start_rerun(self, request: RerunRequest) -> RerunStarted:
        self.calls.append(("start_rerun", request.idempotency_key))
        rerun_id = f"rerun-{request.idempotency_key}"
        return RerunStarted(rerun_id=rerun_id, run_id=rerun_id)

    def rerun_state(self, request: RerunRequest, started: RerunStarted) -> RerunState:
        """The rerun is still running: a test that wants an outcome sets `rerun_status`."""
        self.calls.append(("rerun_state", started.rerun_id))
        status = self.rerun_status
        return RerunState(
            status=status, record=record(started.run_id, pipeline=request.pipeline_external_id, status=status)
        )

    def find_rerun(self, request: RerunRequest, *, known: set[str]) -> RerunStarted | None:
        self.calls.append(("find_rerun", request.idempotency_key))
        return None

    def rows_written(self, external_run_id: str, *, started_at: datetime, ended_at: datetime | None) -> int | None:
        return self.written.get(external_run_id)

    def schedules(self) -> list[PlatformSchedule]:
        self.calls.append(("schedules", None))
        return list(self.platform_schedules)
