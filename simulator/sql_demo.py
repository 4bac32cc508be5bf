"""The demo warehouse tables: their Databricks DDL and a seeded, deterministic row set anchored at the clock's start,
so the same seed and start always give the same rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.sql_engine import SqlEngine

COUNTRIES = ("NL", "DE", "FR", "BE", "GB", "US", "ES", "IT")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "returned")
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")

DEMO_TABLES: dict[str, str] = {
    "main.sales.customers": (
        "customer_id BIGINT NOT NULL, email STRING, country STRING, segment STRING, created_at TIMESTAMP"
    ),
    "main.sales.orders": (
        "order_id BIGINT NOT NULL, customer_id BIGINT, order_date DATE, status STRING, amount DECIMAL(12,2), "
        "updated_at TIMESTAMP"
    ),
    "main.finance.invoices": (
        "invoice_id STRING NOT NULL, order_id BIGINT, amount DECIMAL(12,2), currency STRING, issued_at TIMESTAMP, "
        "paid BOOLEAN"
    ),
}
ROW_COUNTS = {"main.sales.customers": 200, "main.sales.orders": 1000, "main.finance.invoices": 600}


def _rows(table: str, rng: random.Random, start: datetime) -> list[tuple[Any, ...]]:
    count = ROW_COUNTS[table]
    if table == "main.sales.customers":
        return [
            (
                index,
                f"customer{index}@example.com",
                rng.choice(COUNTRIES),
                rng.choice(("consumer", "business")),
                start - timedelta(days=rng.randint(1, 900), seconds=rng.randint(0, 86_399)),
            )
            for index in range(1, count + 1)
        ]
    if table == "main.sales.orders":
        out = []
        for index in range(1, count + 1):
            placed = start - timedelta(minutes=rng.randint(5, 30 * 24 * 60))
            amount = Decimal(rng.randint(500, 250_000)) / 100
            status = rng.choice(ORDER_STATUSES)
            out.append(
                (
                    100_000 + index,
                    rng.randint(1, ROW_COUNTS["main.sales.customers"]),
                    placed.date(),
                    status,
                    amount,
                    placed,
                )
            )
        return out
    return [
        (
            f"INV-{index:06d}",
            100_000 + rng.randint(1, ROW_COUNTS["main.sales.orders"]),
            Decimal(rng.randint(500, 250_000)) / 100,
            rng.choice(CURRENCIES),
            start - timedelta(minutes=rng.randint(5, 30 * 24 * 60)),
            rng.random() < 0.8,
        )
        for index in range(1, count + 1)
    ]


def load_demo_table(engine: SqlEngine, table: str, *, seed: int, start_us: int) -> int:
    """(Re)create a demo table with its seeded rows; returns the row count."""
    if table not in DEMO_TABLES:
        raise ValueError(f"unknown demo table {table!r}; known: {sorted(DEMO_TABLES)}")
    catalog, schema, _ = table.split(".")
    start = datetime.fromtimestamp(start_us / 1_000_000, tz=UTC).replace(microsecond=0)
    rows = _rows(table, random.Random(f"{seed}/sql/{table}"), start)
    engine.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
    engine.execute(f"DROP TABLE IF EXISTS {table}")
    engine.execute(f"CREATE TABLE {table} ({DEMO_TABLES[table]})")
    engine.insert(table, rows)
    return len(rows)
