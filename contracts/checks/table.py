"""One table checked on its warehouse: its observed schema against the contract (and the previous check), then
its clauses in as few statements as the rule allows: the information schema, one aggregate scan, one query for
composite keys (when there are any), one per SQL rule, and one for the samples of what failed."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from contracts.checks.clauses import Clause, Measure
from contracts.checks.evaluate import Outcome, Status, error_outcome, judge, with_samples
from contracts.checks.schema import SchemaChange, schema_changes
from contracts.checks.sql import key_query, sample_query, scan_query, table_expression
from contracts.odcs.model import SchemaObject
from contracts.odcs.sql_guard import single_select
from contracts.warehouses.base import WarehouseClient, WarehouseError


@dataclass(frozen=True)
class TableResult:
    object: str
    table: str
    rows: int | None
    outcomes: tuple[Outcome, ...]
    observed_schema: tuple[dict, ...]  # [{"name", "type", "nullable", "position"}]
    schema_changes: tuple[SchemaChange, ...] = ()
    statements: int = 0
    error: str = ""  # the table could not be checked at all (missing, unreachable)
    queries: tuple[str, ...] = field(default=())  # the SQL sent, for the check's page


def table_check(
    client: WarehouseClient,
    obj: SchemaObject,
    clauses: list[Clause],
    *,
    now: datetime,
    where: exp.Expr | None = None,
    previous_schema: list[dict] | None = None,
    timeout_seconds: float | None = None,
) -> TableResult:
    """Check one schema object; warehouse errors become an error result (or error outcomes), never an exception."""
    started = client.statements
    sent: list[str] = []

    def run(sql: str):
        sent.append(sql)
        return client.query(sql, timeout_seconds=timeout_seconds)

    def result(rows: int | None, outcomes=(), schema=(), changes=(), error: str = "") -> TableResult:
        statements = client.statements - started
        return TableResult(
            obj.name,
            obj.physical_name,
            rows,
            tuple(outcomes),
            tuple(schema),
            tuple(changes),
            statements,
            error,
            tuple(sent),
        )

    try:
        observed = client.columns(obj.physical_name)
    except WarehouseError as exc:
        return result(None, error=str(exc))
    if not observed:
        return result(None, error=f"table {obj.physical_name} not found on the warehouse")
    schema = tuple(
        {"name": c.name, "type": c.data_type, "nullable": c.nullable, "position": c.position} for c in observed
    )
    changes = schema_changes(obj, list(schema), previous_schema)
    present = {c.name.lower() for c in observed}
    runnable, outcomes = [], []
    for clause in clauses:
        needed = [clause.column] if clause.column else list(clause.key_columns)
        absent = [name for name in needed if name and name.lower() not in present]
        if absent:
            outcomes.append(error_outcome(clause, f"column {', '.join(absent)} is not in the table"))
        else:
            runnable.append(clause)
    table = table_expression(obj.physical_name)
    dialect = client.dialect
    results: dict[str, Outcome] = {}
    rows: int | None = None
    try:
        scan = scan_query(table, runnable, dialect=dialect, where=where)
        answer = run(scan.sql)
        values = dict(zip(answer.columns, answer.rows[0], strict=True))
        rows = int(values["row_count"])
        for clause in runnable:
            if clause.key in scan.aliases:
                results[clause.key] = judge(clause, values[scan.aliases[clause.key]], rows=rows, now=now)
        keys = key_query(table, runnable, dialect=dialect, where=where)
        if keys is not None:
            answer = run(keys.sql)
            values = dict(zip(answer.columns, answer.rows[0], strict=True))
            for clause in runnable:
                if clause.key in keys.aliases:
                    results[clause.key] = judge(clause, values[keys.aliases[clause.key]], rows=rows, now=now)
    except WarehouseError as exc:
        return result(rows, outcomes, schema, changes, error=str(exc))
    for clause in runnable:
        if clause.measure == Measure.SQL and clause.query:
            results[clause.key] = _sql_rule(clause, run, dialect=dialect, rows=rows, now=now)
    failing = [results[c.key] for c in runnable if c.key in results and results[c.key].broken]
    if failing:
        results.update(_sampled(failing, obj, table, run, dialect=dialect, where=where))
    outcomes.extend(results[c.key] for c in runnable if c.key in results)
    return result(rows, outcomes, schema, changes)


def _sql_rule(clause: Clause, run, *, dialect: str, rows: int | None, now: datetime) -> Outcome:
    """A SQL rule's query, parsed again (the contract was validated when published; the guard is cheap) and sent
    in the warehouse's dialect; its first value is the measure."""
    try:
        statement = single_select(clause.query or "", dialect=dialect)
        answer = run(statement.sql(dialect=dialect))
    except ValueError as exc:
        return error_outcome(clause, f"the query is refused: {exc}")
    except WarehouseError as exc:
        return error_outcome(clause, f"the query failed: {exc}")
    if not answer.rows or not answer.rows[0]:
        return error_outcome(clause, "the query returned no row")
    return judge(clause, answer.rows[0][0], rows=rows, now=now)


def _sampled(failing: list[Outcome], obj: SchemaObject, table, run, *, dialect: str, where) -> dict[str, Outcome]:
    """Samples of every failing clause, in one statement; a failure to sample leaves the outcomes as they are."""
    keys = obj.primary_key
    row_key = tuple(p.physical_name for p in keys)
    key_masked = any(p.masked for p in keys)
    sql = sample_query(table, [o.clause for o in failing], dialect=dialect, where=where, row_key=row_key)
    if sql is None:
        return {}
    try:
        answer = run(sql)
    except WarehouseError:
        return {}
    by_clause: dict[str, list[tuple[str | None, int]]] = {}
    for clause_key, value, n in answer.rows:
        by_clause.setdefault(clause_key, []).append((value, n))
    sampled = {}
    for outcome in failing:
        clause = outcome.clause
        masked = key_masked if clause.measure in (Measure.NULLS, Measure.MISSING) else clause.masked
        if clause.key in by_clause:
            sampled[clause.key] = with_samples(outcome, by_clause[clause.key], masked=masked)
    return sampled


def worst(outcomes: tuple[Outcome, ...]) -> Status:
    statuses = {o.status for o in outcomes}
    for status in (Status.FAILED, Status.ERROR, Status.WARNING):
        if status in statuses:
            return status
    return Status.PASSED
