"""Databricks SQL warehouses through databricks-sdk's Statement Execution API (2.0), with the workspace connection's
host, credentials and outbound rules."""

import re
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DatabricksError
from databricks.sdk.service.sql import (
    ColumnInfo,
    Disposition,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    StatementResponse,
    StatementState,
)
from sqlglot import exp

from aimsweb.outbound import OutboundPolicy, OutboundRefused, guard_session, host_problem
from contracts.models import Warehouse
from contracts.warehouses.base import ObservedColumn, QueryResult, TableNotFound, WarehouseError, split_table_name
from monitors.clients.databricks import databricks_sdk_options
from monitors.clients.databricks_sdk import RetryDeclined, declined_error, workspace_client
from monitors.models import Connection

# The API holds the first call open at most this long (its documented range is 5..50 s), then AIMS polls.
WAIT_SECONDS = 30
# Each HTTP call may take the server's wait plus this much for the network.
HTTP_MARGIN_SECONDS = 15
POLL_FIRST_SECONDS = 0.05
POLL_MAX_SECONDS = 1.0
TERMINAL = {StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED, StatementState.CLOSED}
INTEGER_TYPES = {"BYTE", "SHORT", "INT", "LONG"}
FLOAT_TYPES = {"FLOAT", "DOUBLE"}
# The error class that starts a SQL error's message: "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column ...".
ERROR_CLASS = re.compile(r"^\[([A-Z0-9_.]+)\]")


class DatabricksSqlClient:
    dialect = "databricks"

    def __init__(self, warehouse: Warehouse) -> None:
        if warehouse.connection is None:
            raise WarehouseError(f"Databricks SQL warehouse {warehouse.name} has no connection.")
        self.warehouse = warehouse
        self.connection: Connection = warehouse.connection
        self.statements = 0
        self._workspace: WorkspaceClient | None = None

    def query(self, sql: str, *, timeout_seconds: float | None = None) -> QueryResult:
        timeout = timeout_seconds if timeout_seconds is not None else self.warehouse.statement_timeout_seconds
        self.statements += 1
        try:
            return self._execute(sql, timeout)
        except RetryDeclined as exc:
            raise self._wrap(declined_error(exc)) from exc
        except (DatabricksError, OutboundRefused, requests.RequestException, ValueError) as exc:
            raise self._wrap(exc) from exc

    def columns(self, table: str) -> list[ObservedColumn]:
        catalog, schema, name = split_table_name(table)
        source = exp.Table(
            this=exp.to_identifier("columns"),
            db=exp.to_identifier("information_schema"),
            catalog=exp.to_identifier(catalog, quoted=True) if catalog else None,
        )
        in_schema = exp.Literal.string(schema) if schema else exp.func("current_schema")
        condition = exp.and_(
            exp.column("table_name").eq(exp.Literal.string(name)), exp.column("table_schema").eq(in_schema)
        )
        statement = (
            exp.select("column_name", "full_data_type", "data_type", "is_nullable", "ordinal_position")
            .from_(source)
            .where(condition)
            .order_by("ordinal_position")
        )
        result = self.query(statement.sql(dialect="databricks"))
        if not result.rows:
            raise TableNotFound(f"Table {table} not found on {self._where()} (or its user cannot read it).")
        return [
            ObservedColumn(name=col, data_type=full or simple, nullable=nullable == "YES", position=int(position))
            for col, full, simple, nullable, position in result.rows
        ]

    # ------------------------------------------------------------------------------------------- execution

    def _execute(self, sql: str, timeout: float) -> QueryResult:
        api = self._api().statement_execution
        deadline = time.monotonic() + timeout
        # The API's wait is 0 (answer at once) or 5..50 s; a shorter timeout than that is polled from the start.
        wait = min(WAIT_SECONDS, int(timeout)) if timeout >= 5 else 0
        response = api.execute_statement(
            warehouse_id=self.warehouse.warehouse_id,
            statement=sql,
            wait_timeout=f"{wait}s",
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
            disposition=Disposition.INLINE,
            format=Format.JSON_ARRAY,
        )
        statement_id = response.statement_id or ""
        pause = POLL_FIRST_SECONDS
        while _state(response) not in TERMINAL:
            if time.monotonic() >= deadline:
                api.cancel_execution(statement_id)
                raise WarehouseError(
                    f"Statement cancelled on {self._where()} after its {timeout:g} s timeout.", code="TIMEOUT"
                )
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, POLL_MAX_SECONDS)
            response = api.get_statement(statement_id)
        if _state(response) != StatementState.SUCCEEDED:
            raise self._failure(response)
        return self._result(response, statement_id)

    def _result(self, response: StatementResponse, statement_id: str) -> QueryResult:
        manifest = response.manifest
        schema = manifest.schema if manifest else None
        infos = list(schema.columns or []) if schema else []
        rows: list[list[str | None]] = []
        chunk = response.result
        while chunk is not None:
            rows.extend(list(row) for row in chunk.data_array or [])
            if chunk.next_chunk_index is None:
                break
            chunk = self._api().statement_execution.get_statement_result_chunk_n(statement_id, chunk.next_chunk_index)
        converters = [_converter(info) for info in infos]
        return QueryResult(
            columns=tuple(info.name or "" for info in infos),
            rows=[tuple(convert(value) for convert, value in zip(converters, row, strict=True)) for row in rows],
        )

    def _failure(self, response: StatementResponse) -> WarehouseError:
        status = response.status
        error = status.error if status else None
        message = (error.message if error else None) or "no reason given"
        platform_code = error.error_code.value if error and error.error_code else ""
        matched = ERROR_CLASS.match(message)
        code = matched.group(1) if matched else platform_code
        state = status.state.value if status and status.state else "UNKNOWN"
        prefix = f"{platform_code} " if platform_code else ""
        return WarehouseError(f"Statement {state} on {self._where()}: {prefix}{message}", code=code or state)

    # ----------------------------------------------------------------------------------------- connection

    def _api(self) -> WorkspaceClient:
        if self._workspace is None:
            connection = self.connection
            policy = OutboundPolicy.for_connection(is_simulator=connection.is_simulator)
            # The SDK probes the host while it configures itself: refuse a host that resolves where it must not.
            problem = host_problem(connection.host, policy)
            if problem:
                raise WarehouseError(f"Call to {self._where()} refused: {problem}", code="OUTBOUND_REFUSED")
            workspace = workspace_client(databricks_sdk_options(connection, timeout=WAIT_SECONDS + HTTP_MARGIN_SECONDS))
            # The SDK builds its own session: every call it sends connects only where the outbound rules allow.
            guard_session(workspace.api_client._api_client._session, policy, pool_maxsize=20, pool_block=True)
            self._workspace = workspace
        return self._workspace

    def _wrap(self, exc: BaseException) -> WarehouseError:
        if isinstance(exc, WarehouseError):
            return exc
        if isinstance(exc, DatabricksError):
            code = exc.error_code or exc.__class__.__name__
            return WarehouseError(f"{self._where()}: {code}: {exc}", code=code)
        return WarehouseError(f"{self._where()}: {exc.__class__.__name__}: {exc}", code=exc.__class__.__name__)

    def _where(self) -> str:
        return f"Databricks SQL warehouse {self.warehouse.name} ({self.warehouse.warehouse_id})"


def _state(response: StatementResponse) -> StatementState | None:
    return response.status.state if response.status else None


def _converter(info: ColumnInfo) -> Any:
    """String -> Python value for the column's type; the type name is read from type_text when the SDK does not
    know it (TIMESTAMP_NTZ)."""
    name = info.type_name.value if info.type_name else (info.type_text or "STRING").split("(")[0].upper()
    if name in INTEGER_TYPES or name in {"BIGINT", "SMALLINT", "TINYINT"}:
        parse: Any = int
    elif name == "DECIMAL":
        parse = Decimal
    elif name in FLOAT_TYPES:
        parse = float
    elif name == "BOOLEAN":
        parse = _boolean
    elif name == "DATE":
        parse = date.fromisoformat
    elif name in {"TIMESTAMP", "TIMESTAMP_NTZ"}:
        parse = datetime.fromisoformat
    else:
        parse = str
    return lambda value: None if value is None else parse(value)


def _boolean(value: str) -> bool:
    return value.lower() == "true"
