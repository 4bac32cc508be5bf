"""The optional partition filter of a contract: a SQL condition (in the warehouse's dialect) that limits a check to
where the producing run wrote, e.g. `load_date = :run_date`. It is parsed, never pasted: one boolean expression,
no subqueries, and its placeholders are replaced by literals of the run."""

from datetime import datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

PLACEHOLDERS = ("run_date", "run_started_at", "run_id")


def partition_filter_problem(text: str, *, dialect: str | None = None) -> str:
    """Why the filter cannot be used ("" when it can)."""
    try:
        _parse(text, dialect)
    except ValueError as exc:
        return str(exc)
    return ""


def _parse(text: str, dialect: str | None) -> exp.Expr:
    try:
        expression = sqlglot.parse_one(f"SELECT 1 WHERE {text}", read=dialect)
    except ParseError as exc:
        raise ValueError(f"not a SQL condition: {exc.errors[0]['description'] if exc.errors else exc}") from exc
    where = expression.args.get("where") if isinstance(expression, exp.Select) else None
    rest = {k: v for k, v in expression.args.items() if k not in ("expressions", "where") and v}
    if where is None or rest:
        raise ValueError("write one condition only, e.g. load_date = :run_date")
    condition = where.this
    if condition.find(exp.Select, exp.Subquery):
        raise ValueError("a subquery is not allowed in the partition filter")
    for placeholder in condition.find_all(exp.Placeholder):
        if placeholder.name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder :{placeholder.name}; use {', '.join(':' + p for p in PLACEHOLDERS)}")
    return condition


def partition_filter(text: str, *, run, dialect: str) -> exp.Expr | None:
    """The condition with the run's values in place: None without a filter, or when the filter names the run and
    the check has none (the whole table is read). Raises ValueError when the filter does not parse."""
    if not text.strip():
        return None
    condition = _parse(text, dialect)
    placeholders = list(condition.find_all(exp.Placeholder))
    if placeholders and run is None:
        return None  # a scheduled or requested check has no run to scope to: it reads the whole table
    started: datetime | None = getattr(run, "started_at", None) if run is not None else None
    values = {
        "run_date": exp.cast(exp.Literal.string(started.date().isoformat()), "DATE") if started else exp.null(),
        "run_started_at": exp.cast(exp.Literal.string(started.isoformat()), "TIMESTAMP") if started else exp.null(),
        "run_id": exp.Literal.string(str(getattr(run, "external_run_id", ""))),
    }
    return condition.transform(lambda node: values[node.name].copy() if isinstance(node, exp.Placeholder) else node)
