"""Run records and their state as of a point in sim time.

Every run stores a *plan* (when each step starts and ends and how it ends) rather than a mutable status, so
"what would the API say at sim time T" is a pure function. Mutations coming from API calls (cancel, repair,
recovery reruns, new runs) carry a world sequence number; evaluating "as of (T, S)" ignores mutations whose
sequence number is above S. That is what makes paging snapshots stable: a continuation token freezes (T, S)
and every later page sees exactly the same set and order of runs, however far the clock has moved since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.corpus import CorpusRow

# ---------------------------------------------------------------------------------------------- specs


@dataclass(slots=True)
class FactorySpec:
    subscription_id: str
    resource_group: str
    name: str
    pipelines: dict[str, PipelineSpec] = field(default_factory=dict)  # keyed by casefolded name
    # Trigger resources served as they are and never fired (event triggers, stopped leftovers): scenario data.
    extra_triggers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.DataFactory/factories/{self.name}"
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subscription_id.casefold(), self.resource_group.casefold(), self.name.casefold())


@dataclass(slots=True)
class PipelineSpec:
    factory: FactorySpec
    name: str
    activities: list[tuple[str, str]]  # (activity name, activity type)
    interval_us: int
    duration_us: tuple[int, int]
    queue_us: tuple[int, int]
    failure_rate: float
    cancel_rate: float
    corpus: tuple[CorpusRow, ...]
    parameters: dict[str, str]
    trigger: str = "schedule"  # the kind of ADF trigger that starts its scheduled runs: schedule | tumbling_window
    paused: bool = False  # trigger Stopped: no scheduled runs
    anchor_us: int = 0  # the schedule's first start (simulator.world.schedule); later ones are every interval_us
    timezone: str = "UTC"  # the trigger's time zone, as the scenario names it (IANA)


@dataclass(slots=True)
class WorkspaceSpec:
    token: str
    workspace_id: int
    host: str
    jobs: dict[int, JobSpec] = field(default_factory=dict)
    sql_warehouses: dict[str, str] = field(default_factory=dict)  # SQL warehouse id -> name


@dataclass(slots=True)
class JobSpec:
    workspace: WorkspaceSpec
    job_id: int
    name: str
    tasks: list[str]
    interval_us: int
    duration_us: tuple[int, int]
    queue_us: tuple[int, int]
    failure_rate: float
    cancel_rate: float
    corpus: tuple[CorpusRow, ...]
    paused: bool = False  # schedule PAUSED: no scheduled runs
    anchor_us: int = 0  # the schedule's first start (simulator.world.schedule); later ones are every interval_us
    timezone: str = "UTC"  # the schedule's timezone_id


@dataclass(slots=True)
class Failure:
    row: CorpusRow
    step: int  # index of the failing activity / task
    variant: str  # "activity" (ADF) | "standard" | "trace_only" | "cluster" (Databricks)
    cluster_code: str | None = None  # CLUSTER_ERROR | INTERNAL_ERROR for the "cluster" variant

    @property
    def retry_label(self) -> str:
        """Key into rerun_success_rate: transient and resource have their own rate, everything else 'other'."""
        return self.row.label if self.row.label in ("transient", "resource") else "other"


# ----------------------------------------------------------------------------------------------- ADF


@dataclass(slots=True)
class AdfActivity:
    activity_run_id: str
    name: str
    type: str
    index: int
    start_us: int
    end_us: int
    outcome: str  # Succeeded | Failed | Cancelled


@dataclass(slots=True)
class AdfRun:
    run_id: str
    group_id: str
    pipeline: PipelineSpec
    seq: int
    created_us: int  # runStart: the run exists (Queued) from here
    start_us: int  # execution starts (InProgress)
    end_us: int  # planned end
    outcome: str  # planned terminal status: Succeeded | Failed | Cancelled
    failure: Failure | None
    activities: list[AdfActivity]
    parameters: dict[str, str]
    invoked_by: dict[str, str]
    origin: str  # history | schedule | manual | rerun | recovery | injected
    reference_run_id: str | None = None
    cancel_us: int | None = None
    cancel_seq: int | None = None

    def cancelled_at(self, seq: int) -> int | None:
        if self.cancel_seq is not None and self.cancel_seq <= seq:
            return self.cancel_us
        return None


def adf_run_state(run: AdfRun, t: int, s: int) -> tuple[str, int, int | None]:
    """(status, lastUpdated, runEnd) of a pipeline run as of (t, s)."""
    cancel = run.cancelled_at(s)
    if cancel is not None:
        return "Cancelled", cancel, cancel
    if t < run.start_us:
        return "Queued", run.created_us, None
    if t < run.end_us:
        return "InProgress", run.start_us, None
    return run.outcome, run.end_us, run.end_us


def adf_activity_states(run: AdfRun, t: int, s: int) -> list[tuple[AdfActivity, str, int | None]]:
    """Activity runs visible as of (t, s): (activity, status, end). Activities that have not started are absent."""
    cancel = run.cancelled_at(s)
    out: list[tuple[AdfActivity, str, int | None]] = []
    for act in run.activities:
        if act.start_us > t or (cancel is not None and act.start_us >= cancel):
            break
        if cancel is not None and act.end_us > cancel:
            out.append((act, "Cancelled", cancel))
        elif t < act.end_us:
            out.append((act, "InProgress", None))
        else:
            out.append((act, act.outcome, act.end_us))
    return out


# ------------------------------------------------------------------------------------------ Databricks

ACTIVE_LIFE_CYCLES = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"})


@dataclass(slots=True)
class DbxTaskRun:
    run_id: int
    task_key: str
    index: int
    attempt: int
    start_us: int
    end_us: int
    outcome: str  # SUCCESS | FAILED | UPSTREAM_FAILED | CANCELED | UPSTREAM_CANCELED
    failure: Failure | None
    segment: DbxSegment
    job_run: DbxRun


@dataclass(slots=True)
class DbxSegment:
    """One execution pass over (some of) a job run's tasks: the ORIGINAL run or one REPAIR."""

    id: int
    kind: str  # ORIGINAL | REPAIR
    seq: int
    requested_us: int
    start_us: int  # first task starts (PENDING before that)
    end_us: int
    outcome: str  # SUCCESS | FAILED | CANCELED
    failure: Failure | None
    task_runs: list[DbxTaskRun] = field(default_factory=list)
    cancel_us: int | None = None
    cancel_seq: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def cancelled_at(self, seq: int) -> int | None:
        if self.cancel_seq is not None and self.cancel_seq <= seq:
            return self.cancel_us
        return None


@dataclass(slots=True)
class DbxRun:
    run_id: int
    job: JobSpec
    seq: int
    created_us: int
    origin: str  # history | schedule | injected | manual (run-now)
    trigger: str
    cluster_id: str
    spark_context_id: str
    job_parameters: list[dict[str, str]]
    segments: list[DbxSegment] = field(default_factory=list)

    def segments_at(self, s: int) -> list[DbxSegment]:
        return [seg for seg in self.segments if seg.seq <= s]

    def segment_at(self, s: int) -> DbxSegment:
        for seg in reversed(self.segments):
            if seg.seq <= s:
                return seg
        return self.segments[0]

    def tasks_at(self, s: int) -> list[DbxTaskRun]:
        """The latest attempt of every task, as of sequence s (repairs replace the tasks they rerun)."""
        latest: dict[int, DbxTaskRun] = {}
        for seg in self.segments:
            if seg.seq > s:
                break
            for tr in seg.task_runs:
                latest[tr.index] = tr
        return [latest[i] for i in sorted(latest)]


@dataclass(slots=True)
class DbxState:
    life_cycle_state: str
    result_state: str | None
    state_message: str
    user_cancelled_or_timedout: bool
    status_state: str
    termination: dict[str, str] | None
    end_us: int | None

    @property
    def active(self) -> bool:
        return self.life_cycle_state in ACTIVE_LIFE_CYCLES

    def legacy(self) -> dict[str, Any]:
        out: dict[str, Any] = {"life_cycle_state": self.life_cycle_state}
        if self.result_state:
            out["result_state"] = self.result_state
        out["state_message"] = self.state_message
        out["user_cancelled_or_timedout"] = self.user_cancelled_or_timedout
        return out

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.status_state}
        if self.termination is not None:
            out["termination_details"] = dict(self.termination)
        return out


WORKLOAD_FAILED = "Workload failed, see run output for details"


def _term(code: str, type_: str, message: str) -> dict[str, str]:
    return {"code": code, "type": type_, "message": message}


def cluster_termination_message(cluster_id: str, code: str | None) -> str:
    if code == "INTERNAL_ERROR":
        return "An internal error occurred in the Databricks platform. Please retry the run."
    return f"Cluster {cluster_id} terminated unexpectedly."


def segment_state(run: DbxRun, seg: DbxSegment, t: int, s: int) -> DbxState:
    """Job-level state of a run whose current pass is `seg`, as of (t, s)."""
    cancel = seg.cancelled_at(s)
    if cancel is not None:
        return DbxState(
            "TERMINATED",
            "CANCELED",
            "Run cancelled.",
            True,
            "TERMINATED",
            _term("USER_CANCELED", "SUCCESS", "The run was cancelled by a user."),
            cancel,
        )
    if t < seg.start_us:
        return DbxState("PENDING", None, "Waiting for cluster", False, "PENDING", None, None)
    if t < seg.end_us:
        return DbxState("RUNNING", None, "", False, "RUNNING", None, None)
    if seg.outcome == "SUCCESS":
        return DbxState("TERMINATED", "SUCCESS", "", False, "TERMINATED", _term("SUCCESS", "SUCCESS", ""), seg.end_us)
    if seg.outcome == "CANCELED":
        return DbxState(
            "TERMINATED",
            "CANCELED",
            "Run cancelled.",
            True,
            "TERMINATED",
            _term("USER_CANCELED", "SUCCESS", "The run was cancelled by a user."),
            seg.end_us,
        )
    failure = seg.failure
    assert failure is not None
    key = run.job.tasks[failure.step]
    message = f"Task {key} failed. See the task run for details."
    if failure.variant == "cluster":
        code = failure.cluster_code or "CLUSTER_ERROR"
        type_ = "INTERNAL_ERROR" if code == "INTERNAL_ERROR" else "CLOUD_FAILURE"
        term = _term(
            code, type_, f"Task {key} failed with message: {cluster_termination_message(run.cluster_id, code)}"
        )
        return DbxState("INTERNAL_ERROR", "FAILED", message, False, "TERMINATED", term, seg.end_us)
    term = _term("RUN_EXECUTION_ERROR", "CLIENT_ERROR", f"Task {key} failed with message: {WORKLOAD_FAILED}")
    return DbxState("TERMINATED", "FAILED", message, False, "TERMINATED", term, seg.end_us)


def dbx_run_state(run: DbxRun, t: int, s: int) -> DbxState:
    return segment_state(run, run.segment_at(s), t, s)


def task_state(tr: DbxTaskRun, t: int, s: int) -> DbxState:
    cancel = tr.segment.cancelled_at(s)
    if cancel is not None and tr.start_us >= cancel:
        term = _term("SKIPPED", "SUCCESS", "The run was cancelled before this task started.")
        return DbxState(
            "SKIPPED", "UPSTREAM_CANCELED", "Upstream task(s) cancelled.", False, "TERMINATED", term, cancel
        )
    if cancel is not None and tr.end_us > cancel:
        term = _term("USER_CANCELED", "SUCCESS", "The run was cancelled by a user.")
        return DbxState("TERMINATED", "CANCELED", "Run cancelled.", True, "TERMINATED", term, cancel)
    if t < tr.start_us:
        if tr.index == 0 or tr.start_us == tr.segment.start_us:
            return DbxState("PENDING", None, "Waiting for cluster", False, "PENDING", None, None)
        return DbxState("BLOCKED", None, "Waiting for upstream tasks", False, "BLOCKED", None, None)
    if t < tr.end_us:
        return DbxState("RUNNING", None, "", False, "RUNNING", None, None)
    if tr.outcome == "SUCCESS":
        return DbxState("TERMINATED", "SUCCESS", "", False, "TERMINATED", _term("SUCCESS", "SUCCESS", ""), tr.end_us)
    if tr.outcome == "UPSTREAM_FAILED":
        term = _term("SKIPPED", "CLIENT_ERROR", "Upstream task(s) failed.")
        return DbxState("SKIPPED", "UPSTREAM_FAILED", "Upstream task(s) failed.", False, "TERMINATED", term, tr.end_us)
    if tr.outcome == "CANCELED":
        term = _term("USER_CANCELED", "SUCCESS", "The run was cancelled by a user.")
        return DbxState("TERMINATED", "CANCELED", "Run cancelled.", True, "TERMINATED", term, tr.end_us)
    if tr.outcome == "UPSTREAM_CANCELED":
        term = _term("SKIPPED", "SUCCESS", "The run was cancelled before this task started.")
        return DbxState(
            "SKIPPED", "UPSTREAM_CANCELED", "Upstream task(s) cancelled.", False, "TERMINATED", term, tr.end_us
        )
    failure = tr.failure
    assert failure is not None
    if failure.variant == "cluster":
        code = failure.cluster_code or "CLUSTER_ERROR"
        type_ = "INTERNAL_ERROR" if code == "INTERNAL_ERROR" else "CLOUD_FAILURE"
        term = _term(code, type_, cluster_termination_message(tr.job_run.cluster_id, code))
        # Cluster-level failures carry the specific error only here, in the task's state_message.
        return DbxState("INTERNAL_ERROR", "FAILED", failure.row.error_message, False, "TERMINATED", term, tr.end_us)
    term = _term("RUN_EXECUTION_ERROR", "CLIENT_ERROR", WORKLOAD_FAILED)
    return DbxState("TERMINATED", "FAILED", WORKLOAD_FAILED, False, "TERMINATED", term, tr.end_us)
