"""The one dialect layer: which sqlglot dialect each warehouse engine speaks, and SQL rendered or translated for it.
A further engine (Snowflake, T-SQL for Azure SQL/Synapse) is one entry in ENGINE_DIALECTS."""

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

ENGINE_DIALECTS: dict[str, str] = {
    "postgres": "postgres",
    "databricks_sql": "databricks",
}


class DialectError(ValueError):
    """SQL that cannot be read in its dialect, or an engine without one; the message names which."""


def dialect_for(engine: str) -> str:
    try:
        return ENGINE_DIALECTS[engine]
    except KeyError:
        raise DialectError(f"No SQL dialect for warehouse engine {engine!r}.") from None


def render(expression: exp.Expression, engine: str) -> str:
    """The expression as SQL text for the engine."""
    return expression.sql(dialect=dialect_for(engine))


def transpile(sql: str, from_dialect: str, to_engine: str) -> str:
    """One statement written in `from_dialect` (a sqlglot dialect name), rewritten for the engine."""
    try:
        statements = sqlglot.transpile(sql, read=from_dialect, write=dialect_for(to_engine))
    except ParseError as exc:
        raise DialectError(f"SQL cannot be read as {from_dialect}: {exc}") from exc
    if len(statements) != 1:
        raise DialectError(f"Expected one SQL statement, found {len(statements)}.")
    return statements[0]
