"""The simulated world: clock, scenario specs, every run, and the operations the APIs perform on them.

All state lives in one World guarded by a re-entrant lock; HTTP handlers call its methods, tests may inspect it
directly. Randomness is always a seeded `random.Random` derived from the scenario seed:

* history uses one RNG per source, each schedule (pipeline/job) its own RNG, so the k-th scheduled run of a
  pipeline is identical however the clock is ticked;
* API-driven actions (createRun, run-now, repair, /_sim/fail) share an "actions" RNG, so the same sequence of calls
  gives the same ids and outcomes;
* run ids are also mixed with the clock's start: the same seed and start give the same world, a restart new ids.
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import json
import random
import string
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulator import adf_errors
from simulator import notify as notify_mod
from simulator.adf_callback import (
    CALLBACK_DEFAULTS,
    callback_body,
    callback_headers,
    callback_settings_check,
    callback_shape,
)
from simulator.alert_shapes import alert_shapes_check, azure_monitor_alert
from simulator.corpus import CorpusRow, row_by_id, rows_for
from simulator.faults import FaultInjector
from simulator.model import (
    AdfActivity,
    AdfRun,
    DbxRun,
    DbxSegment,
    DbxState,
    DbxTaskRun,
    FactorySpec,
    Failure,
    JobSpec,
    PipelineSpec,
    WorkspaceSpec,
    adf_activity_states,
    adf_run_state,
    dbx_run_state,
    task_state,
)
from simulator.scenarios import load_scenario
from simulator.timefmt import US_PER_S, iso7, parse_iso, real_now_us, to_ms

TERMINAL_ADF = frozenset({"Succeeded", "Failed", "Cancelled"})
SYSTEM_FAILURE_LABELS = frozenset({"transient", "resource"})
_CLUSTER_ALPHABET = string.ascii_lowercase + string.digits


class SimError(Exception):
    """An API-level error; the HTTP layer renders it in the platform's error format."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target


def guid(rng: random.Random, salt: int = 0) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128) ^ salt, version=4))


def activity_type(name: str) -> str:
    """Guess a realistic ADF activity type from an activity's display name."""
    lowered = name.lower()
    for needle, kind in (
        ("notebook", "DatabricksNotebook"),
        ("copy", "Copy"),
        ("lookup", "Lookup"),
        ("merge", "SqlServerStoredProcedure"),
        ("stored", "SqlServerStoredProcedure"),
        ("execute", "ExecutePipeline"),
        ("foreach", "ForEach"),
    ):
        if needle in lowered:
            return kind
    return "WebActivity"


class SimClock:
    """now = clock_start + real_elapsed * speed + manual offset; never goes backwards."""

    def __init__(self, start_us: int, speed: float) -> None:
        self.start_us = start_us
        self.speed = speed
        self.offset_us = 0
        self._t0 = time.monotonic()
        self._last = start_us

    def now_us(self) -> int:
        elapsed = time.monotonic() - self._t0
        now = self.start_us + int(elapsed * self.speed * US_PER_S) + self.offset_us
        self._last = max(self._last, now)
        return self._last

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sim clock cannot go backwards")
        self.offset_us += int(seconds * US_PER_S)

    def set_speed(self, speed: float) -> None:
        # Re-base so the change applies from now on and the current time does not jump.
        now = self.now_us()
        self.start_us, self.offset_us, self._t0, self.speed = now, 0, time.monotonic(), speed


@dataclass(slots=True)
class Schedule:
    source: str  # adf | databricks
    spec: PipelineSpec | JobSpec
    rng: random.Random
    interval_us: int
    base_us: int
    next_us: int


@dataclass(slots=True)
class AdfQuery:
    """A normalised queryPipelineRuns / queryActivityruns body (minus the continuation token)."""

    after_us: int
    before_us: int
    filters: list[tuple[str, str, list[Any]]]
    order: list[tuple[str, bool]]  # (field, descending)

    def signature(self) -> str:
        return json.dumps([self.after_us, self.before_us, self.filters, self.order], sort_keys=True, default=str)


class World:
    def __init__(self, scenario: dict[str, Any] | str | None = "default", **overrides: Any) -> None:
        self.lock = threading.RLock()
        # Messages AIMS posted to /_sim/inbox/<name> (a stand-in Teams/Slack/webhook receiver); kept across resets.
        self.inbox: collections.deque[dict[str, Any]] = collections.deque(maxlen=500)
        self.reset(scenario, **overrides)

    # ------------------------------------------------------------------------------------------ setup

    def reset(self, scenario: dict[str, Any] | str | None = "default", **overrides: Any) -> None:
        """Replace the whole world. `overrides` are top-level scenario keys (seed=, speed=, faults=, ...)."""
        raw = load_scenario(scenario)
        if overrides:
            raw.update({k: v for k, v in overrides.items() if v is not None})
            raw = load_scenario(raw)
        with self.lock:
            self._reset_locked(raw)

    def _reset_locked(self, sc: dict[str, Any]) -> None:
        self.scenario = sc
        self.seed = sc["seed"]
        start = parse_iso(sc["clock_start"]) if sc.get("clock_start") else real_now_us()
        self.clock = SimClock(start, sc["speed"])
        self.clock_start_us = start
        # Run ids are drawn from the seeded streams, then mixed with the clock's start: the same seed and start give
        # the same world, and a restart (a new start) never hands out the run ids an earlier one did. A client that
        # stored those would take the new failures for ones it already knows.
        digest = hashlib.sha256(f"{self.seed}/{start}".encode()).digest()
        self._run_id_salt = int.from_bytes(digest[:16], "big")
        self._seq = 0
        self._event_counter = 0
        self.actions_rng = random.Random(f"{self.seed}/actions")
        self._request_rng = random.Random(f"{self.seed}/requests")
        self._notify_rng = random.Random(f"{self.seed}/notify")
        self.faults = FaultInjector(sc["faults"])
        self.notify_config: dict[str, Any] = {}
        self.set_notify(sc["notify"])
        self.adf_page_size = int(sc["adf_page_size"])
        self.rerun_success_rate = dict(sc["rerun_success_rate"])
        self.dbx_variants = dict(sc["databricks_failure_variants"])
        rate = sc.get("run_now_failure_rate")
        self.run_now_failure_rate: float | None = None if rate is None else float(rate)
        # State.
        self.factories: dict[tuple[str, str, str], FactorySpec] = {}
        self.workspaces: dict[str, WorkspaceSpec] = {}
        self.adf_runs: dict[str, AdfRun] = {}
        self.adf_by_factory: dict[tuple[str, str, str], list[AdfRun]] = {}
        self.adf_groups: dict[str, list[AdfRun]] = {}
        self.dbx_runs: dict[int, DbxRun] = {}
        self.dbx_by_workspace: dict[str, list[DbxRun]] = {}
        self.dbx_task_runs: dict[int, DbxTaskRun] = {}
        self._dbx_ids: set[int] = set()
        # run-now idempotency: (workspace token, idempotency_token) -> run id, for the life of the world.
        self.dbx_idempotency: dict[tuple[str, str], int] = {}
        self.reruns: list[dict[str, Any]] = []
        self.outbox: list[notify_mod.Outgoing] = []
        self.notifications: list[dict[str, Any]] = []
        self.notify_counts: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.arm_budget: Counter[str] = Counter()  # drives the x-ms-ratelimit-remaining-* headers
        self._events: list[tuple[int, int, str, Any, Any]] = []
        self._snapshots: OrderedDict[Any, list[Any]] = OrderedDict()
        self.schedules: list[Schedule] = []
        self.llm_counter = 0
        # What the chat endpoint received (newest last, bounded) and fields forced into its JSON answers.
        self.llm_requests: list[dict[str, Any]] = []
        self.llm_override: dict[str, Any] = dict(sc.get("llm_override") or {})
        self._build_specs(sc)
        self._generate_history(sc["history"])
        self._init_schedules()

    def _build_specs(self, sc: dict[str, Any]) -> None:
        for f in sc["factories"]:
            factory = FactorySpec(f["subscription_id"], f["resource_group"], f["factory_name"])
            for p in f["pipelines"]:
                acts = [
                    (a, activity_type(a)) if isinstance(a, str) else (a["name"], a["type"]) for a in p["activities"]
                ]
                factory.pipelines[p["name"].casefold()] = PipelineSpec(
                    factory=factory,
                    name=p["name"],
                    activities=acts,
                    interval_us=int(p["interval_seconds"] * US_PER_S),
                    duration_us=(int(p["duration_seconds"][0] * US_PER_S), int(p["duration_seconds"][1] * US_PER_S)),
                    queue_us=(int(p["queue_seconds"][0] * US_PER_S), int(p["queue_seconds"][1] * US_PER_S)),
                    failure_rate=float(p["failure_rate"]),
                    cancel_rate=float(p["cancel_rate"]),
                    corpus=rows_for("adf", p.get("corpus_ids")),
                    parameters={k: str(v) for k, v in (p.get("parameters") or {}).items()},
                )
            self.factories[factory.key] = factory
            self.adf_by_factory[factory.key] = []
        for w in sc["workspaces"]:
            ws = WorkspaceSpec(w["token"], int(w["workspace_id"]), w["host"].rstrip("/"))
            id_rng = random.Random(f"{self.seed}/databricks/{ws.workspace_id}/jobs")
            for j in w["jobs"]:
                job_id = int(j.get("job_id") or self._new_dbx_id(id_rng, per_start=False))
                self._dbx_ids.add(job_id)
                ws.jobs[job_id] = JobSpec(
                    workspace=ws,
                    job_id=job_id,
                    name=j["name"],
                    tasks=list(j["tasks"]),
                    interval_us=int(j["interval_seconds"] * US_PER_S),
                    duration_us=(int(j["duration_seconds"][0] * US_PER_S), int(j["duration_seconds"][1] * US_PER_S)),
                    queue_us=(int(j["queue_seconds"][0] * US_PER_S), int(j["queue_seconds"][1] * US_PER_S)),
                    failure_rate=float(j["failure_rate"]),
                    cancel_rate=float(j["cancel_rate"]),
                    corpus=rows_for("databricks", j.get("corpus_ids")),
                )
            self.workspaces[ws.token] = ws
            self.dbx_by_workspace[ws.token] = []

    def _init_schedules(self) -> None:
        for factory in self.factories.values():
            for p in factory.pipelines.values():
                self._add_schedule("adf", p, f"adf/{factory.name}/{p.name}")
        for ws in self.workspaces.values():
            for job in ws.jobs.values():
                self._add_schedule("databricks", job, f"databricks/{ws.workspace_id}/{job.name}")

    def _add_schedule(self, source: str, spec: PipelineSpec | JobSpec, key: str) -> None:
        if spec.interval_us <= 0:
            return
        rng = random.Random(f"{self.seed}/{key}/schedule")
        first = self.clock_start_us + rng.randrange(spec.interval_us)
        self.schedules.append(Schedule(source, spec, rng, spec.interval_us, first, first))

    # ------------------------------------------------------------------------------------- primitives

    def now_us(self) -> int:
        return self.clock.now_us()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_dbx_id(self, rng: random.Random, *, per_start: bool = True) -> int:
        """A new Databricks id: a run's differs per start of the clock (see _reset_locked), a job's does not."""
        while True:
            value = rng.randrange(10**14, 10**15)
            if per_start:
                value = 10**14 + (value - 10**14 + self._run_id_salt) % (9 * 10**14)
            if value not in self._dbx_ids:
                self._dbx_ids.add(value)
                return value

    def request_id(self) -> str:
        with self.lock:
            return guid(self._request_rng)

    @staticmethod
    def _split(rng: random.Random, total_us: int, n: int) -> list[int]:
        """Split a duration over n sequential steps with seeded, uneven weights (each step >= 1 s)."""
        if n <= 0:
            return []
        weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
        scale = sum(weights)
        parts = [max(US_PER_S, int(total_us * w / scale)) for w in weights]
        return parts

    # ------------------------------------------------------------------------------------- ADF build

    def _draw_outcome(
        self,
        rng: random.Random,
        spec: PipelineSpec | JobSpec,
        steps: int,
        *,
        failure_rate: float | None = None,
        cancel_rate: float | None = None,
    ) -> tuple[str, CorpusRow | None, int]:
        """(outcome, corpus row for failures, step index of the failure/cancel); rates default to the spec's."""
        cancel = spec.cancel_rate if cancel_rate is None else cancel_rate
        fail = spec.failure_rate if failure_rate is None else failure_rate
        u = rng.random()
        step = rng.randrange(steps)
        if u < cancel:
            return "cancelled", None, step
        if u < cancel + fail:
            return "failed", rng.choice(spec.corpus), step
        return "succeeded", None, step

    def _make_adf_run(
        self,
        rng: random.Random,
        pipeline: PipelineSpec,
        created_us: int,
        *,
        outcome: str,
        row: CorpusRow | None,
        step: int,
        origin: str,
        start_index: int = 0,
        group_id: str | None = None,
        parameters: dict[str, str] | None = None,
        reference_run_id: str | None = None,
        queue_us: int | None = None,
        total_us: int | None = None,
    ) -> AdfRun:
        run_id = guid(rng, self._run_id_salt)  # differs per start of the clock (see _reset_locked)
        n = len(pipeline.activities)
        queue = queue_us if queue_us is not None else rng.randint(*pipeline.queue_us)
        last = n - 1 if outcome == "succeeded" else max(step, start_index)
        executed = list(range(start_index, last + 1))
        total = total_us if total_us is not None else rng.randint(*pipeline.duration_us)
        total = int(total * len(executed) / n) if start_index else total
        durations = self._split(rng, total, len(executed))
        status = {"succeeded": "Succeeded", "failed": "Failed", "cancelled": "Cancelled"}[outcome]
        failure = Failure(row, last, "activity") if row is not None and outcome == "failed" else None
        t = created_us + queue
        activities = []
        for idx, dur in zip(executed, durations, strict=True):
            name, kind = pipeline.activities[idx]
            act_outcome = status if idx == last else "Succeeded"
            activities.append(AdfActivity(guid(rng), name, kind, idx, t, t + dur, act_outcome))
            t += dur
        manual = origin in ("manual", "rerun", "recovery", "injected")
        trigger_id = f"{rng.getrandbits(64):016X}{rng.getrandbits(64):016X}"
        invoked_by = (
            {"name": "Manual", "id": trigger_id, "invokedByType": "Manual"}
            if manual
            else {"name": f"tr_{pipeline.name}", "id": trigger_id, "invokedByType": "ScheduleTrigger"}
        )
        if parameters is None:
            day = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%Y-%m-%d")
            parameters = {**pipeline.parameters, "load_date": day}
        run = AdfRun(
            run_id=run_id,
            group_id=group_id or run_id,
            pipeline=pipeline,
            seq=self._next_seq(),
            created_us=created_us,
            start_us=created_us + queue,
            end_us=t,
            outcome=status,
            failure=failure,
            activities=activities,
            parameters=parameters,
            invoked_by=invoked_by,
            origin=origin,
            reference_run_id=reference_run_id,
        )
        self.adf_runs[run_id] = run
        self.adf_by_factory[pipeline.factory.key].append(run)
        self.adf_groups.setdefault(run.group_id, []).append(run)
        return run

    # ------------------------------------------------------------------------------ Databricks build

    def _failure_variant(self, rng: random.Random, row: CorpusRow) -> tuple[str, str | None]:
        u = rng.random()
        if u < self.dbx_variants.get("cluster", 0.0):
            return "cluster", rng.choice(("CLUSTER_ERROR", "INTERNAL_ERROR"))
        # A trace ends with the exception line; a multi-line message (a JSON blob, say) could not be told apart from
        # the frames above it, and real traces print such payloads through `error` anyway.
        single_line = "\n" not in row.error_message.strip()
        if single_line and u < self.dbx_variants.get("cluster", 0.0) + self.dbx_variants.get("trace_only", 0.0):
            return "trace_only", None
        return "standard", None

    def _make_dbx_run(
        self,
        rng: random.Random,
        job: JobSpec,
        created_us: int,
        *,
        outcome: str,
        row: CorpusRow | None,
        step: int,
        origin: str,
        variant: tuple[str, str | None] | None = None,
        queue_us: int | None = None,
        total_us: int | None = None,
        job_parameters: dict[str, str] | None = None,
    ) -> DbxRun:
        run_id = self._new_dbx_id(rng)
        stamp = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%m%d-%H%M%S")
        cluster_id = f"{stamp}-{''.join(rng.choice(_CLUSTER_ALPHABET) for _ in range(8))}"
        day = datetime.fromtimestamp(created_us / US_PER_S, tz=UTC).strftime("%Y-%m-%d")
        run = DbxRun(
            run_id=run_id,
            job=job,
            seq=self._next_seq(),
            created_us=created_us,
            origin=origin,
            trigger="ONE_TIME" if origin in ("injected", "manual") else "PERIODIC",
            cluster_id=cluster_id,
            spark_context_id=str(rng.getrandbits(62)),
            job_parameters=_dbx_job_parameters(day, job_parameters),
        )
        failure = None
        if outcome == "failed" and row is not None:
            kind, code = variant or self._failure_variant(rng, row)
            failure = Failure(row, step, kind, code)
        seg = self._make_segment(
            rng,
            run,
            kind="ORIGINAL",
            seg_id=run_id,
            seq=run.seq,
            requested_us=created_us,
            indices=list(range(len(job.tasks))),
            outcome=outcome,
            failure=failure,
            step=step,
            attempts={},
            queue_us=queue_us,
            total_us=total_us,
        )
        run.segments.append(seg)
        self.dbx_runs[run_id] = run
        self.dbx_by_workspace[job.workspace.token].append(run)
        return run

    def _make_segment(
        self,
        rng: random.Random,
        run: DbxRun,
        *,
        kind: str,
        seg_id: int,
        seq: int,
        requested_us: int,
        indices: list[int],
        outcome: str,
        failure: Failure | None,
        step: int,
        attempts: dict[int, int],
        queue_us: int | None = None,
        total_us: int | None = None,
    ) -> DbxSegment:
        job = run.job
        queue = queue_us if queue_us is not None else rng.randint(*job.queue_us)
        total = total_us if total_us is not None else rng.randint(*job.duration_us)
        total = int(total * len(indices) / len(job.tasks))
        stop = indices[-1] if outcome == "succeeded" else step
        executed = [i for i in indices if i <= stop]
        durations = self._split(rng, total, len(executed))
        seg_outcome = {"succeeded": "SUCCESS", "failed": "FAILED", "cancelled": "CANCELED"}[outcome]
        seg = DbxSegment(seg_id, kind, seq, requested_us, requested_us + queue, 0, seg_outcome, failure)
        t = seg.start_us
        for idx, dur in zip(executed, durations, strict=True):
            task_outcome = "SUCCESS" if idx < stop or outcome == "succeeded" else seg_outcome
            tr = DbxTaskRun(
                self._new_dbx_id(rng),
                job.tasks[idx],
                idx,
                attempts.get(idx, -1) + 1,
                t,
                t + dur,
                task_outcome,
                failure if task_outcome == "FAILED" else None,
                seg,
                run,
            )
            seg.task_runs.append(tr)
            t += dur
        seg.end_us = t
        skipped = "UPSTREAM_CANCELED" if outcome == "cancelled" else "UPSTREAM_FAILED"
        for idx in (i for i in indices if i > stop):
            tr = DbxTaskRun(
                self._new_dbx_id(rng), job.tasks[idx], idx, attempts.get(idx, -1) + 1, t, t, skipped, None, seg, run
            )
            seg.task_runs.append(tr)
        for tr in seg.task_runs:
            self.dbx_task_runs[tr.run_id] = tr
        return seg

    # ---------------------------------------------------------------------------------------- history

    def _generate_history(self, history: dict[str, Any]) -> None:
        span = int(float(history.get("span_seconds") or 86400) * US_PER_S)
        active_share = float(history.get("active_share", 0.02))
        pipelines = [p for f in self.factories.values() for p in f.pipelines.values()]
        jobs = [j for w in self.workspaces.values() for j in w.jobs.values()]
        adf_n, dbx_n = int(history.get("adf_runs") or 0), int(history.get("databricks_runs") or 0)
        self._history_runs("adf", pipelines, adf_n, span, active_share, self._make_adf_run, lambda p: len(p.activities))
        self._history_runs("databricks", jobs, dbx_n, span, active_share, self._make_dbx_run, lambda j: len(j.tasks))

    def _history_runs(self, source, specs, count, span, active_share, make_run, step_count) -> None:
        """`count` past runs of randomly chosen pipelines or jobs, from the source's own seeded RNG."""
        if not (count and specs):
            return
        rng = random.Random(f"{self.seed}/{source}/history")
        for _ in range(count):
            spec = rng.choice(specs)
            outcome, row, step = self._draw_outcome(rng, spec, step_count(spec))
            queue, total = rng.randint(*spec.queue_us), rng.randint(*spec.duration_us)
            created = self._history_start(rng, span, queue + total, active_share)
            make_run(
                rng,
                spec,
                created,
                outcome=outcome,
                row=row,
                step=step,
                origin="history",
                queue_us=queue,
                total_us=total,
            )

    def _history_start(self, rng: random.Random, span: int, length: int, active_share: float) -> int:
        """A creation time in the span before clock_start; the active share is still running at clock_start."""
        if rng.random() < active_share:
            return self.clock_start_us - int(rng.random() * 0.95 * length) - 1
        latest = max(self.clock_start_us - span, self.clock_start_us - length - US_PER_S)
        return self.clock_start_us - span + int(rng.random() * max(0, latest - (self.clock_start_us - span)))

    # ----------------------------------------------------------------------------------- clock & tick

    def tick(self) -> int:
        """Materialise scheduled runs and emit failure notifications up to the current sim time."""
        with self.lock:
            now = self.clock.now_us()
            self._materialize_schedules(now)
            self._fire_events(now)
            return now

    def snapshot_point(self) -> tuple[int, int]:
        """(sim time, sequence) after ticking: the frozen 'as of' point of a new query snapshot."""
        with self.lock:
            return self.tick(), self._seq

    def advance(self, seconds: float) -> int:
        with self.lock:
            self.clock.advance(seconds)
            return self.tick()

    def _materialize_schedules(self, now: int) -> None:
        while self.schedules:
            sched = min(self.schedules, key=lambda s: s.next_us)
            if sched.next_us > now:
                return
            created = sched.next_us
            rng = sched.rng
            if sched.source == "adf":
                spec = sched.spec
                assert isinstance(spec, PipelineSpec)
                outcome, row, step = self._draw_outcome(rng, spec, len(spec.activities))
                run = self._make_adf_run(rng, spec, created, outcome=outcome, row=row, step=step, origin="schedule")
                self._push_event(run.end_us, "adf", run, None)
            else:
                job = sched.spec
                assert isinstance(job, JobSpec)
                outcome, row, step = self._draw_outcome(rng, job, len(job.tasks))
                dbx = self._make_dbx_run(rng, job, created, outcome=outcome, row=row, step=step, origin="schedule")
                self._push_event(dbx.segments[0].end_us, "databricks", dbx, dbx.segments[0])
            sched.base_us += sched.interval_us
            sched.next_us = sched.base_us + rng.randrange(max(1, sched.interval_us // 10))

    def _push_event(self, at_us: int, source: str, run: Any, seg: Any) -> None:
        self._event_counter += 1
        heapq.heappush(self._events, (at_us, self._event_counter, source, run, seg))

    def _fire_events(self, now: int) -> None:
        s = self._seq
        while self._events and self._events[0][0] <= now:
            _, _, source, run, seg = heapq.heappop(self._events)
            if source == "adf":
                status, _, _ = adf_run_state(run, now, s)
                if status == "Failed":
                    self._notify_adf_failure(run, now)
            elif run.segment_at(s) is seg and seg.cancelled_at(s) is None and seg.outcome == "FAILED":
                self._notify_dbx_failure(run)

    # ---------------------------------------------------------------------------------- notifications

    def set_notify(self, config: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {
            "databricks_url": None,
            "azure_monitor_url": None,
            "secret": None,
            "allow_remote": False,
            "databricks_auth": "basic",
            "alert_shapes": ["pipeline_metric"],
            **CALLBACK_DEFAULTS,
        }
        merged.update(self.notify_config)
        merged.update({k: v for k, v in config.items() if k in merged})
        for key in ("databricks_url", "azure_monitor_url", "adf_callback_url"):
            notify_mod.check_notify_url(merged[key], bool(merged["allow_remote"]))
        callback_settings_check(merged)
        if merged["databricks_auth"] not in notify_mod.DATABRICKS_AUTH:
            raise ValueError(f"notify.databricks_auth must be one of {list(notify_mod.DATABRICKS_AUTH)}")
        merged["alert_shapes"] = alert_shapes_check(merged["alert_shapes"])
        with self.lock:
            self.notify_config = merged
        return dict(merged)

    def _headers(self) -> dict[str, str]:
        secret = self.notify_config.get("secret")
        return {"X-AIMS-Token": secret} if secret else {}

    def _notify_adf_failure(self, run: AdfRun, now: int) -> bool:
        called_back = self._adf_callback(run)
        url = self.notify_config.get("azure_monitor_url")
        if not url or run.failure is None:
            return called_back
        factory = run.pipeline.factory
        # One alert action per factory, as in Azure: "{factory}" in the URL becomes the factory's name.
        url = url.replace("{factory}", factory.name)
        failed_activity = next((a.name for a in run.activities if a.outcome == "Failed"), run.pipeline.name)
        # One alert per configured shape: the rules of one action group (simulator.alert_shapes).
        for shape in self.notify_config["alert_shapes"]:
            payload = azure_monitor_alert(
                shape,
                subscription_id=factory.subscription_id,
                resource_group=factory.resource_group,
                factory_name=factory.name,
                pipeline_name=run.pipeline.name,
                activity_name=failed_activity,
                failure_type=self.adf_failure_type(run.failure),
                failed_at_us=run.end_us,
                fired_at_us=now,
                alert_guid=guid(self._notify_rng),
            )
            self.outbox.append(notify_mod.Outgoing("azure_monitor", url, payload, self._headers(), run.run_id))
        return True

    def _adf_callback(self, run: AdfRun) -> bool:
        """The failure path's Web activity posting to AIMS (simulator.adf_callback), when the settings ask for it."""
        config = self.notify_config
        if not (config["adf_callback"] and config["adf_callback_url"]) or run.failure is None:
            return False
        url = config["adf_callback_url"].replace("{factory}", run.pipeline.factory.name)
        payload = callback_body(run, callback_shape(config, self._notify_rng))
        headers = callback_headers(config.get("secret"), config["adf_callback_auth"])
        self.outbox.append(notify_mod.Outgoing("adf_callback", url, payload, headers, run.run_id))
        return True

    def _notify_dbx_failure(self, run: DbxRun) -> bool:
        url = self.notify_config.get("databricks_url")
        if not url:
            return False
        job = run.job
        url = url.replace("{workspace_id}", str(job.workspace.workspace_id))
        payload = notify_mod.databricks_job_failure(job.workspace.workspace_id, run.run_id, job.job_id, job.name)
        url, headers = notify_mod.databricks_destination(
            url, self.notify_config.get("secret"), self.notify_config.get("databricks_auth", "basic")
        )
        self.outbox.append(notify_mod.Outgoing("databricks", url, payload, headers, str(run.run_id)))
        return True

    def take_outbox(self) -> list[notify_mod.Outgoing]:
        with self.lock:
            items, self.outbox = self.outbox, []
            self.notify_counts["queued"] += len(items)
            return items

    def record_delivery(self, item: notify_mod.Outgoing, status: int | None, error: str | None) -> None:
        with self.lock:
            ok = status is not None and 200 <= status < 300
            self.notify_counts["sent" if ok else "failed"] += 1
            self.notifications.append(
                # The query is left out: it may carry the secret (?token=).
                {
                    "kind": item.kind,
                    "url": item.url.split("?", 1)[0],
                    "run_id": item.run_id,
                    "status": status,
                    "error": error,
                    "ok": ok,
                }
            )

    @staticmethod
    def adf_failure_type(failure: Failure) -> str:
        return "SystemError" if failure.row.label in SYSTEM_FAILURE_LABELS else "UserError"

    # ------------------------------------------------------------------------------------ ADF lookups

    def find_factory(self, subscription_id: str, resource_group: str, factory_name: str) -> FactorySpec:
        factory = self.factories.get((subscription_id.casefold(), resource_group.casefold(), factory_name.casefold()))
        if factory is None:
            raise SimError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.DataFactory/factories/{factory_name}' under resource group "
                f"'{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return factory

    def find_adf_run(self, factory: FactorySpec, run_id: str) -> AdfRun:
        run = self.adf_runs.get(run_id.lower())
        if run is None or run.pipeline.factory is not factory:
            raise SimError(
                404, "PipelineRunNotFound", f"Pipeline run '{run_id}' does not exist in factory '{factory.name}'."
            )
        return run

    def find_pipeline(self, factory: FactorySpec, name: str) -> PipelineSpec:
        pipeline = factory.pipelines.get(name.casefold())
        if pipeline is None:
            raise SimError(404, "PipelineNotFound", f"Pipeline '{name}' does not exist in factory '{factory.name}'.")
        return pipeline

    def is_latest(self, run: AdfRun, s: int) -> bool:
        group = self.adf_groups.get(run.group_id, [run])
        if len(group) == 1:
            return True
        latest = max((r for r in group if r.seq <= s), key=lambda r: r.seq, default=run)
        return latest is run

    # ------------------------------------------------------------------------------------ ADF queries

    def _cached(self, key: Any, build: Callable[[], list[Any]]) -> list[Any]:
        hit = self._snapshots.get(key)
        if hit is not None:
            self._snapshots.move_to_end(key)
            return hit
        value = build()
        self._snapshots[key] = value
        while len(self._snapshots) > 32:
            self._snapshots.popitem(last=False)
        return value

    def adf_run_views(self, factory: FactorySpec, query: AdfQuery, t: int, s: int) -> list[tuple[Any, ...]]:
        """Every run matching the query as of (t, s), in the query's order: (run, status, lastUpdated, end, latest)."""
        with self.lock:
            return self._cached(
                ("adf", factory.key, query.signature(), t, s), lambda: self._adf_views(factory, query, t, s)
            )

    def _adf_views(self, factory: FactorySpec, query: AdfQuery, t: int, s: int) -> list[tuple[Any, ...]]:
        views = []
        for run in self.adf_by_factory[factory.key]:
            if run.seq > s or run.created_us > t:
                continue
            status, last_updated, end = adf_run_state(run, t, s)
            if not query.after_us <= last_updated <= query.before_us:
                continue
            view = (run, status, last_updated, end, self.is_latest(run, s))
            if all(_adf_filter_match(view, f) for f in query.filters):
                views.append(view)
        views.sort(key=lambda v: v[0].run_id)
        for fld, desc in reversed(query.order or [("RunStart", True)]):
            views.sort(key=_ADF_SORT_KEYS[fld], reverse=desc)
        return views

    def adf_activity_views(self, run: AdfRun, query: AdfQuery, t: int, s: int) -> list[tuple[Any, ...]]:
        with self.lock:
            views = []
            for act, status, end in adf_activity_states(run, t, s):
                updated = end if end is not None else act.start_us
                if not query.after_us <= updated <= query.before_us:
                    continue
                view = (act, status, end)
                if all(_activity_filter_match(view, f) for f in query.filters):
                    views.append(view)
            for fld, desc in reversed(query.order):
                views.sort(key=_ACTIVITY_SORT_KEYS[fld], reverse=desc)
            return views

    # ---------------------------------------------------------------------------------- ADF mutations

    def adf_create_run(
        self,
        factory: FactorySpec,
        pipeline_name: str,
        *,
        reference_run_id: str | None,
        is_recovery: bool,
        start_activity_name: str | None,
        start_from_failure: bool,
        parameters: dict[str, Any] | None,
    ) -> AdfRun:
        with self.lock:
            now = self.tick()
            record: dict[str, Any] = {
                "source": "adf",
                "kind": "createRun",
                "factory": factory.name,
                "pipeline": pipeline_name,
                "params": {
                    "referencePipelineRunId": reference_run_id,
                    "isRecovery": is_recovery,
                    "startActivityName": start_activity_name,
                    "startFromFailure": start_from_failure,
                },
            }
            try:
                run = self._adf_create_run(
                    factory,
                    pipeline_name,
                    now,
                    record,
                    reference_run_id,
                    is_recovery,
                    start_activity_name,
                    start_from_failure,
                    parameters,
                )
            except SimError as exc:
                self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
                raise
            self._record(record, now, status_code=200, new_run_id=run.run_id, run_group_id=run.group_id)
            return run

    def _adf_create_run(
        self,
        factory: FactorySpec,
        pipeline_name: str,
        now: int,
        record: dict[str, Any],
        reference_run_id: str | None,
        is_recovery: bool,
        start_activity_name: str | None,
        start_from_failure: bool,
        parameters: dict[str, Any] | None,
    ) -> AdfRun:
        pipeline = self.find_pipeline(factory, pipeline_name)
        rng = self.actions_rng
        if not reference_run_id:
            if is_recovery:
                raise SimError(400, "BadRequest", "isRecovery requires referencePipelineRunId.")
            params = {**pipeline.parameters, **_stringify(parameters or {})}
            outcome, row, step = self._draw_outcome(rng, pipeline, len(pipeline.activities))
            run = self._make_adf_run(
                rng, pipeline, now, outcome=outcome, row=row, step=step, origin="manual", parameters=params or None
            )
            record.update(
                planned_outcome=run.outcome, label=row.label if row else None, corpus_id=row.id if row else None
            )
            self._push_event(run.end_us, "adf", run, None)
            return run
        ref = self.find_adf_run(factory, reference_run_id)
        if ref.pipeline is not pipeline:
            raise SimError(
                400,
                "BadRequest",
                f"Reference pipeline run '{reference_run_id}' belongs to pipeline '{ref.pipeline.name}'.",
            )
        ref_status, _, _ = adf_run_state(ref, now, self._seq)
        start_index = 0
        if is_recovery:
            if ref_status not in TERMINAL_ADF:
                raise SimError(
                    400,
                    "BadRequest",
                    f"Pipeline run '{ref.run_id}' is {ref_status}; only finished runs can be recovered.",
                )
            start_index = self._recovery_start(ref, ref_status, start_activity_name, start_from_failure)
        failure = ref.failure if ref_status == "Failed" else None
        if failure is not None:
            label = failure.retry_label
            success = rng.random() < float(self.rerun_success_rate.get(label, self.rerun_success_rate.get("other", 0)))
            outcome, row, step = ("succeeded", None, 0) if success else ("failed", failure.row, failure.step)
            record.update(label=failure.row.label, corpus_id=failure.row.id, should_retry=failure.row.should_retry)
        else:
            outcome, row, step = self._draw_outcome(rng, pipeline, len(pipeline.activities))
            if outcome == "cancelled":
                outcome = "succeeded"  # a manual rerun is not cancelled by itself
            record.update(label=None, corpus_id=row.id if row else None)
        run = self._make_adf_run(
            rng,
            pipeline,
            now,
            outcome=outcome,
            row=row,
            step=max(step, start_index),
            origin="recovery" if is_recovery else "rerun",
            start_index=start_index,
            group_id=ref.group_id if is_recovery else None,
            parameters=dict(ref.parameters),
            reference_run_id=ref.run_id,
        )
        record.update(reference_run_id=ref.run_id, start_activity=pipeline.activities[start_index][0])
        record["planned_outcome"] = run.outcome
        self._push_event(run.end_us, "adf", run, None)
        return run

    @staticmethod
    def _recovery_start(ref: AdfRun, ref_status: str, start_activity_name: str | None, from_failure: bool) -> int:
        names = [name.casefold() for name, _ in ref.pipeline.activities]
        if start_activity_name:
            if start_activity_name.casefold() not in names:
                raise SimError(
                    400,
                    "BadRequest",
                    f"Activity '{start_activity_name}' does not exist in pipeline '{ref.pipeline.name}'.",
                )
            return names.index(start_activity_name.casefold())
        if from_failure:
            if ref_status == "Succeeded":
                raise SimError(
                    400, "BadRequest", f"Pipeline run '{ref.run_id}' succeeded; there is no failure to start from."
                )
            failed = [a.index for a in ref.activities if a.outcome in ("Failed", "Cancelled")]
            if ref.cancel_us is not None:
                # Cancelled through the API: restart at the activity that was running at the time.
                running = [a.index for a in ref.activities if a.start_us <= ref.cancel_us < a.end_us]
                failed = running or failed
            return failed[0] if failed else ref.activities[0].index if ref.activities else 0
        return 0

    def adf_cancel(self, factory: FactorySpec, run_id: str, is_recursive: bool) -> dict[str, Any]:
        with self.lock:
            now = self.tick()
            record: dict[str, Any] = {
                "source": "adf",
                "kind": "cancel",
                "factory": factory.name,
                "run_id": run_id,
                "params": {"isRecursive": is_recursive},
            }
            try:
                run = self.find_adf_run(factory, run_id)
            except SimError as exc:
                self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
                raise
            status, _, _ = adf_run_state(run, now, self._seq)
            if status in TERMINAL_ADF:
                return self._record(record, now, status_code=200, outcome=f"noop_already_{status.lower()}")
            run.cancel_us, run.cancel_seq = now, self._next_seq()
            return self._record(record, now, status_code=200, outcome="cancelled", pipeline=run.pipeline.name)

    def _record(self, record: dict[str, Any], now: int, **extra: Any) -> dict[str, Any]:
        record.update(extra)
        record["id"] = len(self.reruns) + 1
        record["at"] = iso7(now)
        record.setdefault("outcome", "accepted")
        self.reruns.append(record)
        return record

    # -------------------------------------------------------------------------------- Databricks reads

    def workspace_for_token(self, token: str | None) -> WorkspaceSpec | None:
        return self.workspaces.get(token or "")

    def find_dbx_run(self, ws: WorkspaceSpec, run_id: Any) -> DbxRun:
        run = self.dbx_runs.get(_as_int(run_id))
        if run is None or run.job.workspace is not ws:
            raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")
        return run

    def find_dbx_task_run(self, ws: WorkspaceSpec, run_id: Any) -> DbxTaskRun:
        rid = _as_int(run_id)
        tr = self.dbx_task_runs.get(rid)
        if tr is not None and tr.job_run.job.workspace is ws:
            return tr
        if rid in self.dbx_runs and self.dbx_runs[rid].job.workspace is ws:
            raise SimError(
                400,
                "INVALID_PARAMETER_VALUE",
                "Retrieving the output of runs with multiple tasks is not supported. "
                "Please retrieve the output of each individual task run instead.",
            )
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")

    def dbx_run_views(
        self, ws: WorkspaceSpec, filters: dict[str, Any], t: int, s: int
    ) -> list[tuple[DbxRun, DbxState]]:
        """Runs of a workspace as of (t, s): active ones first (newest start first), then by end time, newest first."""
        key = ("dbx", ws.token, json.dumps(filters, sort_keys=True), t, s)
        with self.lock:
            return self._cached(key, lambda: self._dbx_views(ws, filters, t, s))

    def _dbx_views(self, ws: WorkspaceSpec, filters: dict[str, Any], t: int, s: int) -> list[tuple[DbxRun, DbxState]]:
        job_id = filters.get("job_id")
        start_from, start_to = filters.get("start_time_from"), filters.get("start_time_to")
        views = []
        for run in self.dbx_by_workspace[ws.token]:
            if run.seq > s or run.created_us > t:
                continue
            if job_id is not None and run.job.job_id != job_id:
                continue
            start_ms = to_ms(run.created_us)
            if (start_from is not None and start_ms < start_from) or (start_to is not None and start_ms > start_to):
                continue
            state = dbx_run_state(run, t, s)
            if filters.get("active_only") and not state.active:
                continue
            if filters.get("completed_only") and state.active:
                continue
            views.append((run, state))

        def order(view: tuple[DbxRun, DbxState]) -> tuple[int, int, int]:
            run, state = view
            if state.active or state.end_us is None:
                return (1, run.created_us, run.run_id)
            return (0, state.end_us, run.run_id)

        views.sort(key=order, reverse=True)
        return views

    # ---------------------------------------------------------------------------- Databricks mutations

    def dbx_repair(self, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxSegment:
        with self.lock:
            now = self.tick()
            record: dict[str, Any] = {
                "source": "databricks",
                "kind": "repair",
                "run_id": body.get("run_id"),
                "params": {k: v for k, v in body.items() if k != "run_id"},
            }
            try:
                seg = self._dbx_repair(ws, body, now, record)
            except SimError as exc:
                self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
                raise
            self._record(record, now, status_code=200, repair_id=seg.id)
            return seg

    def _dbx_repair(self, ws: WorkspaceSpec, body: dict[str, Any], now: int, record: dict[str, Any]) -> DbxSegment:
        if body.get("run_id") is None:
            raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: run_id")
        run = self.find_dbx_run(ws, body["run_id"])
        s = self._seq
        state = dbx_run_state(run, now, s)
        if state.active:
            raise SimError(
                400,
                "INVALID_STATE",
                f"Run {run.run_id} is in state {state.life_cycle_state} and cannot be repaired yet.",
            )
        repairs = [seg for seg in run.segments if seg.kind == "REPAIR"]
        latest = body.get("latest_repair_id")
        if repairs and latest is None:
            raise SimError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Run {run.run_id} has already been repaired: latest_repair_id is required "
                f"(the latest repair id is {repairs[-1].id}).",
            )
        if latest is not None and (not repairs or _as_int(latest) != repairs[-1].id):
            expected = repairs[-1].id if repairs else "none (the run has not been repaired yet)"
            raise SimError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"latest_repair_id {latest} is not the latest repair of run {run.run_id}; expected {expected}.",
            )
        rerun_tasks, rerun_failed = body.get("rerun_tasks"), bool(body.get("rerun_all_failed_tasks"))
        if rerun_tasks and rerun_failed:
            raise SimError(
                400, "INVALID_PARAMETER_VALUE", "Specify either rerun_tasks or rerun_all_failed_tasks, not both."
            )
        if not rerun_tasks and not rerun_failed:
            raise SimError(400, "INVALID_PARAMETER_VALUE", "Either rerun_tasks or rerun_all_failed_tasks must be set.")
        current = run.tasks_at(s)
        succeeded = {tr.index for tr in current if task_state(tr, now, s).result_state == "SUCCESS"}
        if rerun_failed:
            selected = {tr.index for tr in current if tr.index not in succeeded}
        else:
            keys = {tr.task_key: tr.index for tr in current}
            unknown = [k for k in rerun_tasks if k not in keys]
            if unknown:
                raise SimError(
                    400, "INVALID_PARAMETER_VALUE", f"Task key(s) {unknown} do not exist in run {run.run_id}."
                )
            selected = {keys[k] for k in rerun_tasks}
        if not selected:
            raise SimError(400, "INVALID_PARAMETER_VALUE", f"Run {run.run_id} has no failed tasks to repair.")
        first = min(selected)
        # Downstream tasks that did not succeed have to run again for the job to complete (as the UI's default
        # selection does); rerun_dependent_tasks also reruns downstream tasks that had succeeded.
        for tr in current:
            if tr.index > first and (tr.index not in succeeded or body.get("rerun_dependent_tasks")):
                selected.add(tr.index)
        indices = sorted(selected)
        failure = next((tr.failure for tr in current if tr.failure is not None and tr.index in selected), None)
        rng = self.actions_rng
        if failure is not None:
            rate = float(self.rerun_success_rate.get(failure.retry_label, self.rerun_success_rate.get("other", 0)))
            success = rng.random() < rate
            record.update(label=failure.row.label, corpus_id=failure.row.id, should_retry=failure.row.should_retry)
        else:
            success = True
            record.update(label=None, corpus_id=None)
        seg = self._make_segment(
            rng,
            run,
            kind="REPAIR",
            seg_id=self._new_dbx_id(rng),
            seq=self._next_seq(),
            requested_us=now,
            indices=indices,
            outcome="succeeded" if success else "failed",
            failure=None if success else failure,
            step=failure.step if failure is not None and not success else indices[-1],
            attempts={tr.index: tr.attempt for tr in current},
            queue_us=rng.randint(5 * US_PER_S, 30 * US_PER_S),
        )
        seg.params = {k: v for k, v in body.items() if k != "run_id"}
        run.segments.append(seg)
        self._push_event(seg.end_us, "databricks", run, seg)
        record.update(
            run_id=run.run_id,
            rerun_task_keys=[run.job.tasks[i] for i in indices],
            planned_outcome=seg.outcome,
            new_task_run_ids=[tr.run_id for tr in seg.task_runs],
        )
        return seg

    def dbx_run_now(self, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxRun:
        """jobs/run-now: a manual (ONE_TIME) run of a job starting now, or the existing run of a known token."""
        with self.lock:
            now = self.tick()
            token = body.get("idempotency_token")
            record: dict[str, Any] = {
                "source": "databricks",
                "kind": "run-now",
                "job_id": body.get("job_id"),
                "params": {"job_id": body.get("job_id"), "idempotency_token": token},
            }
            try:
                run, created = self._dbx_run_now(ws, body, now, record)
            except SimError as exc:
                self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
                raise
            outcome = "accepted" if created else "noop_idempotent"
            self._record(record, now, status_code=200, outcome=outcome, new_run_id=run.run_id, job=run.job.name)
            return run

    def record_rejected(self, record: dict[str, Any], exc: SimError) -> dict[str, Any]:
        """Log a write that failed before it reached the world (e.g. a body that is not JSON) as rejected."""
        with self.lock:
            now = self.tick()
            return self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")

    def _dbx_run_now(
        self, ws: WorkspaceSpec, body: dict[str, Any], now: int, record: dict[str, Any]
    ) -> tuple[DbxRun, bool]:
        raw_id = body.get("job_id")
        if raw_id is None:
            raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: job_id")
        job_id = _dbx_int64(raw_id, "job_id")
        token = body.get("idempotency_token")
        if token is not None and (not isinstance(token, str) or len(token) > 64):
            raise SimError(400, "INVALID_PARAMETER_VALUE", "idempotency_token must have at most 64 characters.")
        params = body.get("job_parameters")
        if params is not None and (
            not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values())
        ):
            raise SimError(
                400, "INVALID_PARAMETER_VALUE", "Invalid job_parameters: expected a map from string to string."
            )
        job = ws.jobs.get(job_id)
        if job is None:
            raise SimError(404, "RESOURCE_DOES_NOT_EXIST", f"Job {job_id} does not exist.")
        if token:
            existing = self.dbx_idempotency.get((ws.token, token))
            if existing is not None:
                return self.dbx_runs[existing], False
        rng = self.actions_rng
        forced = self.run_now_failure_rate
        outcome, row, step = self._draw_outcome(
            rng, job, len(job.tasks), failure_rate=forced, cancel_rate=0.0 if forced is not None else None
        )
        if outcome == "cancelled":
            outcome = "succeeded"  # a manual run is not cancelled by itself
        run = self._make_dbx_run(
            rng, job, now, outcome=outcome, row=row, step=step, origin="manual", job_parameters=params or None
        )
        seg = run.segments[0]
        seg.params = {k: v for k, v in body.items() if k not in ("job_id", "idempotency_token")}
        if token:
            self.dbx_idempotency[(ws.token, token)] = run.run_id
        self._push_event(seg.end_us, "databricks", run, seg)
        record.update(
            planned_outcome=seg.outcome,
            label=row.label if row else None,
            corpus_id=row.id if row else None,
            failed_step=job.tasks[step] if seg.outcome == "FAILED" else None,
        )
        return run, True

    def dbx_cancel(self, ws: WorkspaceSpec, run_id: Any) -> dict[str, Any]:
        with self.lock:
            now = self.tick()
            record: dict[str, Any] = {"source": "databricks", "kind": "cancel", "run_id": run_id, "params": {}}
            try:
                if run_id is None:
                    raise SimError(400, "INVALID_PARAMETER_VALUE", "Missing required field: run_id")
                run = self.find_dbx_run(ws, run_id)
            except SimError as exc:
                self._record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")
                raise
            seg = run.segment_at(self._seq)
            state = dbx_run_state(run, now, self._seq)
            if not state.active:
                return self._record(record, now, status_code=200, outcome="noop_already_terminated")
            seg.cancel_us, seg.cancel_seq = now, self._next_seq()
            return self._record(record, now, status_code=200, outcome="cancelled", job=run.job.name)

    # --------------------------------------------------------------------------------- /_sim/fail

    def inject_failure(
        self,
        source: str,
        name: str,
        corpus_id: str | None = None,
        notify: bool = True,
        step: int | str | None = None,
        variant: str | None = None,
    ) -> dict[str, Any]:
        """Create a run of `name` that has just failed (ended at the current sim time) and notify about it."""
        with self.lock:
            now = self.tick()
            rng = self.actions_rng
            if source == "adf":
                pipeline = self._pipeline_by_name(name)
                row = self._corpus_row(source, corpus_id, pipeline.corpus, rng)
                idx = self._step_index([a for a, _ in pipeline.activities], step, rng)
                length = rng.randint(*pipeline.duration_us)
                run = self._make_adf_run(
                    rng,
                    pipeline,
                    now - length,
                    outcome="failed",
                    row=row,
                    step=idx,
                    origin="injected",
                    queue_us=0,
                    total_us=length,
                )
                self._shift_adf_end(run, now)
                sent = self._notify_adf_failure(run, now) if notify else False
                return {
                    "source": "adf",
                    "run_id": run.run_id,
                    "pipeline": pipeline.name,
                    "corpus_id": row.id,
                    "label": row.label,
                    "failed_step": run.pipeline.activities[idx][0],
                    "notified": sent,
                }
            if source == "databricks":
                job = self._job_by_name(name)
                row = self._corpus_row(source, corpus_id, job.corpus, rng)
                idx = self._step_index(job.tasks, step, rng)
                length = rng.randint(*job.duration_us)
                kind = (variant, "CLUSTER_ERROR" if variant == "cluster" else None) if variant else None
                dbx = self._make_dbx_run(
                    rng,
                    job,
                    now - length,
                    outcome="failed",
                    row=row,
                    step=idx,
                    origin="injected",
                    variant=kind,
                    queue_us=0,
                    total_us=length,
                )
                self._shift_dbx_end(dbx, now)
                sent = self._notify_dbx_failure(dbx) if notify else False
                return {
                    "source": "databricks",
                    "run_id": dbx.run_id,
                    "job": job.name,
                    "job_id": job.job_id,
                    "corpus_id": row.id,
                    "label": row.label,
                    "failed_step": job.tasks[idx],
                    "variant": dbx.segments[0].failure.variant if dbx.segments[0].failure else None,
                    "notified": sent,
                }
            raise SimError(400, "BadRequest", "source must be 'adf' or 'databricks'")

    @staticmethod
    def _shift_adf_end(run: AdfRun, now: int) -> None:
        """Make an injected run end exactly now, so it shows up as failed immediately."""
        delta = now - run.end_us
        run.created_us += delta
        run.start_us += delta
        run.end_us = now
        for act in run.activities:
            act.start_us += delta
            act.end_us += delta

    @staticmethod
    def _shift_dbx_end(run: DbxRun, now: int) -> None:
        seg = run.segments[0]
        delta = now - seg.end_us
        run.created_us += delta
        seg.requested_us += delta
        seg.start_us += delta
        seg.end_us = now
        for tr in seg.task_runs:
            tr.start_us += delta
            tr.end_us += delta

    def _pipeline_by_name(self, name: str) -> PipelineSpec:
        for factory in self.factories.values():
            if name.casefold() in factory.pipelines:
                return factory.pipelines[name.casefold()]
        raise SimError(404, "PipelineNotFound", f"No pipeline named {name!r} in any factory")

    def _job_by_name(self, name: str) -> JobSpec:
        for ws in self.workspaces.values():
            for job in ws.jobs.values():
                if job.name == name or str(job.job_id) == str(name):
                    return job
        raise SimError(404, "JobNotFound", f"No job named {name!r} in any workspace")

    @staticmethod
    def _corpus_row(source: str, corpus_id: str | None, rows: tuple[CorpusRow, ...], rng: random.Random) -> CorpusRow:
        if not corpus_id:
            return rng.choice(rows)
        try:
            row = row_by_id(corpus_id)
        except KeyError:
            raise SimError(400, "BadRequest", f"Unknown corpus id {corpus_id!r}") from None
        if row.source_system != source:
            raise SimError(400, "BadRequest", f"Corpus row {corpus_id!r} belongs to {row.source_system}, not {source}")
        return row

    @staticmethod
    def _step_index(names: list[str], step: int | str | None, rng: random.Random) -> int:
        if step is None:
            return rng.randrange(len(names))
        if isinstance(step, int):
            if not 0 <= step < len(names):
                raise SimError(400, "BadRequest", f"step index {step} out of range")
            return step
        if step not in names:
            raise SimError(400, "BadRequest", f"unknown step {step!r}; known: {names}")
        return names.index(step)

    # ----------------------------------------------------------------------------------------- truth

    def truth(self, source: str, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
        with self.lock:
            now = self.tick()
            s = self._seq
            renderers: dict[str, tuple[dict[Any, Any], Callable[[Any, int, int], dict[str, Any]]]] = {
                "adf": (self.adf_runs, self._adf_truth),
                "databricks": (self.dbx_runs, self._dbx_truth),
            }
            if source not in renderers:
                raise SimError(400, "BadRequest", "source must be 'adf' or 'databricks'")
            store, render = renderers[source]
            runs = sorted(store.values(), key=lambda r: r.seq)
            page = runs[offset : offset + limit] if limit is not None else runs[offset:]
            out: dict[str, Any] = {"source": source, "now": iso7(now), "count": len(runs), "offset": offset}
            out["runs"] = [render(r, now, s) for r in page]
            end = offset + len(page)
            out["next_offset"] = end if end < len(runs) else None
            return out

    def _adf_truth(self, run: AdfRun, now: int, s: int) -> dict[str, Any]:
        status, last_updated, end = adf_run_state(run, now, s)
        failure = run.failure if status == "Failed" else None
        return {
            "run_id": run.run_id,
            "factory": run.pipeline.factory.name,
            "pipeline": run.pipeline.name,
            "run_group_id": run.group_id,
            "is_latest": self.is_latest(run, s),
            "origin": run.origin,
            "reference_run_id": run.reference_run_id,
            "status": status,
            "planned_outcome": run.outcome if run.cancel_us is None else "Cancelled",
            "last_updated": iso7(last_updated),
            "run_start": iso7(run.created_us),
            "run_end": iso7(end) if end is not None else None,
            **_failure_truth(failure, [a for a, _ in run.pipeline.activities]),
            # The cause inside an activity error whose message is a whole error object (simulator.adf_errors).
            "specific_error": adf_errors.specific_error(failure.row) if failure else None,
            "specific_error_code": adf_errors.specific_error_code(failure.row) if failure else None,
            "enveloped": adf_errors.is_enveloped(failure.row) if failure else None,
            "failure_type": self.adf_failure_type(failure) if failure else None,
        }

    def _dbx_truth(self, run: DbxRun, now: int, s: int) -> dict[str, Any]:
        state = dbx_run_state(run, now, s)
        seg = run.segment_at(s)
        failure = seg.failure if state.result_state == "FAILED" else None
        failed_task = next((tr for tr in seg.task_runs if tr.outcome == "FAILED"), None) if failure else None
        repairs = [x for x in run.segments if x.kind == "REPAIR" and x.seq <= s]
        return {
            "run_id": run.run_id,
            "job_id": run.job.job_id,
            "job": run.job.name,
            "workspace_id": run.job.workspace.workspace_id,
            "origin": run.origin,
            "status": state.result_state or state.life_cycle_state,
            "life_cycle_state": state.life_cycle_state,
            "result_state": state.result_state,
            "status_state": state.status_state,
            "termination_code": state.termination["code"] if state.termination else None,
            "planned_outcome": seg.outcome if seg.cancel_us is None else "CANCELED",
            "start_time": to_ms(run.created_us),
            "end_time": to_ms(state.end_us) if state.end_us is not None else 0,
            **_failure_truth(failure, run.job.tasks),
            "failed_task_run_id": failed_task.run_id if failed_task else None,
            "failure_variant": failure.variant if failure else None,
            "repair_count": len(repairs),
            "latest_repair_id": repairs[-1].id if repairs else None,
        }

    # ----------------------------------------------------------------------------------------- stats

    def count_call(self, endpoint: str) -> None:
        with self.lock:
            self.calls[endpoint] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "faults": dict(sorted(self.faults.injected.items())),
                "notifications": {
                    "sent": self.notify_counts["sent"],
                    "failed": self.notify_counts["failed"],
                    "pending": len(self.outbox),
                },
                "runs": {"adf": len(self.adf_runs), "databricks": len(self.dbx_runs)},
                "reruns": len(self.reruns),
            }


# ------------------------------------------------------------------------------------- helpers


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Invalid run id: {value!r}") from None


def _dbx_int64(value: Any, name: str) -> int:
    """An int64 field of a Databricks JSON body: a JSON integer or a decimal string (proto3 JSON), not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SimError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: {value!r} (expected an integer)")
    try:
        return int(value)
    except ValueError:
        raise SimError(
            400, "INVALID_PARAMETER_VALUE", f"Invalid value for {name}: {value!r} (expected an integer)"
        ) from None


def _dbx_job_parameters(day: str, given: dict[str, str] | None) -> list[dict[str, str]]:
    """The run's `job_parameters`: the job's `load_date` (default: the run's day) plus run-now overrides."""
    values = {"load_date": day, **(given or {})}
    return [{"name": name, "default": "", "value": value} for name, value in values.items()]


def _stringify(params: dict[str, Any]) -> dict[str, str]:
    """ADF reports parameter values as strings; arrays and objects arrive as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


def _failure_truth(failure: Failure | None, step_names: list[str]) -> dict[str, Any]:
    if failure is None:
        return dict.fromkeys(("specific_error", "error_code", "corpus_id", "label", "should_retry", "failed_step"))
    return {
        "specific_error": failure.row.error_message,
        "error_code": failure.row.error_code,
        "corpus_id": failure.row.id,
        "label": failure.row.label,
        "should_retry": failure.row.should_retry,
        "failed_step": step_names[failure.step],
    }


def _none_key(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


_ADF_SORT_KEYS: dict[str, Callable[[tuple[Any, ...]], Any]] = {
    "RunStart": lambda v: v[0].created_us,
    "RunEnd": lambda v: _none_key(v[3]),
    "PipelineName": lambda v: v[0].pipeline.name.casefold(),
    "Status": lambda v: v[1],
}
_ACTIVITY_SORT_KEYS: dict[str, Callable[[tuple[Any, ...]], Any]] = {
    "ActivityName": lambda v: v[0].name.casefold(),
    "ActivityRunStart": lambda v: v[0].start_us,
    "ActivityRunEnd": lambda v: _none_key(v[2]),
    "Status": lambda v: v[1],
}


def _match(actual: Any, operator: str, values: list[Any]) -> bool:
    hit = actual in values
    return hit if operator in ("Equals", "In") else not hit


def _adf_filter_match(view: tuple[Any, ...], flt: tuple[str, str, list[Any]]) -> bool:
    run, status, _, end, latest = view
    operand, operator, values = flt
    if operand == "PipelineName":
        return _match(run.pipeline.name.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "Status":
        return _match(status.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "RunGroupId":
        return _match(run.group_id, operator, [str(v).lower() for v in values])
    if operand == "LatestOnly":
        # The service honours only a JSON boolean true here; the string "True" is ignored.
        return latest if values and values[0] is True else True
    if operand == "RunStart":
        return _match(run.created_us, operator, values)
    if operand == "RunEnd":
        return _match(end, operator, values)
    return True


def _activity_filter_match(view: tuple[Any, ...], flt: tuple[str, str, list[Any]]) -> bool:
    act, status, end = view
    operand, operator, values = flt
    if operand == "ActivityName":
        return _match(act.name.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "ActivityType":
        return _match(act.type.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "Status":
        return _match(status.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "ActivityRunStart":
        return _match(act.start_us, operator, values)
    if operand == "ActivityRunEnd":
        return _match(end, operator, values)
    return True
