"""The World: the simulated platforms' whole state, its clock, and the operations the APIs perform on it.

All state lives in one World guarded by a re-entrant lock; HTTP handlers call its methods, tests may inspect it
directly. The methods are thin: each operation lives in the module of its concern (`adf_views`, `adf_actions`,
`dbx_views`, `dbx_actions`, `failures`, `notifications`, `truth`), runs are built in `build` and `history`, and the
clock's consequences in `schedule`. Randomness is always a seeded `random.Random` derived from the scenario seed:

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
import random
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from simulator.faults import FaultInjector
from simulator.model import (
    AdfRun,
    DbxRun,
    DbxSegment,
    DbxState,
    DbxTaskRun,
    FactorySpec,
    WorkspaceSpec,
)
from simulator.notify import Outgoing
from simulator.scenarios import load_scenario
from simulator.timefmt import iso7, parse_iso, real_now_us
from simulator.world import adf_actions, adf_views, dbx_actions, dbx_views, failures, notifications, storms, truth
from simulator.world.adf_views import ActivityView, AdfQuery, AdfRunView
from simulator.world.build import guid
from simulator.world.clock import SimClock
from simulator.world.errors import SimError
from simulator.world.history import generate_history
from simulator.world.jira import JiraSite
from simulator.world.loads import WarehouseLoads
from simulator.world.schedule import Schedule, fire_events, init_schedules, materialize_schedules
from simulator.world.servicenow import SnowInstance
from simulator.world.specs import build_specs
from simulator.world.sql import SqlWarehouses

# (due time, tie-breaker, run, Databricks segment): a run or repair that ends then and may have to notify.
Event = tuple[int, int, AdfRun | DbxRun, DbxSegment | None]
SNAPSHOTS_KEPT = 32


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
        # A running clock started at the wall clock is bounded by it: no run's times are ever ahead of the real now.
        # (A frozen one, speed 0, moves only when told to: tests advance it as far as they need.)
        self.clock = SimClock(start, sc["speed"], wall_bound=not sc.get("clock_start") and sc["speed"] > 0)
        self.clock_start_us = start
        # Run ids are drawn from the seeded streams, then mixed with the clock's start: the same seed and start give
        # the same world, and a restart (a new start) never hands out the run ids an earlier one did. A client that
        # stored those would take the new failures for ones it already knows.
        digest = hashlib.sha256(f"{self.seed}/{start}".encode()).digest()
        self.run_id_salt = int.from_bytes(digest[:16], "big")
        self.seq = 0
        self._event_counter = 0
        self.actions_rng = random.Random(f"{self.seed}/actions")
        self._request_rng = random.Random(f"{self.seed}/requests")
        self.notify_rng = random.Random(f"{self.seed}/notify")
        self.faults = FaultInjector(sc["faults"])
        self.notify_config: dict[str, Any] = {}
        self.set_notify(sc["notify"])
        self.adf_page_size = int(sc["adf_page_size"])
        self.rerun_success_rate: dict[str, float] = dict(sc["rerun_success_rate"])
        self.dbx_variants: dict[str, float] = dict(sc["databricks_failure_variants"])
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
        self.dbx_ids: set[int] = set()
        # run-now idempotency: (workspace token, idempotency_token) -> run id, for the life of the world.
        self.dbx_idempotency: dict[tuple[str, str], int] = {}
        self.reruns: list[dict[str, Any]] = []
        self.outbox: list[Outgoing] = []
        self.notifications: list[dict[str, Any]] = []
        self.notify_counts: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.arm_budget: Counter[str] = Counter()  # drives the x-ms-ratelimit-remaining-* headers
        self.events: list[Event] = []
        self._snapshots: OrderedDict[Any, list[Any]] = OrderedDict()
        self.schedules: list[Schedule] = []
        self.llm_counter = 0
        # What the chat endpoint received (newest last, bounded) and fields forced into its JSON answers.
        self.llm_requests: list[dict[str, Any]] = []
        self.llm_override: dict[str, Any] = dict(sc.get("llm_override") or {})
        previous: SqlWarehouses | None = getattr(self, "sql", None)
        if previous is not None:
            previous.close()
        self.sql = SqlWarehouses(sc, seed=self.seed, start_us=start)
        self.loads = WarehouseLoads(sc, seed=self.seed, start_us=start)
        # The ticketing systems (simulator.jira_api, simulator.servicenow_api): empty at every reset.
        self.jira = JiraSite(self.seed)
        # The scenario's scheduled storms (simulator.world.storms), each fired once.
        self.storms_due: list[dict[str, Any]] = [dict(storm) for storm in sc["storms"]]
        self.servicenow = SnowInstance(self.seed)
        build_specs(self, sc)
        generate_history(self, sc["history"])
        init_schedules(self)

    # ------------------------------------------------------------------------------------- primitives

    def now_us(self) -> int:
        return self.clock.now_us()

    def next_seq(self) -> int:
        """The next world sequence number: every change a snapshot must not see gets one."""
        self.seq += 1
        return self.seq

    def new_dbx_id(self, rng: random.Random, *, per_start: bool = True) -> int:
        """A new Databricks id: a run's differs per start of the clock (see _reset_locked), a job's does not."""
        while True:
            value = rng.randrange(10**14, 10**15)
            if per_start:
                value = 10**14 + (value - 10**14 + self.run_id_salt) % (9 * 10**14)
            if value not in self.dbx_ids:
                self.dbx_ids.add(value)
                return value

    def request_id(self) -> str:
        with self.lock:
            return guid(self._request_rng)

    def push_event(self, at_us: int, run: AdfRun | DbxRun, seg: DbxSegment | None) -> None:
        """Check at `at_us` whether the run (or the Databricks segment) ended failed, and notify if so; or ended
        successfully, and load its rows if it loads a warehouse table."""
        self._event_counter += 1
        heapq.heappush(self.events, (at_us, self._event_counter, run, seg))
        self.loads.watch(at_us, run, seg)

    def cached(self, key: Any, build: Callable[[], list[Any]]) -> list[Any]:
        """A query's result for a frozen snapshot, built once: paging through it must not rebuild it per page."""
        hit = self._snapshots.get(key)
        if hit is not None:
            self._snapshots.move_to_end(key)
            return hit
        value = build()
        self._snapshots[key] = value
        while len(self._snapshots) > SNAPSHOTS_KEPT:
            self._snapshots.popitem(last=False)
        return value

    def record(self, record: dict[str, Any], now: int, **extra: Any) -> dict[str, Any]:
        """Append a write call (createRun, cancel, repair, run-now) to the rerun log."""
        record.update(extra)
        record["id"] = len(self.reruns) + 1
        record["at"] = iso7(now)
        record.setdefault("outcome", "accepted")
        self.reruns.append(record)
        return record

    def record_rejected(self, record: dict[str, Any], exc: SimError) -> dict[str, Any]:
        """Log a write that failed before it reached the world (e.g. a body that is not JSON) as rejected."""
        with self.lock:
            now = self.tick()
            return self.record(record, now, status_code=exc.status, error=exc.message, outcome="rejected")

    # ----------------------------------------------------------------------------------- clock & tick

    def tick(self) -> int:
        """Materialise scheduled runs and emit failure notifications up to the current sim time."""
        with self.lock:
            now = self.clock.now_us()
            materialize_schedules(self, now)
            fire_events(self, now)
            self.loads.apply(self, now)
            storms.fire_storms(self, now)
            return now

    def snapshot_point(self) -> tuple[int, int]:
        """(sim time, sequence) after ticking: the frozen 'as of' point of a new query snapshot."""
        with self.lock:
            return self.tick(), self.seq

    def advance(self, seconds: float) -> int:
        with self.lock:
            self.clock.advance(seconds)
            return self.tick()

    # ---------------------------------------------------------------------------------- notifications

    def set_notify(self, config: dict[str, Any]) -> dict[str, Any]:
        return notifications.set_notify(self, config)

    def take_outbox(self) -> list[Outgoing]:
        return notifications.take_outbox(self)

    def record_delivery(self, item: Outgoing, status: int | None, error: str | None) -> None:
        notifications.record_delivery(self, item, status, error)

    # -------------------------------------------------------------------------------------------- ADF

    def find_factory(self, subscription_id: str, resource_group: str, factory_name: str) -> FactorySpec:
        return adf_views.find_factory(self, subscription_id, resource_group, factory_name)

    def find_adf_run(self, factory: FactorySpec, run_id: str) -> AdfRun:
        return adf_views.find_adf_run(self, factory, run_id)

    def is_latest(self, run: AdfRun, s: int) -> bool:
        return adf_views.is_latest(self, run, s)

    def adf_run_views(self, factory: FactorySpec, query: AdfQuery, t: int, s: int) -> list[AdfRunView]:
        return adf_views.adf_run_views(self, factory, query, t, s)

    def adf_activity_views(self, run: AdfRun, query: AdfQuery, t: int, s: int) -> list[ActivityView]:
        return adf_views.adf_activity_views(self, run, query, t, s)

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
        return adf_actions.adf_create_run(
            self,
            factory,
            pipeline_name,
            reference_run_id=reference_run_id,
            is_recovery=is_recovery,
            start_activity_name=start_activity_name,
            start_from_failure=start_from_failure,
            parameters=parameters,
        )

    def adf_cancel(self, factory: FactorySpec, run_id: str, is_recursive: bool) -> dict[str, Any]:
        return adf_actions.adf_cancel(self, factory, run_id, is_recursive)

    # ------------------------------------------------------------------------------------- Databricks

    def workspace_for_token(self, token: str | None) -> WorkspaceSpec | None:
        return dbx_views.workspace_for_token(self, token)

    def find_dbx_run(self, ws: WorkspaceSpec, run_id: Any) -> DbxRun:
        return dbx_views.find_dbx_run(self, ws, run_id)

    def find_dbx_task_run(self, ws: WorkspaceSpec, run_id: Any) -> DbxTaskRun:
        return dbx_views.find_dbx_task_run(self, ws, run_id)

    def dbx_run_views(
        self, ws: WorkspaceSpec, filters: dict[str, Any], t: int, s: int
    ) -> list[tuple[DbxRun, DbxState]]:
        return dbx_views.dbx_run_views(self, ws, filters, t, s)

    def dbx_repair(self, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxSegment:
        return dbx_actions.dbx_repair(self, ws, body)

    def dbx_run_now(self, ws: WorkspaceSpec, body: dict[str, Any]) -> DbxRun:
        return dbx_actions.dbx_run_now(self, ws, body)

    def dbx_cancel(self, ws: WorkspaceSpec, run_id: Any) -> dict[str, Any]:
        return dbx_actions.dbx_cancel(self, ws, run_id)

    # -------------------------------------------------------------------------------- /_sim endpoints

    def inject_failure(
        self,
        source: str,
        name: str,
        corpus_id: str | None = None,
        notify: bool = True,
        step: int | str | None = None,
        variant: str | None = None,
    ) -> dict[str, Any]:
        return failures.inject_failure(self, source, name, corpus_id, notify, step, variant)

    def skip_scheduled(self, source: str, name: str, runs: int = 1) -> dict[str, Any]:
        """The next `runs` scheduled runs of a pipeline (adf) or job (databricks, name or id) do not start."""
        return failures.skip_scheduled(self, source, name, runs)

    def truth(self, source: str, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
        return truth.truth(self, source, offset, limit)

    def count_call(self, endpoint: str) -> None:
        with self.lock:
            self.calls[endpoint] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "faults": dict(sorted(self.faults.injected.items())),
                "faults_by_source": dict(sorted(self.faults.by_source.items())),
                "notifications": {
                    "sent": self.notify_counts["sent"],
                    "failed": self.notify_counts["failed"],
                    "pending": len(self.outbox),
                },
                "runs": {"adf": len(self.adf_runs), "databricks": len(self.dbx_runs)},
                "reruns": len(self.reruns),
            }
