"""Contract check of a 10,000,000-row PostgreSQL table: AIMS's check through the real service (`contract_check` on a
Warehouse pointing at the bench database) against a hand-written single-scan SELECT of the same clauses, run
through psycopg directly, measured in the same run.

Data: `bench_contract.orders` on the bench's PostgreSQL (the one `make bench` starts), built by one INSERT ...
SELECT FROM generate_series and analysed; a later run against the same server reuses it when its layout, row count
and freshness still hold. Contract: ODCS v3.1, 20 single-column clauses (required, unique, enum, validValues,
pattern, maxLength, ranges of numbers and dates, nullValues in percent, missingValues, rowCount, freshness SLA), all
passing on the data, so AIMS sends the information-schema read and one aggregate scan.

Figures: wall time of each call (AIMS: the whole service call, storing its check run included; hand-written: one
read-only transaction on an open connection), median of 3 after a warm-up of each, the two alternating so drift
hits both. Metric `contract_check_10m` (ratio = AIMS / hand-written time, target <= 1.25) and
`contract_check_10m_rows_per_s` (ratio = hand-written rows/s / AIMS rows/s, the same direction: lower is better).
Over target, both statements' EXPLAIN ANALYZE is printed.
"""

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bench.common import Metric, django_setup

ROWS = 10_000_000
ROUNDS = 3
TARGET = 1.25
SCHEMA = "bench_contract"
TABLE = f"{SCHEMA}.orders"
# Changed whenever the table's columns or data change, so a kept table of an older layout is rebuilt.
LAYOUT = "aims-bench-orders v1"
FRESHNESS_DAYS = 7
WAREHOUSE_NAME = "bench-warehouse"
CONTRACT_NAME = "bench-orders-10m"
STATEMENT_TIMEOUT_SECONDS = 1800
# Rows are derived from their number by multiplicative hashing: the same data on every build, spread like real data.
BUILD_SQL = """
INSERT INTO {table}
SELECT g,
       1 + (g * 7919) % 1000000,
       (ARRAY['new', 'paid', 'shipped', 'cancelled', 'refunded'])[1 + (g * 31) % 5],
       'ORD-' || lpad(g::text, 8, '0'),
       CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 104729) % 10000000) / 100.0 END,
       (ARRAY['EUR', 'USD', 'GBP'])[1 + g % 3],
       1 + g % 20,
       CASE WHEN g % 50 = 0 THEN NULL ELSE 'buyer' || (g * 13) % 200000 || '@example.com' END,
       CASE WHEN g % 100 = 0 THEN NULL WHEN g % 101 = 0 THEN '' ELSE (ARRAY['web', 'app', 'store'])[1 + g % 3] END,
       {built} - make_interval(secs => g % 2592000),
       CASE WHEN g % 5 = 2 THEN DATE '2021-01-01' + (g % 1500)::int END
FROM generate_series(1::bigint, {rows}) AS g
"""
COLUMNS = """
    order_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    code varchar(12) NOT NULL,
    amount numeric(12,2),
    currency char(3) NOT NULL,
    quantity integer NOT NULL,
    email text,
    channel text,
    placed_at timestamptz NOT NULL,
    shipped_on date
"""
# The same clauses as the contract, written by hand the way one would for PostgreSQL: clause key -> aggregate.
HAND_WRITTEN = {
    "orders.order_count": "count(*)",
    "orders.order_id.required": "count(*) - count(order_id)",
    "orders.order_id.unique": "count(order_id) - count(DISTINCT order_id)",
    "orders.customer_id.required": "count(*) - count(customer_id)",
    "orders.customer_id.range": "count(*) FILTER (WHERE customer_id < 1 OR customer_id > 1000000)",
    "orders.status.required": "count(*) - count(status)",
    "orders.status.enum": "count(*) FILTER (WHERE status NOT IN ('new', 'paid', 'shipped', 'cancelled', 'refunded'))",
    "orders.code.required": "count(*) - count(code)",
    "orders.code.pattern": "count(*) FILTER (WHERE code !~ '^ORD-[0-9]{8}$')",
    "orders.code.length": "count(*) FILTER (WHERE length(code) > 12)",
    "orders.amount.range": "count(*) FILTER (WHERE amount < 0 OR amount > 100000)",
    "orders.amount.amount_nulls": "count(*) - count(amount)",
    "orders.currency.currency_valid": "count(*) FILTER (WHERE currency NOT IN ('EUR', 'USD', 'GBP'))",
    "orders.quantity.required": "count(*) - count(quantity)",
    "orders.quantity.range": "count(*) FILTER (WHERE quantity < 1 OR quantity > 100)",
    "orders.email.pattern": r"count(*) FILTER (WHERE email !~ '^[^@ ]+@[^@ ]+\.[a-z]+$')",
    "orders.channel.channel_missing": "count(*) FILTER (WHERE channel IS NULL OR channel IN ('', 'N/A'))",
    "orders.placed_at.required": "count(*) - count(placed_at)",
    "orders.placed_at.freshness": "max(placed_at)",
    "orders.shipped_on.range": "count(*) FILTER (WHERE shipped_on < DATE '2020-01-01')",
}


def hand_written_sql() -> str:
    columns = ",\n  ".join(f'{sql} AS "{key}"' for key, sql in HAND_WRITTEN.items())
    return f"SELECT\n  {columns}\nFROM {TABLE}"


def contract_yaml(rows: int) -> str:
    return f"""\
apiVersion: v3.1.0
kind: DataContract
id: bench-orders
version: 1.0.0
status: active
servers:
  - server: bench
    type: postgres
    host: 127.0.0.1
    port: 5432
    database: bench
    schema: {SCHEMA}
schema:
  - name: orders
    physicalName: {TABLE}
    quality:
      - id: order_count
        metric: rowCount
        mustBe: {rows}
    properties:
      - name: order_id
        logicalType: integer
        physicalType: bigint
        primaryKey: true
      - name: customer_id
        logicalType: integer
        physicalType: bigint
        required: true
        logicalTypeOptions: {{minimum: 1, maximum: 1000000}}
      - name: status
        logicalType: string
        physicalType: text
        required: true
        enum: [{{value: new}}, {{value: paid}}, {{value: shipped}}, {{value: cancelled}}, {{value: refunded}}]
      - name: code
        logicalType: string
        physicalType: varchar(12)
        required: true
        logicalTypeOptions: {{pattern: '^ORD-[0-9]{{8}}$', maxLength: 12}}
      - name: amount
        logicalType: number
        physicalType: numeric(12,2)
        logicalTypeOptions: {{minimum: 0, maximum: 100000}}
        quality:
          - id: amount_nulls
            metric: nullValues
            mustBeLessThan: 2
            unit: percent
      - name: currency
        logicalType: string
        physicalType: character(3)
        quality:
          - id: currency_valid
            metric: invalidValues
            arguments: {{validValues: [EUR, USD, GBP]}}
            mustBe: 0
      - name: quantity
        logicalType: integer
        physicalType: integer
        required: true
        logicalTypeOptions: {{minimum: 1, maximum: 100}}
      - name: email
        logicalType: string
        physicalType: text
        classification: personal
        logicalTypeOptions: {{pattern: '^[^@ ]+@[^@ ]+\\.[a-z]+$'}}
      - name: channel
        logicalType: string
        physicalType: text
        quality:
          - id: channel_missing
            metric: missingValues
            arguments: {{missingValues: [null, '', 'N/A']}}
            mustBeLessThan: 5
            unit: percent
      - name: placed_at
        logicalType: timestamp
        physicalType: timestamp with time zone
        required: true
      - name: shipped_on
        logicalType: date
        physicalType: date
        logicalTypeOptions: {{minimum: '2020-01-01'}}
slaProperties:
  - property: freshness
    value: {FRESHNESS_DAYS}
    unit: d
    element: orders.placed_at
"""


def pg_options() -> dict:
    """libpq options of the database Django uses (the bench's PostgreSQL): the warehouse table lives beside it."""
    from django.db import connection

    settings = connection.settings_dict
    return {
        "host": settings["HOST"] or "127.0.0.1",
        "port": int(settings["PORT"] or 5432),
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"] or "",
    }


def table_ensure(conn: psycopg.Connection, *, rows: int) -> bool:
    """Build the table unless one of this layout with `rows` rows, fresh enough for the contract, is already there
    (True: built now). `conn` is in autocommit mode: VACUUM runs outside a transaction."""
    found = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [TABLE]).fetchone()
    if found and found[0] == LAYOUT:
        count, newest = conn.execute(f"SELECT count(*), max(placed_at) FROM {TABLE}").fetchone()  # type: ignore[misc]
        # Half the SLA left: a table kept for days would otherwise fail the freshness clause mid-run.
        if count == rows and newest and datetime.now(UTC) - newest < timedelta(days=FRESHNESS_DAYS / 2):
            return False
    started = time.perf_counter()
    conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    conn.execute(f"CREATE SCHEMA {SCHEMA}")
    # Unlogged: a bench table needs no crash safety, and skipping the WAL halves the build; reads are the same.
    conn.execute(f"CREATE UNLOGGED TABLE {TABLE} ({COLUMNS})")
    built = datetime.now(UTC)
    conn.execute(sql.SQL(BUILD_SQL).format(table=sql.SQL(TABLE), rows=sql.Literal(rows), built=sql.Literal(built)))
    # Hint bits and the visibility map set now, so the first measured scan does not write them.
    conn.execute(f"VACUUM (FREEZE, ANALYZE) {TABLE}")
    conn.execute(f"COMMENT ON TABLE {TABLE} IS '{LAYOUT}'")
    print(f"built {TABLE}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return True


def bench_contract(*, rows: int):
    """The bench's warehouse (the bench database itself) and its contract, published (created or updated)."""
    from contracts.models import DataContract, Warehouse
    from contracts.services import contract_save

    options = pg_options()
    warehouse = Warehouse.objects.filter(name=WAREHOUSE_NAME).first() or Warehouse(name=WAREHOUSE_NAME)
    warehouse.engine = Warehouse.Engine.POSTGRES
    warehouse.host, warehouse.port, warehouse.database = options["host"], options["port"], options["dbname"]
    warehouse.user, warehouse.sslmode = options["user"], Warehouse.SslMode.DISABLE
    warehouse.statement_timeout_seconds = STATEMENT_TIMEOUT_SECONDS
    warehouse.set_secret(options["password"])
    warehouse.full_clean()
    warehouse.save()
    contract = DataContract.objects.filter(name=CONTRACT_NAME).first() or DataContract(name=CONTRACT_NAME)
    contract.owner, contract.warehouse, contract.yaml_text = "bench", warehouse, contract_yaml(rows)
    # A changed row count is a tightened rule: the bench confirms it as an admin would.
    return contract_save(contract=contract, note="benchmark contract_check", confirm_breaking=True)


def aims_check(contract_id: int) -> tuple[float, int]:
    """(seconds, statements sent) of one check through the service; anything but a pass stops the bench."""
    from contracts.models import CheckRun
    from contracts.services.checks import contract_check

    started = time.perf_counter()
    summary = contract_check(contract_id=contract_id)
    elapsed = time.perf_counter() - started
    if summary.status != CheckRun.Status.PASSED:
        check = CheckRun.objects.get(pk=summary.check_run_id)
        broken = [r for r in check.results if r["status"] != "passed"]
        raise SystemExit(f"the bench contract did not pass ({summary.status}): {check.error_message} {broken}")
    return elapsed, summary.statements


def hand_written_check(conn: psycopg.Connection) -> tuple[float, dict]:
    """(seconds, clause key -> value) of the hand-written scan, in a read-only transaction as AIMS's client runs."""
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(hand_written_sql())
        row = cursor.fetchone()
        names = [column.name for column in cursor.description or ()]
    elapsed = time.perf_counter() - started
    return elapsed, dict(zip(names, row or (), strict=True))


def same_clauses(contract_id: int, values: dict) -> None:
    """The hand-written scan must measure the clauses AIMS checked, and find the same counts."""
    from contracts.models import CheckRun

    check = CheckRun.objects.filter(contract_id=contract_id).latest("started_at", "id")
    rows = values["orders.order_count"]
    observed = {r["key"]: r["observed"] for r in check.results}
    if set(observed) != set(HAND_WRITTEN):
        raise SystemExit(
            f"clauses differ: AIMS only {set(observed) - set(HAND_WRITTEN)}, hand-written only "
            f"{set(HAND_WRITTEN) - set(observed)}"
        )
    for key, value in values.items():
        if key.endswith(".freshness"):
            continue
        mine = round(100.0 * value / rows, 4) if key.endswith(("_nulls", "_missing")) else value
        if observed[key] != mine:
            raise SystemExit(f"{key}: AIMS observed {observed[key]}, the hand-written scan {mine}")


@dataclass(frozen=True)
class Measured:
    aims: list[float]
    hand: list[float]
    statements: int
    rows: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.aims) / statistics.median(self.hand)


def measure(*, rows: int, rounds: int) -> Measured:
    """Table and contract in place, a warm-up of each side, then `rounds` alternating pairs."""
    with psycopg.connect(**pg_options(), autocommit=True) as admin:
        table_ensure(admin, rows=rows)
    contract = bench_contract(rows=rows)
    aims, hand, statements = [], [], set()
    with psycopg.connect(**pg_options()) as conn:
        conn.read_only = True  # BEGIN READ ONLY, as AIMS's warehouse client opens its transactions
        # Warm-up, unmeasured: the table in the OS cache, AIMS's pool opened, both results compared.
        aims_check(contract.pk)
        _, values = hand_written_check(conn)
        same_clauses(contract.pk, values)
        for index in range(rounds):
            elapsed, sent = aims_check(contract.pk)
            aims.append(elapsed)
            statements.add(sent)
            hand.append(hand_written_check(conn)[0])
            print(f"round {index + 1}: AIMS {aims[-1]:.2f} s ({sent} statements), hand-written {hand[-1]:.2f} s")
    if len(statements) != 1:
        raise SystemExit(f"AIMS sent a varying number of statements: {sorted(statements)}")
    return Measured(aims=aims, hand=hand, statements=statements.pop(), rows=rows)


def aims_scan_sql(contract_id: int) -> str:
    """The aggregate scan AIMS sends for the contract, compiled the way the check compiles it."""
    from contracts.checks.sql import scan_query, table_expression
    from contracts.models import DataContract
    from contracts.odcs.build import contract_model
    from contracts.services.checks import contract_clauses

    version = DataContract.objects.select_related("active_version").get(pk=contract_id).active_version
    assert version is not None
    model = contract_model(version.spec)
    obj = model.objects[0]
    clauses = contract_clauses(model)[obj.name]
    return scan_query(table_expression(obj.physical_name), clauses, dialect="postgres").sql


def explain(label: str, statement: str) -> None:
    """Print the statement and its plan as run (times, buffers, the expressions each node evaluates)."""
    with psycopg.connect(**pg_options(), autocommit=True) as conn:
        plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE) {statement}").fetchall()
    print(f"-- {label}:\n{statement}\n" + "\n".join(line for (line,) in plan))


def run() -> list[Metric]:
    django_setup()
    result = measure(rows=ROWS, rounds=ROUNDS)
    aims, hand = statistics.median(result.aims), statistics.median(result.hand)
    aims_rate, hand_rate = result.rows / aims, result.rows / hand
    print(
        f"{result.rows:,} rows: AIMS median {aims:.2f} s ({aims_rate:,.0f} rows/s, {result.statements} statements), "
        f"hand-written median {hand:.2f} s ({hand_rate:,.0f} rows/s), ratio {result.ratio:.3f}"
    )
    if result.ratio > TARGET:
        from contracts.models import DataContract

        contract_id = DataContract.objects.get(name=CONTRACT_NAME).pk
        explain("AIMS's scan", aims_scan_sql(contract_id))
        explain("hand-written scan", hand_written_sql())
    return [
        Metric(
            metric="contract_check_10m",
            value=round(aims, 3),
            unit="s",
            ceiling=round(hand, 3),
            ratio=round(aims / hand, 3),
            target=f"<= {TARGET}",
        ),
        Metric(
            metric="contract_check_10m_rows_per_s",
            value=round(aims_rate),
            unit="rows/s",
            ceiling=round(hand_rate),
            ratio=round(hand_rate / aims_rate, 3),
            target=f"<= {TARGET}",
        ),
    ]
