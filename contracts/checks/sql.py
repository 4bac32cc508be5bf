"""Clauses compiled to SQL with sqlglot, in the warehouse's dialect: every single-column clause of a table in one
aggregate query (one scan), composite-key duplicates in one more, and the samples of failing clauses in a third
that runs only when something failed. Identifiers are always quoted (physical names are taken exactly as the
contract writes them); values are literals built by sqlglot, never pasted text."""

from dataclasses import dataclass

from sqlglot import exp

from contracts.checks.clauses import Clause, Measure

ROWS = "row_count"  # alias of COUNT(*) in the scan: every percent is taken against it
SAMPLE_LIMIT = 5
TEXT = exp.DataType.build("text")


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def table_expression(physical_name: str) -> exp.Table:
    """`schema.table` or `catalog.schema.table` as a quoted table reference."""
    parts = [exp.to_identifier(part.strip(), quoted=True) for part in physical_name.split(".")]
    if len(parts) > 3 or not all(part.name for part in parts):
        raise ValueError(f"{physical_name!r} is not a table name (table, schema.table or catalog.schema.table)")
    padded: list[exp.Identifier | None] = [None] * (3 - len(parts)) + list(parts)
    return exp.Table(this=padded[2], db=padded[1], catalog=padded[0])


def _literal(value: object, logical_type: str | None) -> exp.Expr:
    """A contract value as a literal of the column's type (ISO text bounds of date/timestamp columns are cast)."""
    if isinstance(value, str) and logical_type in ("date", "timestamp"):
        return exp.cast(exp.Literal.string(value), "DATE" if logical_type == "date" else "TIMESTAMP")
    return exp.convert(value)


def _as_text(column: exp.Expr, logical_type: str | None) -> exp.Expr:
    return column if logical_type == "string" else exp.cast(column, TEXT)


def _values(column: exp.Expr, values: tuple[object, ...], logical_type: str | None) -> exp.Expr:
    """`column IN (values)`, comparing as text when the values are text and the column may not be."""
    if any(isinstance(v, str) for v in values) and logical_type not in ("string", "date", "timestamp"):
        return _as_text(column, logical_type).isin(*[exp.Literal.string(str(v)) for v in values])
    return column.isin(*[_literal(v, logical_type) for v in values])


def invalid_predicate(clause: Clause) -> exp.Expr:
    """True for a non-null value that breaks the clause's validity (the value is checked for null separately)."""
    assert clause.column is not None and clause.validity is not None
    column, kind, v = _column(clause.column), clause.logical_type, clause.validity
    broken: list[exp.Expr] = []
    if v.values is not None:
        broken.append(exp.not_(_values(column, tuple(x for x in v.values if x is not None), kind)))
    if v.pattern is not None:
        broken.append(exp.not_(exp.RegexpLike(this=_as_text(column, kind), expression=exp.Literal.string(v.pattern))))
    length = exp.Length(this=_as_text(column, kind))
    if v.min_length is not None:
        broken.append(length < exp.convert(v.min_length))
    if v.max_length is not None:
        broken.append(length > exp.convert(v.max_length))
    if v.minimum is not None:
        broken.append(column < _literal(v.minimum, kind))
    if v.maximum is not None:
        broken.append(column > _literal(v.maximum, kind))
    if v.exclusive_minimum is not None:
        broken.append(column <= _literal(v.exclusive_minimum, kind))
    if v.exclusive_maximum is not None:
        broken.append(column >= _literal(v.exclusive_maximum, kind))
    return exp.or_(*broken) if broken else exp.false()


def _bad_rows(clause: Clause) -> exp.Expr:
    """The rows a NULLS, MISSING or INVALID clause counts."""
    assert clause.column is not None
    column = _column(clause.column)
    if clause.measure == Measure.NULLS:
        return column.is_(exp.null())
    if clause.measure == Measure.MISSING:
        missing: exp.Expr = column.is_(exp.null())
        if clause.missing_values:
            missing = exp.or_(missing, _values(column, clause.missing_values, clause.logical_type))
        return missing
    return exp.and_(exp.not_(column.is_(exp.null())), invalid_predicate(clause))


def _count_where(condition: exp.Expr) -> exp.Expr:
    return exp.func("COALESCE", exp.Sum(this=exp.If(this=condition, true=exp.convert(1), false=exp.convert(0))), 0)


def _scan_measure(clause: Clause) -> exp.Expr:
    assert clause.column is not None or clause.measure == Measure.ROW_COUNT
    match clause.measure:
        case Measure.ROW_COUNT:
            return exp.Count(this=exp.Star())
        case Measure.NULLS:
            return exp.Count(this=exp.Star()) - exp.Count(this=_column(clause.column or ""))
        case Measure.MISSING | Measure.INVALID:
            return _count_where(_bad_rows(clause))
        case Measure.DUPLICATES:
            column = _column(clause.column or "")
            return exp.Count(this=column) - exp.Count(this=exp.Distinct(expressions=[column]))
        case Measure.FRESHNESS:
            return exp.Max(this=_column(clause.column or ""))
    raise ValueError(f"{clause.measure} is not measured by the scan")


def _where(select: exp.Select, where: exp.Expr | None) -> exp.Select:
    return select.where(where.copy()) if where is not None else select


@dataclass(frozen=True)
class Query:
    sql: str
    aliases: dict[str, str]  # clause key -> result column


def scan_query(table: exp.Table, clauses: list[Clause], *, dialect: str, where: exp.Expr | None = None) -> Query:
    """One aggregate SELECT over the table for the row count and every single-column clause (and freshness)."""
    select = exp.select(exp.alias_(exp.Count(this=exp.Star()), ROWS, quoted=True)).from_(table.copy())
    aliases = {}
    expressions: dict[str, str] = {}  # the same measure asked twice (e.g. required and a nullValues rule): one column
    for clause in clauses:
        if not (clause.in_scan or clause.measure == Measure.FRESHNESS) or clause.measure == Measure.ROW_COUNT:
            if clause.measure == Measure.ROW_COUNT:
                aliases[clause.key] = ROWS
            continue
        measure = _scan_measure(clause)
        text = measure.sql(dialect=dialect)
        if text not in expressions:
            expressions[text] = f"m{len(expressions)}"
            select = select.select(exp.alias_(measure, expressions[text], quoted=True), append=True)
        aliases[clause.key] = expressions[text]
    return Query(sql=_where(select, where).sql(dialect=dialect, identify=True), aliases=aliases)


def key_query(table: exp.Table, clauses: list[Clause], *, dialect: str, where: exp.Expr | None = None) -> Query | None:
    """Rows beyond the first of each composite key, for every KEY_DUPLICATES clause, in one SELECT (None: none)."""
    keyed = [c for c in clauses if c.measure == Measure.KEY_DUPLICATES]
    if not keyed:
        return None
    select = exp.select()
    aliases = {}
    for index, clause in enumerate(keyed):
        counts = _where(exp.select(exp.alias_(exp.Count(this=exp.Star()), "n")).from_(table.copy()), where).group_by(
            *[_column(c) for c in clause.key_columns]
        )
        counts = counts.having(exp.Count(this=exp.Star()) > exp.convert(1))
        extra = exp.select(exp.func("COALESCE", exp.Sum(this=exp.column("n") - exp.convert(1)), 0)).from_(
            counts.subquery(f"d{index}")
        )
        select = select.select(exp.alias_(extra.subquery(), f"k{index}", quoted=True), append=True)
        aliases[clause.key] = f"k{index}"
    return Query(sql=select.sql(dialect=dialect, identify=True), aliases=aliases)


def _key_text(columns: tuple[str, ...]) -> exp.Expr:
    if len(columns) == 1:
        return exp.cast(_column(columns[0]), TEXT)
    # CONCAT_WS by name: the same function in every supported engine, skipping null parts (sqlglot's ConcatWs
    # would wrap it in a CASE that turns the whole key null when one part is).
    parts = [exp.cast(_column(c), TEXT) for c in columns]
    return exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(", "), *parts])


def _sample_select(
    table: exp.Table, clause: Clause, *, where: exp.Expr | None, row_key: tuple[str, ...]
) -> exp.Select | None:
    """Up to SAMPLE_LIMIT failing values of one clause with how many rows hold each (for null or missing values,
    the row keys of offending rows); None when there is nothing to show."""
    n = exp.Count(this=exp.Star())
    if clause.measure in (Measure.INVALID, Measure.DUPLICATES) and clause.column:
        column = _column(clause.column)
        condition = _bad_rows(clause) if clause.measure == Measure.INVALID else exp.not_(column.is_(exp.null()))
        select = _where(exp.select(exp.alias_(exp.cast(column, TEXT), "value"), exp.alias_(n, "n")), where)
        select = select.from_(table.copy()).where(condition).group_by(column)
        if clause.measure == Measure.DUPLICATES:
            select = select.having(n > exp.convert(1))
    elif clause.measure == Measure.KEY_DUPLICATES:
        columns = [_column(c) for c in clause.key_columns]
        select = _where(
            exp.select(exp.alias_(_key_text(clause.key_columns), "value"), exp.alias_(n, "n")), where
        ).from_(table.copy())
        select = select.group_by(*columns).having(n > exp.convert(1))
    elif clause.measure in (Measure.NULLS, Measure.MISSING) and row_key:
        select = _where(
            exp.select(exp.alias_(_key_text(row_key), "value"), exp.alias_(exp.convert(1), "n")), where
        ).from_(table.copy())
        select = select.where(_bad_rows(clause))
        return select.limit(SAMPLE_LIMIT)
    else:
        return None
    return select.order_by(exp.Ordered(this=exp.column("n"), desc=True)).limit(SAMPLE_LIMIT)


def sample_query(
    table: exp.Table,
    clauses: list[Clause],
    *,
    dialect: str,
    where: exp.Expr | None = None,
    row_key: tuple[str, ...] = (),
) -> str | None:
    """One statement returning (clause, value, n) rows: samples of every given (failing) clause together."""
    parts = []
    for index, clause in enumerate(clauses):
        inner = _sample_select(table, clause, where=where, row_key=row_key)
        if inner is not None:
            parts.append(
                exp.select(
                    exp.alias_(exp.Literal.string(clause.key), "clause"), exp.column("value"), exp.column("n")
                ).from_(inner.subquery(f"s{index}"))
            )
    if not parts:
        return None
    union: exp.Expr = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return union.sql(dialect=dialect, identify=True)
