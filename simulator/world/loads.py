"""The demo tables' loaders: the scenario's `warehouse_loads` name the ADF pipeline or Databricks job that writes
each table. When such a run (or repair) ends successfully, its batch of rows is appended to the table in the first
workspace's SQL warehouse; `warehouse_problems` injects, on a seeded schedule, one problem at a time into a few
successful loads of its table, and the load after those repairs the table.

Timing. Business columns (order dates, event times) are sim time, like the runs' own times, so a partition filter on
the run's date finds the run's rows. `loaded_at` is the warehouse's own clock when it wrote the row, as
`current_timestamp()` would stamp it: the machine's clock while the sim clock runs (a checker on the real clock then
sees a stale table as stale, even in a world running ten times faster), the sim time with a frozen clock (tests).
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simulator.model import AdfRun, DbxRun, DbxSegment, adf_run_state
from simulator.sql_demo import ROW_COUNTS, batch_rows
from simulator.sql_loads import LoadedTable, Problem
from simulator.timefmt import US_PER_S, iso7, real_now_us

if TYPE_CHECKING:
    from simulator.world.state import World

LOG_KEPT = 1000
PARENT_TABLE = {"main.sales.orders": "main.sales.customers", "main.finance.invoices": "main.sales.orders"}


@dataclass(frozen=True)
class Loader:
    table: str
    source: str  # adf | databricks
    name: str  # pipeline or job name
    factory: str | None  # ADF: only this factory's pipeline of that name (None: any)
    rows: tuple[int, int]  # rows per run, [min, max]


@dataclass
class Episode:
    problem: Problem
    loads_left: int  # broken loads still to come; at 0, the table's next load repairs it
    record: dict[str, Any]


class WarehouseLoads:
    def __init__(self, scenario: dict[str, Any], *, seed: int, start_us: int) -> None:
        self.seed = seed
        self.start_us = start_us
        self.loaders = [
            Loader(item["table"], item["source"], item["name"], item.get("factory"), tuple(item["rows"]))
            for item in scenario["warehouse_loads"]
        ]
        config = scenario["warehouse_problems"]
        self.problems = [
            Problem(p["kind"], p["table"], p.get("column"), float(p["share"]), tuple(p["loads"]))
            for p in config["problems"]
        ]
        self.gap_us = tuple(int(s * US_PER_S) for s in config["gap_seconds"])
        self.rng = random.Random(f"{seed}/warehouse/problems")
        first = [int(s * US_PER_S) for s in config["first_after_seconds"]]
        self.next_problem_us = start_us + self.rng.randint(*first)
        self.cycle: list[Problem] = []
        self.active: Episode | None = None
        self.due: list[tuple[int, int, AdfRun | DbxRun, DbxSegment | None]] = []
        self.counter = 0
        self.loads_done = 0
        self.tables: dict[str, LoadedTable] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_KEPT)
        self.episodes: deque[dict[str, Any]] = deque(maxlen=LOG_KEPT)

    def loader_for(self, run: AdfRun | DbxRun) -> Loader | None:
        for loader in self.loaders:
            if isinstance(run, AdfRun):
                factory = run.pipeline.factory.name
                if loader.source == "adf" and run.pipeline.name == loader.name and loader.factory in (None, factory):
                    return loader
            elif loader.source == "databricks" and run.job.name == loader.name:
                return loader
        return None

    def watch(self, at_us: int, run: AdfRun | DbxRun, seg: DbxSegment | None) -> None:
        """A run (or Databricks segment) ends at `at_us`: if it loads a table, load when it has succeeded."""
        if self.loaders and self.loader_for(run) is not None:
            self.counter += 1
            heapq.heappush(self.due, (at_us, self.counter, run, seg))

    def apply(self, world: World, now: int) -> None:
        """Load every loader run that ended successfully by `now`, in the order they ended."""
        while self.due and self.due[0][0] <= now:
            end_us, _, run, seg = heapq.heappop(self.due)
            window = _succeeded_window(world, run, seg, now)
            loader = self.loader_for(run)
            if window is not None and loader is not None:
                self._load(world, loader, run, window[0], end_us)

    def snapshot(self) -> dict[str, Any]:
        """What /_sim/loads answers: the loaders, the problem now injected, past problems and recent loads."""
        active = self.active
        return {
            "loaders": [
                {"table": x.table, "source": x.source, "name": x.name, "factory": x.factory, "rows": list(x.rows)}
                for x in self.loaders
            ],
            "active": dict(active.record, loads_left=active.loads_left) if active else None,
            "next_problem_at": None if active or not self.problems else iso7(self.next_problem_us),
            "problems": list(self.episodes),
            "loads": list(self.log),
        }

    # ------------------------------------------------------------------------------------------- loading

    def _load(self, world: World, loader: Loader, run: AdfRun | DbxRun, start_us: int, end_us: int) -> None:
        if self.active is None and self.problems and end_us >= self.next_problem_us:
            self.active = self._next_episode(end_us)
        ws = next(iter(world.workspaces.values()))
        engine = world.sql.engine(ws)
        table = self.tables.get(loader.table)
        if table is None:
            table = self.tables[loader.table] = LoadedTable.seeded(loader.table, seed=self.seed, start_us=self.start_us)
        self.loads_done += 1
        rng = random.Random(f"{self.seed}/load/{loader.table}/{self.loads_done}")
        episode = self.active if self.active is not None and self.active.problem.table == loader.table else None
        count = rng.randint(*loader.rows)
        record: dict[str, Any] = {
            "at": iso7(end_us),
            "table": loader.table,
            "source": loader.source,
            "name": loader.name,
            "run_id": run.run_id,
            "problem": None,
            "repaired": None,
        }
        if episode is not None and episode.loads_left == 0:
            stale = episode.problem.kind == "stale"
            # The repairing run of a stale table catches up: it brings the rows the empty runs did not.
            count *= 1 + episode.record["bad_loads"] if stale else 1
            record["repaired"] = episode.problem.kind
            record["rows_restored"] = table.repair(engine)
            episode.record.update(repaired_at=iso7(end_us), repaired_by_run_id=run.run_id)
            self.active = None
            self.next_problem_us = end_us + self.rng.randint(*self.gap_us)
            episode = None
        batch = batch_rows(
            loader.table,
            rng,
            first=table.loaded + 1,
            count=count,
            start=_as_datetime(start_us),
            end=_as_datetime(end_us),
            loaded_at=_as_datetime(real_now_us() if world.clock.speed > 0 else end_us),
            refs=self._refs(loader.table),
        )
        problem = episode.problem if episode is not None else None
        record["rows"] = table.append(engine, batch, problem, rng)
        if episode is not None:
            record["problem"] = episode.problem.kind
            episode.loads_left -= 1
            episode.record["bad_loads"] += 1
            episode.record.setdefault("first_run_id", run.run_id)
            episode.record.setdefault("started_at", iso7(end_us))
        self.log.append(record)

    def _next_episode(self, now_us: int) -> Episode:
        """The next problem of the cycle: every problem once per cycle, the first cycle in the scenario's order (a
        demo opens with its quick problems), later ones in a seeded order."""
        if not self.cycle:
            self.cycle = list(self.problems)
            if self.episodes:
                self.rng.shuffle(self.cycle)
        problem = self.cycle.pop(0)
        record: dict[str, Any] = {
            "kind": problem.kind,
            "table": problem.table,
            "column": problem.column,
            "due_at": iso7(now_us),
            "bad_loads": 0,
        }
        self.episodes.append(record)
        return Episode(problem, self.rng.randint(*problem.loads), record)

    def _refs(self, table: str) -> int:
        parent = PARENT_TABLE.get(table)
        if parent is None:
            return 0
        loaded = self.tables.get(parent)
        return loaded.loaded if loaded is not None else ROW_COUNTS[parent]


def _succeeded_window(world: World, run: AdfRun | DbxRun, seg: DbxSegment | None, now: int) -> tuple[int, int] | None:
    """(start, end) of the run if it ended successfully as of now (not cancelled, not superseded by a repair)."""
    s = world.seq
    if isinstance(run, AdfRun):
        status, _, end = adf_run_state(run, now, s)
        return (run.created_us, run.end_us) if status == "Succeeded" and end is not None else None
    if seg is None or run.segment_at(s) is not seg or seg.cancelled_at(s) is not None or seg.outcome != "SUCCESS":
        return None
    return seg.requested_us, seg.end_us


def _as_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / US_PER_S, tz=UTC).replace(microsecond=0)
