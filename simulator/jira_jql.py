"""The subset of JQL the simulated search understands: clauses joined by AND, then an optional ORDER BY.

Clauses: `labels = "x"`, `project = KEY`, `key = OPS-1` (or `issuekey`), `status = "To Do"`,
`statusCategory = done`, `updated|created >=|>|<=|< "yyyy-MM-dd HH:mm"` (or `"yyyy-MM-dd"`, UTC), each `=` also as
`!=` and `in (a, b)`. ORDER BY updated, created or key, ASC (default) or DESC. Anything else is an error, as a
JQL parse error is in Jira.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.timefmt import US_PER_S

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|(>=|<=|!=|=|>|<|\(|\)|,)|([^\s=!<>(),"\']+))')
TEXT_FIELDS = {"labels", "project", "key", "issuekey", "status", "statuscategory"}
TIME_FIELDS = {"updated", "created"}
ORDER_FIELDS = {"updated", "created", "key"}


class JqlError(ValueError):
    pass


@dataclass(slots=True)
class JqlQuery:
    # Each predicate takes an issue's searchable view (see simulator.world.jira.JiraIssue.jql_view).
    predicates: list[Callable[[dict[str, Any]], bool]] = field(default_factory=list)
    order_by: str = "key"
    descending: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value): kind is 'str' (quoted), 'op' or 'word'."""
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise JqlError(f"Error in the JQL Query: the character '{text[pos]}' is a reserved JQL character.")
        dq, sq, op, word = m.groups()
        if dq is not None or sq is not None:
            out.append(("str", (dq if dq is not None else sq or "").replace('\\"', '"')))
        elif op is not None:
            out.append(("op", op))
        else:
            out.append(("word", word))
        pos = m.end()
    return out


def parse_jql_time(value: str) -> int:
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return int(datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()) * US_PER_S
        except ValueError:
            continue
    raise JqlError(
        f"Error in the JQL Query: Date value '{value}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'."
    )


def _values(tokens: list[tuple[str, str]], i: int) -> tuple[list[str], int]:
    if i < len(tokens) and tokens[i] == ("op", "("):
        values: list[str] = []
        i += 1
        while i < len(tokens) and tokens[i] != ("op", ")"):
            kind, value = tokens[i]
            if kind == "op" and value == ",":
                i += 1
                continue
            if kind == "op":
                raise JqlError(f"Error in the JQL Query: Expecting a value but got '{value}'.")
            values.append(value)
            i += 1
        if i >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
        return values, i + 1
    if i >= len(tokens) or tokens[i][0] == "op":
        raise JqlError("Error in the JQL Query: Expecting either a value, list or function but got nothing.")
    return [tokens[i][1]], i + 1


def _predicate(name: str, op: str, values: list[str]) -> Callable[[dict[str, Any]], bool]:
    if name in TIME_FIELDS:
        if op not in (">=", ">", "<=", "<") or len(values) != 1:
            raise JqlError(f"Error in the JQL Query: the operator '{op}' is not supported for field '{name}' here.")
        bound = parse_jql_time(values[0])
        compare: dict[str, Callable[[int], bool]] = {
            ">=": lambda v: v >= bound,
            ">": lambda v: v > bound,
            "<=": lambda v: v <= bound,
            "<": lambda v: v < bound,
        }
        return lambda view: compare[op](view[name])
    if op not in ("=", "!=", "in"):
        raise JqlError(f"Error in the JQL Query: the operator '{op}' does not support the field '{name}'.")
    key = "key" if name == "issuekey" else name
    wanted = {v.lower() for v in values}

    def matches(view: dict[str, Any]) -> bool:
        have = view[key]
        found = any(str(v).lower() in wanted for v in have) if isinstance(have, list) else str(have).lower() in wanted
        return found if op != "!=" else not found

    return matches


def parse_jql(text: str) -> JqlQuery:
    if not isinstance(text, str):
        raise JqlError("The JQL query must be a string.")
    tokens = _tokens(text)
    query = JqlQuery()
    i = 0
    while i < len(tokens):
        kind, word = tokens[i]
        if kind == "word" and word.lower() == "order":
            break
        if query.predicates:
            if kind != "word" or word.lower() != "and":
                raise JqlError(f"Error in the JQL Query: Expecting 'AND' or 'ORDER BY' but got '{word}'.")
            i += 1
            kind, word = tokens[i] if i < len(tokens) else ("", "")
        name = word.lower()
        if kind not in ("word", "str") or name not in TEXT_FIELDS | TIME_FIELDS:
            raise JqlError(f"Field '{word}' does not exist or this simulator does not support it.")
        if i + 1 >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting an operator before the end of the query.")
        op_kind, op = tokens[i + 1]
        if op_kind == "word" and op.lower() == "in":
            op = "in"
        elif op_kind != "op" or op not in ("=", "!=", ">=", "<=", ">", "<"):
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{op}'.")
        values, i = _values(tokens, i + 2)
        query.predicates.append(_predicate(name, op, values))
    if i < len(tokens):
        rest = [value.lower() for _, value in tokens[i:]]
        if len(rest) < 3 or rest[1] != "by" or rest[2] not in ORDER_FIELDS or len(rest) > 4:
            raise JqlError("Error in the JQL Query: ORDER BY supports updated, created or key, then ASC or DESC.")
        if len(rest) == 4 and rest[3] not in ("asc", "desc"):
            raise JqlError(f"Error in the JQL Query: Expecting ASC or DESC but got '{rest[3]}'.")
        query.order_by = rest[2]
        query.descending = len(rest) == 4 and rest[3] == "desc"
    return query
