"""Databricks Jobs API (2.2) through databricks-sdk."""

import re
import time
from datetime import UTC, datetime
from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import ApiClient
from databricks.sdk.errors import (
    DatabricksError,
    DeadlineExceeded,
    InternalError,
    TemporarilyUnavailable,
    TooManyRequests,
)

from aimsweb.outbound import OutboundPolicy, OutboundRefused, guard_session, host_problem
from aimsweb.terminal import strip_terminal_escapes
from monitors.clients.base import (
    ConnectionCheck,
    FailureDetail,
    PlatformSchedule,
    RerunRequest,
    RerunStarted,
    RerunState,
    RunPage,
    RunRecord,
    SourceClient,
    SourceError,
)
from monitors.clients.databricks_sdk import RetryDeclined, declined_error, http_status, workspace_client
from monitors.clients.platform_schedules import databricks_job_schedule
from monitors.models import Connection, PipelineRun, RerunMode

API = "/api/2.2/jobs"
PAGE_SIZE = 25
JOBS_PAGE_SIZE = 100  # jobs/list's maximum
# Arrays runs/get (API 2.2) pages by 100, each later page carrying the next slice of every one of them.
PAGED_ARRAYS = {
    "tasks": "run_id",
    "iterations": "run_id",
    "repair_history": "id",
    "job_clusters": "job_cluster_key",
    "job_parameters": "name",
}
RETRYABLE = (TooManyRequests, TemporarilyUnavailable, InternalError, DeadlineExceeded)
# Messages that only say "something failed, look elsewhere": never the error AIMS stores when a better one exists.
GENERIC_MESSAGE = re.compile(
    r"^\s*(Workload failed, see run output for details\.?|Task \S+ failed\.? See the task run for details\.?"
    r"|Task \S+ failed with message: Workload failed, see run output for details\.?|Job execution failed\.?)?\s*$"
)
SKIPPED_RESULTS = {"EXCLUDED", "DISABLED", "MAXIMUM_CONCURRENT_RUNS_REACHED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED"}
SKIPPED_CODES = {"SKIPPED", "DISABLED", "MAX_CONCURRENT_RUNS_EXCEEDED", "MAX_JOB_QUEUE_SIZE_EXCEEDED"}


class DatabricksClientError(SourceError):
    provider = "databricks"


def databricks_sdk_options(connection: Connection, *, timeout: float) -> dict[str, Any]:
    """The connection's host and credentials as databricks-sdk Config options (the Jobs client's and the SQL
    warehouse's). `timeout` bounds each HTTP call and the SDK's probe of the host while it configures itself."""
    options: dict[str, Any] = {
        "host": connection.host,
        "retry_timeout_seconds": max(1, int(timeout)),
        "http_timeout_seconds": max(1, int(timeout)),
    }
    if connection.auth_method == Connection.AuthMethod.SERVICE_PRINCIPAL:
        return options | {
            "auth_type": "azure-client-secret",
            "azure_tenant_id": connection.tenant_id,
            "azure_client_id": connection.client_id,
            "azure_client_secret": connection.get_secret(),
        }
    # auth_type pins one method, so DATABRICKS_* variables in the environment cannot add a second.
    return options | {"auth_type": "pat", "token": connection.get_secret()}


def _wrap(exc: BaseException, *, sdk_retryable: bool = False) -> DatabricksClientError:
    """One error for every failure; `sdk_retryable`: the SDK judged it worth a retry (and left it to AIMS)."""
    if isinstance(exc, OutboundRefused):
        return DatabricksClientError(f"Databricks call {exc}", retryable=False, reason=str(exc))
    if isinstance(exc, DatabricksError):
        return DatabricksClientError(
            f"Databricks {exc.error_code or exc.__class__.__name__}: {exc}",
            retryable=sdk_retryable or isinstance(exc, RETRYABLE),
            retry_after=exc.retry_after_secs,
            status=http_status(exc),
            reason=exc.__class__.__name__,
        )
    # Timeouts, refused connections and garbled JSON bodies are worth another try.
    return DatabricksClientError(
        f"Databricks call failed: {exc.__class__.__name__}: {exc}", retryable=True, reason=exc.__class__.__name__
    )


def _status(run: dict[str, Any]) -> tuple[str, str]:
    """(AIMS status, the platform's own words), preferring the newer `status` over the deprecated `state`."""
    status = run.get("status") or {}
    state = run.get("state") or {}
    lifecycle = status.get("state") or state.get("life_cycle_state") or ""
    code = (status.get("termination_details") or {}).get("code", "")
    result = state.get("result_state", "")
    words = "/".join(part for part in (lifecycle, code or result) if part)
    if lifecycle in {"QUEUED", "PENDING", "BLOCKED", "WAITING", "WAITING_FOR_RETRY"}:
        return PipelineRun.Status.QUEUED, words
    if lifecycle in {"RUNNING", "TERMINATING"}:
        return PipelineRun.Status.RUNNING, words
    if lifecycle == "SKIPPED" or code in SKIPPED_CODES or result in SKIPPED_RESULTS:
        return PipelineRun.Status.SKIPPED, words
    if code in {"SUCCESS", "SUCCESS_WITH_FAILURES"} or result in {"SUCCESS", "SUCCESS_WITH_FAILURES"}:
        return PipelineRun.Status.SUCCEEDED, words
    if code == "USER_CANCELED" or result in {"CANCELED", "UPSTREAM_CANCELED"}:
        return PipelineRun.Status.CANCELLED, words
    if lifecycle in {"TERMINATED", "INTERNAL_ERROR"}:
        return PipelineRun.Status.FAILED, words
    return PipelineRun.Status.RUNNING, words


def _time(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _record(run: dict[str, Any]) -> RunRecord:
    status, words = _status(run)
    started, ended = _time(run.get("start_time")), _time(run.get("end_time"))
    state = run.get("state") or {}
    termination = (run.get("status") or {}).get("termination_details") or {}
    return RunRecord(
        external_run_id=str(run["run_id"]),
        pipeline_external_id=str(run.get("job_id", "")),
        pipeline_name=run.get("run_name") or str(run.get("job_id", "")),
        status=status,
        platform_status=words,
        started_at=started,
        ended_at=ended,
        duration_ms=run.get("run_duration") or None,
        updated_at=ended or started,
        message=termination.get("message") or state.get("state_message") or "",
        raw=run,
    )


def specific_error(*, output: dict[str, Any], task: dict[str, Any], run: dict[str, Any]) -> str:
    """The most specific error text, verbatim: get-output's error, else the trace's last line (where the exception
    is printed), else the first state or termination message that says more than "failed, see elsewhere"."""
    if (output.get("error") or "").strip():
        return output["error"]
    # Colour codes out before the last line is chosen: a coloured trace may end with a line holding only a reset.
    trace = strip_terminal_escapes(output.get("error_trace") or "")
    trace_lines = [line for line in trace.splitlines() if line.strip()]
    if trace_lines:
        return trace_lines[-1]
    candidates = [
        (task.get("state") or {}).get("state_message"),
        ((task.get("status") or {}).get("termination_details") or {}).get("message"),
        (run.get("state") or {}).get("state_message"),
        ((run.get("status") or {}).get("termination_details") or {}).get("message"),
    ]
    specific = [text for text in candidates if text and text.strip() and not GENERIC_MESSAGE.match(text)]
    return (specific or [text for text in candidates if text] or [""])[0]


class DatabricksClient(SourceClient):
    """One workspace, as configured on a Connection."""

    tracks_start_time = True  # runs/list filters on start time, so the watermark is a start time

    def __init__(self, connection: Connection, *, timeout: float):
        self.connection = connection
        options = databricks_sdk_options(connection, timeout=timeout)
        self._options = options
        self._workspace: WorkspaceClient | None = None

    @property
    def _api(self) -> ApiClient:
        if self._workspace is None:
            policy = OutboundPolicy.for_connection(is_simulator=self.connection.is_simulator)
            # The SDK probes the host while it configures itself (without the token): refuse a host that resolves
            # to a refused address before that; the calls carrying the token are pinned below.
            problem = host_problem(self.connection.host, policy)
            if problem:
                raise DatabricksClientError(f"Databricks call refused: {problem}", reason=f"refused: {problem}")
            try:
                workspace = workspace_client(self._options)
            except (DatabricksError, ValueError, requests.RequestException) as exc:
                raise _wrap(exc) from exc
            # databricks-sdk builds its own session and takes none: mount the guarded adapter on it (the same pool
            # sizes the SDK uses), so every API call connects only to the address the outbound rules checked.
            guard_session(workspace.api_client._api_client._session, policy, pool_maxsize=20, pool_block=True)
            self._workspace = workspace
        return self._workspace.api_client

    def _get(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        return self._do("GET", path, query=query)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._do("POST", path, body=body)

    def _do(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """A Jobs API call's JSON object (an empty body reads as an empty one)."""
        try:
            answer = self._api.do(method, f"{API}/{path}", **options)
        except RetryDeclined as exc:
            error = declined_error(exc)
            raise _wrap(error, sdk_retryable=True) from error
        except (DatabricksError, ValueError, OSError, TimeoutError) as exc:
            raise _wrap(exc) from exc
        if not answer:
            return {}
        if not isinstance(answer, dict):  # garbled, like a body that is not JSON: worth another try
            raise DatabricksClientError(
                f"Databricks {path} answered with a {type(answer).__name__}, not a JSON object",
                retryable=True,
                reason="the answer is not a JSON object",
            )
        return answer

    def _run_get(self, run_id: str, *, include_history: bool = False) -> dict[str, Any]:
        """runs/get with every page merged: API 2.2 returns 100 tasks (iterations, repair history, ...) a page, and
        a failed task or the latest repair may be on a later one. The raw calls, not the SDK's paging get_run: its
        typed Run drops fields and enum values this SDK version does not know, and AIMS keeps what the platform
        said."""
        query: dict[str, Any] = {"run_id": run_id}
        if include_history:
            query["include_history"] = "true"
        run = self._get("runs/get", query)
        tokens: set[str] = set()
        while token := run.pop("next_page_token", None):
            if token in tokens:
                raise DatabricksClientError(f"Databricks runs/get of run {run_id} handed out a page token twice")
            tokens.add(token)
            page = self._get("runs/get", {**query, "page_token": token})
            for key, identity in PAGED_ARRAYS.items():
                more = [item for item in page.get(key) or [] if isinstance(item, dict)]
                if more:
                    # A for-each task run repeats its one task on every page of its iterations.
                    merged = run.setdefault(key, [])
                    seen = {item.get(identity) for item in merged if isinstance(item, dict)}
                    merged += [item for item in more if item.get(identity) not in seen]
            run["next_page_token"] = page.get("next_page_token")
        run.pop("has_more", None)  # the arrays are whole now
        return run

    def _repairs(self, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        run = self._run_get(run_id, include_history=True)
        return run, [item for item in run.get("repair_history", []) if item.get("type") == "REPAIR"]

    def start_rerun(self, request: RerunRequest) -> RerunStarted:
        """Recover: repair the failed tasks inside the same run, naming the latest repair as the API requires from
        the second repair on. Full: a new run of the job, with the attempt's key as the idempotency token (the
        platform then never starts two runs for one attempt)."""
        if request.mode == RerunMode.FULL:
            body = {"job_id": int(request.pipeline_external_id), "idempotency_token": request.idempotency_key[:64]}
            response = self._post("run-now", body)
            return RerunStarted(rerun_id=str(response["run_id"]), run_id=str(response["run_id"]))
        _, repairs = self._repairs(request.external_run_id)
        body = {"run_id": int(request.external_run_id), "rerun_all_failed_tasks": True}
        if repairs:
            body["latest_repair_id"] = repairs[-1]["id"]
        response = self._post("runs/repair", body)
        return RerunStarted(rerun_id=str(response["repair_id"]), run_id=request.external_run_id)

    def rerun_state(self, request: RerunRequest, started: RerunStarted) -> RerunState:
        if request.mode == RerunMode.FULL:
            record = self.get_run(started.run_id)
            return RerunState(status=record.status, record=record)
        run, repairs = self._repairs(started.run_id)
        item = next((item for item in repairs if str(item.get("id")) == started.rerun_id), None)
        if item is None:
            raise DatabricksClientError(f"Databricks run {started.run_id} has no repair {started.rerun_id}")
        return RerunState(status=_status(item)[0], record=_record(run))

    def find_rerun(self, request: RerunRequest, *, known: set[str]) -> RerunStarted | None:
        if request.mode == RerunMode.FULL:
            return None  # starting again with the same idempotency token returns the run already started
        _, repairs = self._repairs(request.external_run_id)
        unknown = [item for item in repairs if str(item.get("id")) not in known]
        if not unknown:
            return None
        return RerunStarted(rerun_id=str(unknown[-1]["id"]), run_id=request.external_run_id)

    def list_runs_page(self, *, since: datetime, until: datetime, page_token: str | None) -> RunPage:
        # Later pages repeat the first page's filters with the token, as the SDK's own iterator does.
        query: dict[str, Any] = {
            "expand_tasks": "true",
            "limit": PAGE_SIZE,
            "start_time_from": int(since.timestamp() * 1000),
            "start_time_to": int(until.timestamp() * 1000),
        }
        if page_token:
            query["page_token"] = page_token
        response = self._get("runs/list", query)
        token = response.get("next_page_token") if response.get("has_more") else None
        return RunPage(runs=[_record(run) for run in response.get("runs", [])], next_token=token or None)

    def get_run(self, external_run_id: str) -> RunRecord:
        return _record(self._run_get(external_run_id))

    def failed_runs_page(
        self, *, since: datetime, until: datetime, pipeline_names: set[str], page_token: str | None
    ) -> RunPage:
        """Never asked: alerts and callbacks that name pipelines are about ADF factories, and webhook intake takes
        them for ADF connections only (monitors.webhooks)."""
        raise DatabricksClientError(
            "Databricks has no lookup of failed runs by pipeline name", reason="not offered by Databricks"
        )

    def failure_detail(self, run_raw: dict[str, Any], external_run_id: str) -> FailureDetail:
        # runs/list shows a run's first 100 tasks only, and says so with has_more.
        whole = run_raw.get("tasks") and not run_raw.get("has_more")
        run = run_raw if whole else self._run_get(external_run_id)
        failed = [task for task in run.get("tasks", []) if _status(task)[0] == PipelineRun.Status.FAILED]
        failed.sort(key=lambda task: task.get("start_time") or 0)
        if not failed:
            return FailureDetail(
                failed_step="",
                error_code=((run.get("status") or {}).get("termination_details") or {}).get("code", ""),
                error_message=specific_error(output={}, task={}, run=run),
                error_trace="",
                raw={"run": run},
            )
        task = failed[0]
        output = self._get("runs/get-output", {"run_id": task["run_id"]})
        output.pop("metadata", None)
        return FailureDetail(
            failed_step=task.get("task_key", ""),
            error_code=((task.get("status") or {}).get("termination_details") or {}).get("code", ""),
            error_message=specific_error(output=output, task=task, run=run),
            error_trace=output.get("error_trace") or "",
            raw={"task": task, "output": output},
        )

    def rows_written(self, external_run_id: str, *, started_at: datetime, ended_at: datetime | None) -> int | None:
        """The Jobs API does not report rows written (a Delta table's history does, per table, not per run)."""
        return None

    def schedules(self) -> list[PlatformSchedule]:
        """The Quartz schedule of every job that has one (jobs/list, every page; paused ones too, inactive)."""
        query: dict[str, Any] = {"limit": JOBS_PAGE_SIZE, "expand_tasks": "false"}
        schedules: list[PlatformSchedule] = []
        tokens: set[str] = set()
        while True:
            page = self._get("list", query)
            schedules += [found for job in page.get("jobs") or [] if (found := databricks_job_schedule(job))]
            token = page.get("next_page_token") if page.get("has_more") else None
            if not token:
                return schedules
            if token in tokens:
                raise DatabricksClientError("Databricks jobs/list handed out a page token twice")
            tokens.add(token)
            query = {**query, "page_token": token}

    def check(self) -> ConnectionCheck:
        started = time.perf_counter()
        try:
            response = self._get("runs/list", {"limit": 1})
        except DatabricksClientError as exc:
            return ConnectionCheck(
                ok=False, message=f"Databricks: {exc.reason}", latency_ms=int((time.perf_counter() - started) * 1000)
            )
        latest = response.get("runs", [])
        detail = f"latest run {latest[0]['run_id']}" if latest else "no runs yet"
        return ConnectionCheck(
            ok=True,
            message=f"Reached workspace {self.connection.host}: {detail}",
            latency_ms=int((time.perf_counter() - started) * 1000),
        )
