"""A Databricks SQL warehouse's tables in an embedded DuckDB database: Databricks SQL in, DuckDB out (sqlglot),
values and errors spelt as Databricks spells them.

Unity Catalog's three-part names `catalog.schema.table` map onto DuckDB schemas named `<catalog>__<schema>` (DuckDB
reserves the catalog name "main"); `<catalog>.information_schema.columns` answers from DuckDB's own catalog with
Databricks' column names and type spellings. One connection per workspace, used under a lock.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
SEPARATOR = "__"
INFO_SCHEMA = "__sim_info"
INFO_COLUMNS = (
    "table_catalog",
    "table_schema",
    "table_name",
    "column_name",
    "ordinal_position",
    "column_default",
    "is_nullable",
    "full_data_type",
    "data_type",
    "numeric_precision",
    "numeric_scale",
)
# DuckDB type -> (Databricks full_data_type, manifest type_name); DECIMAL keeps its (p,s).
TYPES = {
    "BIGINT": ("bigint", "LONG"),
    "HUGEINT": ("bigint", "LONG"),
    "UBIGINT": ("bigint", "LONG"),
    "INTEGER": ("int", "INT"),
    "UINTEGER": ("bigint", "LONG"),
    "SMALLINT": ("smallint", "SHORT"),
    "TINYINT": ("tinyint", "BYTE"),
    "VARCHAR": ("string", "STRING"),
    "DOUBLE": ("double", "DOUBLE"),
    "FLOAT": ("float", "FLOAT"),
    "BOOLEAN": ("boolean", "BOOLEAN"),
    "DATE": ("date", "DATE"),
    "TIMESTAMP WITH TIME ZONE": ("timestamp", "TIMESTAMP"),
    "TIMESTAMP": ("timestamp_ntz", "TIMESTAMP_NTZ"),
    "BLOB": ("binary", "BINARY"),
}
MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found[^\n]*(?:\nCandidate bindings: ([^\n]*))?')


class SqlFailure(Exception):
    """A statement the warehouse refuses: `error_class` and `sql_state` as Databricks reports them."""

    def __init__(self, error_class: str, message: str, sql_state: str) -> None:
        super().__init__(f"[{error_class}] {message} SQLSTATE: {sql_state}")
        self.error_class = error_class
        self.sql_state = sql_state


@dataclass(frozen=True)
class SqlColumn:
    name: str
    type_name: str  # manifest type_name: LONG, STRING, DECIMAL, TIMESTAMP, ...
    type_text: str  # BIGINT, STRING, DECIMAL(12,2), ...
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class SqlResult:
    columns: list[SqlColumn]
    rows: list[list[str | None]]  # every value a string, as JSON_ARRAY carries it


def databricks_type(duck_type: str) -> tuple[str, str]:
    """(full_data_type, manifest type_name) of a DuckDB type."""
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    if decimal:
        return f"decimal({decimal.group(1)},{decimal.group(2)})", "DECIMAL"
    return TYPES.get(duck_type, ("string", "STRING"))


def _column(name: str, duck_type: str) -> SqlColumn:
    full, type_name = databricks_type(duck_type)
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", full)
    if decimal:
        return SqlColumn(name, type_name, full.upper(), int(decimal.group(1)), int(decimal.group(2)))
    return SqlColumn(name, type_name, full.upper())


def as_text(value: Any) -> str | None:
    """A value as Databricks writes it into a JSON_ARRAY result."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        return "NaN" if value != value else repr(value).replace("inf", "Infinity")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class SqlEngine:
    """One workspace's tables. Thread-safe: every statement runs under the engine's lock, which a caller may also
    hold around several statements."""

    def __init__(self) -> None:
        # Re-entrant, so a loader can hold it across several statements that readers must see all or none of.
        self.lock = threading.RLock()
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute(f"CREATE SCHEMA {INFO_SCHEMA}")
        columns = ", ".join(
            f"{name} {'BIGINT' if name.startswith(('ordinal', 'numeric')) else 'VARCHAR'}" for name in INFO_COLUMNS
        )
        self.db.execute(f"CREATE TABLE {INFO_SCHEMA}.columns ({columns})")

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def execute(self, sql: str, *, catalog: str | None = None, schema: str | None = None) -> SqlResult:
        """Run one Databricks SQL statement; raises SqlFailure as the warehouse would report it."""
        with self.lock:
            statement = self._prepare(sql, catalog, schema)
            try:
                cursor = self.db.execute(statement)
                description = cursor.description or []
                rows = cursor.fetchall() if description else []
            except duckdb.Error as exc:
                raise _failure(exc) from None
        columns = [_column(str(item[0]), str(item[1])) for item in description]
        return SqlResult(columns, [[as_text(value) for value in row] for row in rows])

    def insert(self, table: str, rows: list[list[Any]] | list[tuple[Any, ...]]) -> int:
        """Append rows (values in column order; strings are cast by DuckDB) to `catalog.schema.table`."""
        if not rows:
            return 0
        with self.lock:
            target = self._prepare(f"SELECT * FROM {table}", None, None).removeprefix("SELECT * FROM ")
            # One statement of literals: DuckDB's executemany binds row by row, a hundred times slower.
            values = ", ".join("(" + ", ".join(_literal(value) for value in row) + ")" for row in rows)
            try:
                self.db.execute(f"INSERT INTO {target} VALUES {values}")
            except duckdb.Error as exc:
                raise _failure(exc) from None
        return len(rows)

    def _prepare(self, sql: str, catalog: str | None, schema: str | None) -> str:
        try:
            statements = [s for s in sqlglot.parse(sql, read="databricks") if isinstance(s, exp.Expression)]
        except ParseError as exc:
            raise SqlFailure("PARSE_SYNTAX_ERROR", f"Syntax error: {_first_line(exc).rstrip('.')}.", "42601") from None
        if len(statements) != 1:
            raise SqlFailure("PARSE_SYNTAX_ERROR", "A statement must be exactly one SQL statement.", "42601")
        tree = self._rewrite(statements[0], catalog or DEFAULT_CATALOG, schema or DEFAULT_SCHEMA)
        return tree.sql(dialect="duckdb")

    def tables(self) -> list[str]:
        """Every table, as catalog.schema.table."""
        with self.lock:
            found = self.db.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name LIKE '%\\_\\_%' ESCAPE '\\' "
                "ORDER BY 1, 2"
            ).fetchall()
        return [f"{schema.replace(SEPARATOR, '.', 1)}.{table}" for schema, table in found if schema != INFO_SCHEMA]

    # ------------------------------------------------------------------------------------------- rewriting

    def _rewrite(self, tree: exp.Expression, catalog: str, schema: str) -> exp.Expression:
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        created = tree.this if isinstance(tree, exp.Create) else None
        for node in list(tree.find_all(exp.CurrentSchema, exp.CurrentDatabase)):
            node.replace(exp.Literal.string(schema))
        for node in list(tree.find_all(exp.CurrentCatalog)):
            node.replace(exp.Literal.string(catalog))
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "SCHEMA":
            target = tree.this
            name = f"{(target.catalog or catalog).lower()}{SEPARATOR}{target.db.lower()}"
            target.set("db", exp.to_identifier(name))
            target.set("catalog", None)
            return tree
        for table in list(tree.find_all(exp.Table)):
            if not table.name or (not table.db and table.name.lower() in ctes):
                continue
            table_catalog = (table.catalog or catalog).lower()
            if table.db.lower() == "information_schema":
                self._refresh_information_schema()
                table.replace(self._information_schema(table, table_catalog))
                continue
            duck_schema = f"{table_catalog}{SEPARATOR}{(table.db or schema).lower()}"
            if created is not None and table is created.find(exp.Table):
                pass
            elif not isinstance(tree, exp.Drop) and not self._exists(duck_schema, table.name.lower()):
                name = f"`{table_catalog}`.`{(table.db or schema).lower()}`.`{table.name.lower()}`"
                raise SqlFailure(
                    "TABLE_OR_VIEW_NOT_FOUND",
                    f"The table or view {name} cannot be found. Check the spelling of the catalog, schema and table.",
                    "42P01",
                )
            table.set("db", exp.to_identifier(duck_schema))
            table.set("catalog", None)
        return tree

    def _exists(self, schema: str, table: str) -> bool:
        found = self.db.execute(
            "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
            "UNION ALL SELECT 1 FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
            [schema, table, schema, table],
        ).fetchall()
        return bool(found)

    def _information_schema(self, table: exp.Table, catalog: str) -> exp.Expression:
        if table.name.lower() != "columns":
            raise SqlFailure(
                "TABLE_OR_VIEW_NOT_FOUND",
                f"The simulator's information_schema has only `columns`, not `{table.name}`.",
                "42P01",
            )
        query = (
            exp.select(*INFO_COLUMNS)
            .from_(f"{INFO_SCHEMA}.columns")
            .where(exp.column("table_catalog").eq(exp.Literal.string(catalog)))
        )
        return query.subquery(alias=table.alias_or_name)

    def _refresh_information_schema(self) -> None:
        found = self.db.execute(
            "SELECT schema_name, table_name, column_name, column_index, is_nullable, data_type, numeric_precision, "
            "numeric_scale FROM duckdb_columns() WHERE schema_name LIKE '%\\_\\_%' ESCAPE '\\' AND schema_name <> ?",
            [INFO_SCHEMA],
        ).fetchall()
        rows = []
        for duck_schema, table, column, position, nullable, duck_type, precision, scale in found:
            catalog, schema = duck_schema.split(SEPARATOR, 1)
            full, _ = databricks_type(duck_type)
            simple = full.split("(")[0].upper()
            decimal = simple == "DECIMAL"
            rows.append(
                (catalog, schema, table, column, position, None, "YES" if nullable else "NO", full, simple)
                + ((precision, scale) if decimal else (None, None))
            )
        self.db.execute(f"DELETE FROM {INFO_SCHEMA}.columns")
        if rows:
            self.db.executemany(
                f"INSERT INTO {INFO_SCHEMA}.columns VALUES ({', '.join('?' * len(INFO_COLUMNS))})", rows
            )


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'" if value.tzinfo else f"TIMESTAMP '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def _failure(exc: duckdb.Error) -> SqlFailure:
    text = str(exc)
    missing = MISSING_COLUMN.search(text)
    if missing:
        candidates = [name.strip().strip('"').split(".")[-1] for name in (missing.group(2) or "").split(",")]
        suggestion = ", ".join(f"`{name}`" for name in candidates if name)
        return SqlFailure(
            "UNRESOLVED_COLUMN.WITH_SUGGESTION",
            f"A column, variable, or function parameter with name `{missing.group(1)}` cannot be resolved. "
            f"Did you mean one of the following? [{suggestion}].",
            "42703",
        )
    if isinstance(exc, duckdb.ParserException):
        return SqlFailure("PARSE_SYNTAX_ERROR", f"Syntax error: {_first_line(exc).rstrip('.')}.", "42601")
    if isinstance(exc, duckdb.ConversionException):
        return SqlFailure("CAST_INVALID_INPUT", _first_line(exc), "22018")
    if isinstance(exc, duckdb.ConstraintException):
        return SqlFailure("DELTA_NOT_NULL_CONSTRAINT_VIOLATED", _first_line(exc), "23502")
    if isinstance(exc, duckdb.CatalogException):
        return SqlFailure("TABLE_OR_VIEW_NOT_FOUND", _first_line(exc), "42P01")
    return SqlFailure("INTERNAL_ERROR", _first_line(exc), "XX000")
