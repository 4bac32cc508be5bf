"""A warehouse table for contract-check tests, on either engine: the PostgreSQL test server (a schema of its own,
written through a separate committed connection, as the warehouse's own pool must see it) or the simulator's
Databricks SQL warehouse reached through the real SDK. Rows are written the same way on both."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from django.db import connection as django_connection

from contracts.models import DataContract, Warehouse
from contracts.services import contract_save
from contracts.warehouses.postgres import close_pools
from monitors.models import Connection, Pipeline, PipelineRun
from simulator.testing import run_simulator

PG_SCHEMA = "aims_check_flow"
DBX_WAREHOUSE_ID = "5e1a0c0ffee0a1b2"
COLUMNS = ("order_id", "line_no", "status", "code", "amount", "email", "placed_at")
TYPES = {
    "postgres": ("bigint", "integer", "text", "varchar(10)", "numeric(12,2)", "text", "timestamptz"),
    "databricks": ("bigint", "int", "string", "string", "decimal(12,2)", "string", "timestamp"),
}


def good_rows(count: int = 20, *, now: datetime | None = None) -> list[list]:
    placed = (now or datetime.now(UTC)) - timedelta(minutes=10)
    statuses = ("new", "paid", "shipped")
    return [
        [i, 1, statuses[i % 3], f"C{i:03d}", Decimal("10.50") + i, f"buyer{i}@example.com", placed]
        for i in range(1, count + 1)
    ]


@dataclass
class WarehouseTable:
    engine: str  # "postgres" or "databricks"
    table: str  # the physical name the contract uses
    warehouse: Warehouse
    create: Callable[[tuple[str, ...], tuple[str, ...]], None]  # (columns, types): a fresh empty table
    insert: Callable[[list[list]], None]

    def load(self, rows: list[list], *, columns: tuple[str, ...] = COLUMNS, types: tuple[str, ...] | None = None):
        self.create(columns, types or TYPES[self.engine])
        if rows:
            self.insert(rows)

    def contract(self, yaml_text: str, *, name: str = "orders-flow", **fields) -> DataContract:
        return contract_save(
            contract=DataContract(
                name=name, owner="sales-data", yaml_text=yaml_text, warehouse=self.warehouse, **fields
            )
        )


def pg_options() -> dict:
    """How to reach the test database's server, for a warehouse pointing at it and for writing its tables."""
    settings = django_connection.settings_dict
    return {
        "host": settings["HOST"] or "127.0.0.1",
        "port": int(settings["PORT"] or 5432),
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"] or "",
    }


def pg_warehouse(name: str, **fields) -> Warehouse:
    """A saved PostgreSQL warehouse on the test database's server (plain TCP on this machine)."""
    options = pg_options()
    given = {
        "host": options["host"],
        "port": options["port"],
        "database": options["dbname"],
        "user": options["user"],
        "sslmode": "disable",
    }
    warehouse = Warehouse(name=name, engine="postgres", **(given | fields))
    warehouse.set_secret(options["password"])
    warehouse.full_clean()
    warehouse.save()
    return warehouse


@contextmanager
def postgres_table() -> Iterator[WarehouseTable]:
    options = pg_options()

    def execute(*statements: str, rows: list[list] | None = None) -> None:
        with psycopg.connect(**options, autocommit=True) as conn:
            for statement in statements:
                if rows is None:
                    conn.execute(statement)
                else:
                    with conn.cursor() as cursor:
                        cursor.executemany(statement, rows)

    def create(columns, types) -> None:
        body = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
        execute(f"DROP TABLE IF EXISTS {PG_SCHEMA}.orders", f"CREATE TABLE {PG_SCHEMA}.orders ({body})")
        state["columns"] = columns

    def insert(rows) -> None:
        columns = state["columns"]
        placeholders = ", ".join(["%s"] * len(columns))
        execute(f"INSERT INTO {PG_SCHEMA}.orders ({', '.join(columns)}) VALUES ({placeholders})", rows=rows)

    state: dict = {}
    execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE", f"CREATE SCHEMA {PG_SCHEMA}")
    warehouse = pg_warehouse("pg-flow")
    try:
        yield WarehouseTable("postgres", f"{PG_SCHEMA}.orders", warehouse, create, insert)
    finally:
        close_pools()
        execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")


@contextmanager
def databricks_table() -> Iterator[WarehouseTable]:
    with run_simulator("quiet", speed=0, sql_chunk_rows=50) as sim:

        def create(columns, types) -> None:
            body = ", ".join(f"{c} {t.upper()}" for c, t in zip(columns, types, strict=True))
            sim.call(
                "POST",
                "/_sim/sql",
                {
                    "statements": [
                        "CREATE SCHEMA IF NOT EXISTS qa.flow",
                        "DROP TABLE IF EXISTS qa.flow.orders",
                        f"CREATE TABLE qa.flow.orders ({body})",
                    ]
                },
            )

        def insert(rows) -> None:
            plain = [
                [v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v for v in row]
                for row in rows
            ]
            sim.call("POST", "/_sim/sql", {"insert": {"table": "qa.flow.orders", "rows": plain}})

        connection = Connection(
            name="sim-dbx-flow",
            kind="databricks",
            is_simulator=True,
            host=sim.url,
            auth_method=Connection.AuthMethod.PAT,
        )
        connection.set_secret("dapi-sim-ws1")
        connection.save()
        warehouse = Warehouse.objects.create(
            name="lakehouse-flow", engine="databricks_sql", connection=connection, warehouse_id=DBX_WAREHOUSE_ID
        )
        yield WarehouseTable("databricks", "qa.flow.orders", warehouse, create, insert)


def contract_yaml(table: str, *, server_type: str, types: tuple[str, ...]) -> str:
    """An ODCS contract of the orders table with a clause of every kind AIMS checks."""
    t = dict(zip(COLUMNS, types, strict=True))
    where = (
        "    host: 127.0.0.1\n    port: 5432\n    database: aims\n    schema: aims_check_flow"
        if server_type == "postgres"
        else "    host: 127.0.0.1\n    catalog: qa\n    schema: flow"
    )
    return f"""\
apiVersion: v3.1.0
kind: DataContract
id: orders-flow
version: 1.0.0
status: active
servers:
  - server: warehouse
    type: {server_type}
{where}
schema:
  - name: orders
    physicalName: {table}
    quality:
      - id: orders_rows
        metric: rowCount
        mustBeGreaterThan: 5
      - id: order_line_unique
        metric: duplicateValues
        arguments:
          properties: [order_id, line_no]
        mustBe: 0
      - id: no_negative_amount
        type: sql
        query: SELECT COUNT(*) FROM {{object}} WHERE amount < 0
        mustBe: 0
    properties:
      - name: order_id
        logicalType: integer
        physicalType: {t["order_id"]}
        required: true
      - name: line_no
        logicalType: integer
        physicalType: {t["line_no"]}
        required: true
      - name: status
        logicalType: string
        physicalType: {t["status"]}
        quality:
          - id: status_valid
            metric: invalidValues
            arguments:
              validValues: [new, paid, shipped]
            mustBe: 0
          - id: status_missing
            metric: missingValues
            arguments:
              missingValues: [null, '', 'N/A']
            mustBeLessOrEqualTo: 1
      - name: code
        logicalType: string
        physicalType: {t["code"]}
        logicalTypeOptions:
          pattern: '^C[0-9]+$'
          maxLength: 4
      - name: amount
        logicalType: number
        physicalType: '{t["amount"]}'
        logicalTypeOptions:
          minimum: 0
          maximum: 10000
        quality:
          - id: amount_nulls
            metric: nullValues
            mustBeLessThan: 10
            unit: percent
      - name: email
        logicalType: string
        physicalType: {t["email"]}
        classification: personal
        unique: true
      - name: placed_at
        logicalType: timestamp
        physicalType: {t["placed_at"]}
slaProperties:
  - property: freshness
    value: 2
    unit: h
    element: orders.placed_at
"""


def producing_run(
    *, connection_name: str = "adf-flow", pipeline: str = "pl_load_orders", run_id: str = "run-42", started_at=None
) -> PipelineRun:
    """A succeeded run of an ADF pipeline (on a connection of its own) that feeds a contract's table."""
    connection = Connection.objects.create(
        name=connection_name,
        kind="adf",
        auth_method=Connection.AuthMethod.STATIC_TOKEN,
        is_simulator=True,
        subscription_id="s",
        resource_group="r",
        factory_name="f",
    )
    started = started_at or datetime.now(UTC) - timedelta(minutes=5)
    return PipelineRun.objects.create(
        connection=connection,
        pipeline=Pipeline.objects.create(connection=connection, external_id=pipeline, name=pipeline),
        external_run_id=run_id,
        status=PipelineRun.Status.SUCCEEDED,
        started_at=started,
        ended_at=started + timedelta(minutes=5),
    )
