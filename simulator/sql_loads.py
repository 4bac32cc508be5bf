"""What a loader run writes into a demo table, clean or with an injected problem, and the load that puts it right.

A `LoadedTable` keeps every row the table *should* hold (the clean rows), so a repairing load can restore what a
broken one wrote: rows a problem damaged are deleted and written again clean; a dropped column comes back with the
table recreated from the clean rows. Problems, as a loader can cause them:

* `null_surge`: a share of the batch has NULL in `column` (an upstream join that lost its match);
* `out_of_range`: a share of the batch has `column` x100 (amounts written in cents);
* `duplicate_keys`: a share of the batch is written twice (a retried write that appended again);
* `dropped_column`: the table is recreated without `column` (an upstream schema change), new rows lack it;
* `stale`: the run succeeds and writes nothing (its source extract is empty); the repairing load brings the backlog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from simulator.sql_demo import KEY_COLUMNS, column_index, demo_rows, table_ddl
from simulator.sql_engine import SqlEngine

PROBLEM_KINDS = ("null_surge", "out_of_range", "duplicate_keys", "dropped_column", "stale")
NEEDS_COLUMN = frozenset({"null_surge", "out_of_range", "dropped_column"})


@dataclass(frozen=True)
class Problem:
    """An injected problem as the scenario declares it: which table, which column, how much of a batch, for how
    many of the loader's successful runs."""

    kind: str
    table: str
    column: str | None = None
    share: float = 0.5
    loads: tuple[int, int] = (2, 4)


@dataclass
class LoadedTable:
    table: str
    clean: list[list[Any]]  # every row the table should hold, in load order
    loaded: int  # rows numbered so far (the next key is loaded + 1)
    damaged: dict[Any, list[Any]] = field(default_factory=dict)  # key -> its clean row, to restore
    dropped: str | None = None  # the column the table lacks now

    @classmethod
    def seeded(cls, table: str, *, seed: int, start_us: int) -> LoadedTable:
        rows = demo_rows(table, seed=seed, start_us=start_us)
        return cls(table, rows, len(rows))

    def append(self, engine: SqlEngine, batch: list[list[Any]], problem: Problem | None, rng: random.Random) -> int:
        """Write a run's batch, broken by `problem` if given; returns the rows written."""
        if problem is not None and problem.kind == "stale":
            return 0
        self.loaded += len(batch)
        self.clean.extend(batch)
        written = [list(row) for row in batch]
        kind = problem.kind if problem is not None else None
        with engine.lock:
            if kind == "dropped_column" and self.dropped is None:
                assert problem is not None and problem.column is not None
                self.dropped = problem.column
                self._recreate(engine, self.clean[: -len(batch)] if batch else self.clean)
            if kind in ("null_surge", "out_of_range"):
                assert problem is not None and problem.column is not None
                index = column_index(self.table, problem.column)
                for row, clean in zip(written, batch, strict=True):
                    if rng.random() < problem.share:
                        row[index] = None if kind == "null_surge" else row[index] * 100
                        self.damaged[row[0]] = clean
            if kind == "duplicate_keys" and problem is not None:
                again = [list(row) for row in written if rng.random() < problem.share]
                self.damaged.update({row[0]: row for row in again})
                written.extend(again)
            engine.insert(self.table, self._shaped(written))
        return len(written)

    def repair(self, engine: SqlEngine) -> int:
        """Put the table back to its clean rows: recreate it with every column, or rewrite the damaged rows.
        Returns how many rows were restored."""
        with engine.lock:
            if self.dropped is not None:
                self.dropped = None
                self._recreate(engine, self.clean)
                restored = len(self.clean)
            elif self.damaged:
                keys = ", ".join(_sql_literal(key) for key in self.damaged)
                engine.execute(f"DELETE FROM {self.table} WHERE {KEY_COLUMNS[self.table]} IN ({keys})")
                engine.insert(self.table, list(self.damaged.values()))
                restored = len(self.damaged)
            else:
                restored = 0
        self.damaged = {}
        return restored

    def _recreate(self, engine: SqlEngine, rows: list[list[Any]]) -> None:
        engine.execute(f"DROP TABLE IF EXISTS {self.table}")
        engine.execute(f"CREATE TABLE {self.table} ({table_ddl(self.table, without=self.dropped)})")
        engine.insert(self.table, self._shaped(rows))

    def _shaped(self, rows: list[list[Any]]) -> list[list[Any]]:
        """Rows as the table's current columns take them (without the dropped column)."""
        if self.dropped is None:
            return rows
        index = column_index(self.table, self.dropped)
        return [row[:index] + row[index + 1 :] for row in rows]


def _sql_literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
