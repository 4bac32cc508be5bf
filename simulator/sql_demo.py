"""The demo warehouse tables: their Databricks DDL, a seeded, deterministic row set anchored at the clock's start
(the same seed and start always give the same rows), and the batches a loader run appends.

Every table ends with `loaded_at`, the time the warehouse wrote the row: the seeded rows were loaded at the clock's
start, a loader run's rows when the run finished (see simulator.world.loads for which clock that is)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.sql_engine import SqlEngine

COUNTRIES = ("NL", "DE", "FR", "BE", "GB", "US", "ES", "IT")
SEGMENTS = ("consumer", "business")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "returned")
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")
ORDER_ID_BASE = 100_000

# (column, Databricks type) in table order.
DEMO_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "main.sales.customers": (
        ("customer_id", "BIGINT NOT NULL"),
        ("email", "STRING"),
        ("country", "STRING"),
        ("segment", "STRING"),
        ("created_at", "TIMESTAMP"),
        ("loaded_at", "TIMESTAMP"),
    ),
    "main.sales.orders": (
        ("order_id", "BIGINT NOT NULL"),
        ("customer_id", "BIGINT"),
        ("order_date", "DATE"),
        ("status", "STRING"),
        ("amount", "DECIMAL(12,2)"),
        ("updated_at", "TIMESTAMP"),
        ("loaded_at", "TIMESTAMP"),
    ),
    "main.finance.invoices": (
        ("invoice_id", "STRING NOT NULL"),
        ("order_id", "BIGINT"),
        ("amount", "DECIMAL(12,2)"),
        ("currency", "STRING"),
        ("issued_at", "TIMESTAMP"),
        ("paid", "BOOLEAN"),
        ("loaded_at", "TIMESTAMP"),
    ),
}
DEMO_TABLES: dict[str, str] = {
    table: ", ".join(f"{name} {kind}" for name, kind in columns) for table, columns in DEMO_COLUMNS.items()
}
ROW_COUNTS = {"main.sales.customers": 200, "main.sales.orders": 1000, "main.finance.invoices": 600}
# Each table's key: its first column, numbered from 1 (orders from ORDER_ID_BASE + 1, invoices as INV-000001).
KEY_COLUMNS = {table: columns[0][0] for table, columns in DEMO_COLUMNS.items()}


def column_index(table: str, column: str) -> int:
    names = [name for name, _ in DEMO_COLUMNS[table]]
    if column not in names:
        raise ValueError(f"{table} has no column {column!r}; columns: {names}")
    return names.index(column)


def table_ddl(table: str, *, without: str | None = None) -> str:
    """The table's column list for CREATE TABLE, optionally without one column."""
    return ", ".join(f"{name} {kind}" for name, kind in DEMO_COLUMNS[table] if name != without)


def key_value(table: str, number: int) -> Any:
    """The key of the table's `number`-th row (1-based)."""
    if table == "main.finance.invoices":
        return f"INV-{number:06d}"
    if table == "main.sales.orders":
        return ORDER_ID_BASE + number
    return number


def _row(table: str, rng: random.Random, number: int, at: datetime, loaded_at: datetime, refs: int) -> list[Any]:
    """One row of `table`: the `number`-th key, happening at `at`; `refs` is how many parent rows (customers of an
    order, orders of an invoice) exist to point at."""
    key = key_value(table, number)
    if table == "main.sales.customers":
        return [key, f"customer{number}@example.com", rng.choice(COUNTRIES), rng.choice(SEGMENTS), at, loaded_at]
    amount = Decimal(rng.randint(500, 250_000)) / 100
    if table == "main.sales.orders":
        return [key, rng.randint(1, refs), at.date(), rng.choice(ORDER_STATUSES), amount, at, loaded_at]
    order = key_value("main.sales.orders", rng.randint(1, refs))
    return [key, order, amount, rng.choice(CURRENCIES), at, rng.random() < 0.8, loaded_at]


def _parent(table: str) -> str | None:
    return {"main.sales.orders": "main.sales.customers", "main.finance.invoices": "main.sales.orders"}.get(table)


def demo_rows(table: str, *, seed: int, start_us: int) -> list[list[Any]]:
    """The table's seeded rows: history before the clock's start, all loaded at the start."""
    if table not in DEMO_TABLES:
        raise ValueError(f"unknown demo table {table!r}; known: {sorted(DEMO_TABLES)}")
    rng = random.Random(f"{seed}/sql/{table}")
    start = datetime.fromtimestamp(start_us / 1_000_000, tz=UTC).replace(microsecond=0)
    parent = _parent(table)
    refs = ROW_COUNTS[parent] if parent else 0
    rows = []
    for number in range(1, ROW_COUNTS[table] + 1):
        if table == "main.sales.customers":
            at = start - timedelta(days=rng.randint(1, 900), seconds=rng.randint(0, 86_399))
        else:
            at = start - timedelta(minutes=rng.randint(5, 30 * 24 * 60))
        rows.append(_row(table, rng, number, at, start, refs))
    return rows


def batch_rows(
    table: str,
    rng: random.Random,
    *,
    first: int,
    count: int,
    start: datetime,
    end: datetime,
    loaded_at: datetime,
    refs: int,
) -> list[list[Any]]:
    """The rows one loader run appends: keys from `first` on, each happening between the run's start and end."""
    span = max(1, int((end - start).total_seconds()))
    return [
        _row(table, rng, number, start + timedelta(seconds=rng.randrange(span)), loaded_at, max(1, refs))
        for number in range(first, first + count)
    ]


def load_demo_table(engine: SqlEngine, table: str, *, seed: int, start_us: int) -> int:
    """(Re)create a demo table with its seeded rows; returns the row count."""
    rows = demo_rows(table, seed=seed, start_us=start_us)
    catalog, schema, _ = table.split(".")
    with engine.lock:
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
        engine.execute(f"DROP TABLE IF EXISTS {table}")
        engine.execute(f"CREATE TABLE {table} ({DEMO_TABLES[table]})")
        engine.insert(table, rows)
    return len(rows)
