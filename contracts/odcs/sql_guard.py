"""The guard every contract SQL rule passes before it is accepted or run: the text must parse as exactly one
read-only query. Parsed with sqlglot, not matched with patterns, so comments, quoting and `;` inside strings
cannot smuggle in a second statement."""

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

#: Nodes that write, change the schema, lock rows or escape the parser (`Command` is sqlglot's fallback for
#: statements it does not understand); none may appear anywhere in the query, CTEs included.
_FORBIDDEN = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Into,
    exp.Lock,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
)

_TOKEN = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+, col: .*?>")


def single_select(query: str, *, dialect: str | None) -> exp.Expr:
    """The parsed query when `query` is exactly one SELECT (a set operation of SELECTs and CTEs included) in
    `dialect` (a sqlglot dialect name; None for sqlglot's generic SQL); ValueError saying why otherwise. (In
    sqlglot 30 queries are `exp.Expr`, the base of `exp.Expression`.)"""
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except ParseError as exc:
        raise ValueError(f"the query does not parse ({_first_parse_error(exc)})") from exc
    if not statements:
        raise ValueError("the query is empty")
    if len(statements) > 1:
        raise ValueError(f"the query holds {len(statements)} statements; only one SELECT is allowed")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise ValueError(f"the query is {_describe(statement)}; only a SELECT is allowed")
    forbidden = next(statement.find_all(*_FORBIDDEN), None)
    if forbidden is not None:
        raise ValueError(f"the query contains {_describe(forbidden)}; only a read-only SELECT is allowed")
    return statement


def _first_parse_error(exc: ParseError) -> str:
    if exc.errors:
        error = exc.errors[0]
        description = _TOKEN.sub(lambda m: repr(m.group(1)), str(error.get("description")))
        return f"line {error.get('line')}, column {error.get('col')} of the query: {description}"
    return str(exc).splitlines()[0]


def _describe(node: exp.Expr) -> str:
    if isinstance(node, exp.Into):
        return "SELECT INTO (which creates a table)"
    if isinstance(node, exp.Lock):
        return "a row lock (FOR UPDATE/SHARE)"
    if isinstance(node, exp.Command):
        return f"a {node.name.upper()} statement"
    return f"a {node.key.upper()} statement"
