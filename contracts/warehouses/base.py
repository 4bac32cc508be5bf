"""What every warehouse client offers, whatever the engine: run one read-only statement, read a table's columns."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contracts.models import Warehouse


class WarehouseError(Exception):
    """A statement or connection failed. `code` is the engine's own (SQLSTATE, or Databricks' error code and error
    class); the message says what happened in words and never contains a password."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class TableNotFound(WarehouseError):
    """The table named to `columns()` does not exist (or the warehouse's user cannot see it)."""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows, values as Python types: int, Decimal or float, str, bool, date, datetime, None."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class ObservedColumn:
    """A column as the information schema describes it; `data_type` in the engine's spelling, with length or
    precision (e.g. "numeric(12,2)", "decimal(12,2)"), `position` numbered from 1."""

    name: str
    data_type: str
    nullable: bool
    position: int


class WarehouseClient(Protocol):
    """`statements` counts the statements sent for the caller (query and columns calls), so a check can be held to
    one scan; `dialect` is the sqlglot dialect its SQL is written in."""

    dialect: str
    statements: int

    def query(self, sql: str, *, timeout_seconds: float | None = None) -> QueryResult: ...

    def columns(self, table: str) -> list[ObservedColumn]: ...


def split_table_name(table: str) -> tuple[str, str, str]:
    """(catalog, schema, table) of `table`, `schema.table` or `catalog.schema.table`; missing parts are ""."""
    parts = table.split(".")
    if not 1 <= len(parts) <= 3 or not all(part.strip() for part in parts):
        raise WarehouseError(f"{table!r} is not a table name: use table, schema.table or catalog.schema.table.")
    catalog, schema, name = ["", "", *(part.strip().strip('"`') for part in parts)][-3:]
    return catalog, schema, name


def warehouse_client(warehouse: "Warehouse") -> WarehouseClient:
    """The client for the warehouse's engine (PostgreSQL clients share a pool per warehouse)."""
    # Imported here: each engine's client pulls in its driver, which the other engine's users need not load.
    if warehouse.engine == "postgres":
        from contracts.warehouses.postgres import PostgresClient

        return PostgresClient(warehouse)
    if warehouse.engine == "databricks_sql":
        from contracts.warehouses.databricks_sql import DatabricksSqlClient

        return DatabricksSqlClient(warehouse)
    raise WarehouseError(f"Warehouse {warehouse.name}: unknown engine {warehouse.engine!r}.")
