"""Databricks SQL warehouses of the world: each workspace's tables (an SqlEngine, demo tables loaded on first use)
and the statements sent to its warehouses, which take `sql_delay_seconds` of real time to finish."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from simulator.model import WorkspaceSpec
from simulator.sql_demo import load_demo_table
from simulator.sql_engine import SqlEngine, SqlFailure, SqlResult
from simulator.world.errors import SimError

STATEMENTS_KEPT = 1000
WAIT_TIMEOUT = re.compile(r"^(\d+)s$")
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS")
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")


def invalid(message: str) -> SimError:
    return SimError(400, "INVALID_PARAMETER_VALUE", message)


@dataclass
class Statement:
    statement_id: str
    token: str
    warehouse_id: str
    started: float  # time.monotonic() when submitted
    ready_at: float  # when it finishes
    result: SqlResult | None = None
    failure: SqlFailure | None = None
    truncated: bool = False
    canceled: bool = False
    chunks: list[tuple[int, list[list[str | None]]]] = field(default_factory=list)  # (row offset, rows)

    def state(self, now: float) -> str:
        if self.canceled:
            return "CANCELED"
        if now < self.started + (self.ready_at - self.started) / 2:
            return "PENDING"
        if now < self.ready_at:
            return "RUNNING"
        return "FAILED" if self.failure else "SUCCEEDED"


class SqlWarehouses:
    def __init__(self, scenario: dict[str, Any], *, seed: int, start_us: int) -> None:
        self.lock = threading.Lock()
        self.tables: list[str] = list(scenario["warehouse_tables"])
        self.chunk_rows = int(scenario["sql_chunk_rows"])
        self.delay_seconds = float(scenario["sql_delay_seconds"])
        self.seed = seed
        self.start_us = start_us
        self.engines: dict[str, SqlEngine] = {}
        self.statements: OrderedDict[str, Statement] = OrderedDict()

    def close(self) -> None:
        with self.lock:
            engines, self.engines = list(self.engines.values()), {}
        for engine in engines:
            engine.close()

    def engine(self, ws: WorkspaceSpec) -> SqlEngine:
        """The workspace's tables; the demo tables are loaded the first time anything asks for them."""
        with self.lock:
            engine = self.engines.get(ws.token)
            if engine is None:
                engine = self.engines[ws.token] = SqlEngine()
                for table in self.tables:
                    load_demo_table(engine, table, seed=self.seed, start_us=self.start_us)
            return engine

    def load_demo(self, ws: WorkspaceSpec, tables: list[str]) -> dict[str, int]:
        """(Re)load demo tables with their seeded rows, e.g. after a simulated run that writes them succeeded."""
        engine = self.engine(ws)
        return {table: load_demo_table(engine, table, seed=self.seed, start_us=self.start_us) for table in tables}

    # ---------------------------------------------------------------------------------------- statements

    def submit(self, ws: WorkspaceSpec, body: dict[str, Any], statement_id: str) -> tuple[Statement, float, bool]:
        """Run a statement as POST /api/2.0/sql/statements asks; returns it, how long the call may wait for it, and
        whether to cancel it if that wait runs out."""
        warehouse_id = body.get("warehouse_id")
        if not warehouse_id:
            raise invalid("Missing required field: warehouse_id")
        if warehouse_id not in ws.sql_warehouses:
            raise SimError(404, "RESOURCE_DOES_NOT_EXIST", f"SQL warehouse {warehouse_id} does not exist.")
        sql = body.get("statement")
        if not isinstance(sql, str) or not sql.strip():
            raise invalid("Missing required field: statement")
        wait = _wait_seconds(body.get("wait_timeout", "10s"))
        on_timeout = body.get("on_wait_timeout", "CONTINUE")
        if on_timeout not in ("CONTINUE", "CANCEL"):
            raise invalid(f"on_wait_timeout must be CONTINUE or CANCEL, not {on_timeout!r}.")
        disposition, fmt = body.get("disposition", "INLINE"), body.get("format", "JSON_ARRAY")
        if disposition not in DISPOSITIONS or fmt not in FORMATS:
            raise invalid(f"Unknown disposition {disposition!r} or format {fmt!r}.")
        if disposition != "INLINE" or fmt != "JSON_ARRAY":
            raise invalid("The simulator supports only disposition INLINE with format JSON_ARRAY.")
        row_limit, byte_limit = _limit(body, "row_limit"), _limit(body, "byte_limit")
        statement = Statement(statement_id, ws.token, warehouse_id, 0.0, 0.0)
        try:
            result = self.engine(ws).execute(sql, catalog=body.get("catalog"), schema=body.get("schema"))
        except SqlFailure as exc:
            statement.failure = exc
        else:
            rows, statement.truncated = _limited(result.rows, row_limit, byte_limit)
            statement.result = SqlResult(result.columns, rows)
            statement.chunks = [(i, rows[i : i + self.chunk_rows]) for i in range(0, len(rows), self.chunk_rows)]
        # The simulated execution time starts once DuckDB is done, so a statement always shows PENDING/RUNNING first.
        statement.started = time.monotonic()
        statement.ready_at = statement.started + self.delay_seconds
        with self.lock:
            self.statements[statement_id] = statement
            while len(self.statements) > STATEMENTS_KEPT:
                self.statements.popitem(last=False)
        return statement, wait, on_timeout == "CANCEL"

    def find(self, ws: WorkspaceSpec, statement_id: str) -> Statement:
        with self.lock:
            statement = self.statements.get(statement_id)
        if statement is None or statement.token != ws.token:
            raise SimError(404, "RESOURCE_DOES_NOT_EXIST", f"Statement {statement_id} does not exist.")
        return statement

    def cancel(self, ws: WorkspaceSpec, statement_id: str) -> None:
        """Cancel a statement still running; a finished one is left as it is (the API answers 200 either way)."""
        statement = self.find(ws, statement_id)
        with self.lock:
            if statement.state(time.monotonic()) in ("PENDING", "RUNNING"):
                statement.canceled = True


def _wait_seconds(value: Any) -> float:
    matched = WAIT_TIMEOUT.match(str(value))
    seconds = int(matched.group(1)) if matched else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid(f"wait_timeout must be 0s or between 5s and 50s, not {value!r}.")
    return float(seconds)


def _limit(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{name} must be a whole number >= 0.")
    return value


def _limited(
    rows: list[list[str | None]], row_limit: int | None, byte_limit: int | None
) -> tuple[list[list[str | None]], bool]:
    kept = rows if row_limit is None else rows[:row_limit]
    if byte_limit is not None:
        total = 0
        for index, row in enumerate(kept):
            total += len(json.dumps(row))
            if total > byte_limit:
                kept = kept[:index]
                break
    return kept, len(kept) < len(rows)
