"""PostgreSQL warehouses through psycopg: a connection pool per warehouse, every statement in a READ ONLY
transaction with its own statement_timeout."""

import atexit
import threading
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from contracts.models import Warehouse
from contracts.warehouses.base import ObservedColumn, QueryResult, TableNotFound, WarehouseError, split_table_name

APPLICATION_NAME = "aims-contract-check"
CONNECT_TIMEOUT_SECONDS = 5
# A pool that lost its server keeps retrying in the background: give up after this, so it does not try forever.
RECONNECT_TIMEOUT_SECONDS = 60
# information_schema spells types without their length or precision; these are added back from its other columns.
LENGTH_TYPES = frozenset({"character varying", "character", "bit", "bit varying"})

_pools: dict[int, tuple[datetime | None, ConnectionPool]] = {}
_pools_lock = threading.Lock()


def _pool(warehouse: Warehouse) -> ConnectionPool:
    """The warehouse's pool; an edited warehouse (a new updated_at) gets a fresh one and the old one is closed."""
    if warehouse.pk is None:
        raise WarehouseError(f"Warehouse {warehouse.name} must be saved before it is queried.")
    with _pools_lock:
        known = _pools.get(warehouse.pk)
        if known and known[0] == warehouse.updated_at:
            return known[1]
        pool = ConnectionPool(
            kwargs=connect_options(warehouse),
            min_size=0,
            max_size=warehouse.max_connections,
            timeout=CONNECT_TIMEOUT_SECONDS,
            reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
            name=f"warehouse-{warehouse.name}",
            configure=_read_only,
            # A connection the server dropped (restart, idle timeout) is replaced before a check gets it.
            check=ConnectionPool.check_connection,
            open=True,
        )
        _pools[warehouse.pk] = (warehouse.updated_at, pool)
    if known:
        known[1].close(timeout=0)
    return pool


def connect_options(warehouse: Warehouse) -> dict[str, Any]:
    """libpq options for the warehouse: its server and role, TLS as configured, bounded connect time."""
    return {
        "host": warehouse.host,
        "port": warehouse.port,
        "dbname": warehouse.database,
        "user": warehouse.user,
        "password": warehouse.get_secret(),
        "sslmode": warehouse.sslmode,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": APPLICATION_NAME,
    }


def _read_only(conn: psycopg.Connection) -> None:
    # psycopg then opens every transaction of this connection with BEGIN READ ONLY: a check can never write.
    conn.read_only = True


@atexit.register
def close_pools() -> None:
    """Close every pool (at exit, and in tests that want a clean slate)."""
    with _pools_lock:
        pools = [pool for _, pool in _pools.values()]
        _pools.clear()
    for pool in pools:
        pool.close(timeout=1)


class PostgresClient:
    dialect = "postgres"

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.statements = 0
        self._pool = _pool(warehouse)
        self._password = warehouse.get_secret()

    def query(self, sql: str, *, timeout_seconds: float | None = None) -> QueryResult:
        return self._run(sql, (), timeout_seconds)

    def columns(self, table: str) -> list[ObservedColumn]:
        catalog, schema, name = split_table_name(table)
        if catalog and catalog != self.warehouse.database:
            raise TableNotFound(f"{table}: this warehouse is the database {self.warehouse.database}, not {catalog}.")
        result = self._run(
            "SELECT column_name, data_type, is_nullable, character_maximum_length, numeric_precision, numeric_scale "
            "FROM information_schema.columns WHERE table_schema = coalesce(%s, current_schema()) AND table_name = %s "
            "ORDER BY ordinal_position",
            (schema or None, name),
            None,
        )
        if not result.rows:
            raise TableNotFound(f"Table {table} not found in {self._where()} (or its user cannot read it).")
        return [
            ObservedColumn(name=name, data_type=_type(data_type, *sizes), nullable=nullable == "YES", position=number)
            for number, (name, data_type, nullable, *sizes) in enumerate(result.rows, start=1)
        ]

    def _run(self, sql: str, params: tuple[Any, ...], timeout_seconds: float | None) -> QueryResult:
        timeout = timeout_seconds if timeout_seconds is not None else self.warehouse.statement_timeout_seconds
        self.statements += 1
        try:
            with (
                self._pool.connection(timeout=CONNECT_TIMEOUT_SECONDS) as conn,
                conn.transaction(),
                conn.cursor() as cursor,
            ):
                # Per statement, inside its transaction: the setting ends with it and never leaks to the pool.
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", (f"{max(1, int(timeout * 1000))}",))
                cursor.execute(sql, params or None)
                columns = tuple(column.name for column in cursor.description or ())
                rows = cursor.fetchall() if cursor.description else []
        except PoolTimeout:
            raise self._connect_problem() from None
        except pg_errors.QueryCanceled as exc:
            raise WarehouseError(
                f"Statement cancelled on {self._where()} after its {timeout:g} s timeout.", code=exc.sqlstate or ""
            ) from exc
        except pg_errors.ReadOnlySqlTransaction as exc:
            raise WarehouseError(
                f"Refused on {self._where()}: contract checks only read ({self._words(exc)}).", code=exc.sqlstate or ""
            ) from exc
        except psycopg.Error as exc:
            raise WarehouseError(
                f"Statement failed on {self._where()}: {self._words(exc)}", code=exc.sqlstate or ""
            ) from exc
        return QueryResult(columns=columns, rows=rows)

    def _connect_problem(self) -> WarehouseError:
        """The pool only says it waited in vain: one direct attempt tells why (refused, unknown host, password)."""
        try:
            probe = psycopg.connect(**connect_options(self.warehouse))
        except psycopg.Error as exc:
            return WarehouseError(f"Cannot connect to {self._where()}: {self._words(exc)}", code=exc.sqlstate or "")
        probe.close()
        return WarehouseError(
            f"No free connection to {self._where()} within {CONNECT_TIMEOUT_SECONDS} s: all "
            f"{self.warehouse.max_connections} are busy."
        )

    def _where(self) -> str:
        return f"PostgreSQL warehouse {self.warehouse.name} ({self.warehouse.host}:{self.warehouse.port})"

    def _words(self, exc: psycopg.Error) -> str:
        """The server's or libpq's message, first line, with the password masked should it ever appear."""
        text = (exc.diag.message_primary if exc.diag else None) or str(exc) or exc.__class__.__name__
        text = text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__
        return text.replace(self._password, "***") if self._password else text


def _type(data_type: str, length: int | None, precision: int | None, scale: int | None) -> str:
    if data_type in LENGTH_TYPES and length is not None:
        return f"{data_type}({length})"
    if data_type == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    return data_type
