"""The encoded queries (`sysparm_query`) the simulated Table API understands.

Terms joined by `^`: `field=value`, `!=`, `>=`, `>`, `<=`, `<`, `fieldINa,b`, `fieldSTARTSWITHx`, `fieldISEMPTY`,
`fieldISNOTEMPTY`, and `ORDERBYfield` / `ORDERBYDESCfield`. A date may be written as
`javascript:gs.dateGenerate('2025-03-14','09:30:00')`. An unknown field or operator is a 400 here (a real instance
may silently ignore it and return every row: a test double should fail loudly instead).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_TERM = re.compile(r"^([a-z0-9_]+)(ISNOTEMPTY|ISEMPTY|STARTSWITH|IN|!=|>=|<=|=|>|<)(.*)$", re.DOTALL)
_DATE_GENERATE = re.compile(r"^javascript:gs\.dateGenerate\('(\d{4}-\d{2}-\d{2})',\s*'(\d{2}:\d{2}:\d{2})'\)$")

Row = dict[str, str]


class QueryError(ValueError):
    pass


@dataclass(slots=True)
class EncodedQuery:
    predicates: list[Callable[[Row], bool]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)

    def apply(self, rows: list[Row]) -> list[Row]:
        found = [row for row in rows if all(p(row) for p in self.predicates)]
        for name, descending in reversed(self.order):
            found.sort(key=_column_key(name), reverse=descending)
        return found


def _column_key(name: str) -> Callable[[Row], tuple[int, float, str]]:
    return lambda row: _sort_key(row.get(name, ""))


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _compare(op: str, have: str, want: str) -> bool:
    left: float | str = have
    right: float | str = want
    with contextlib.suppress(ValueError):
        left, right = float(have), float(want)
    if op == ">=":
        return left >= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    return left < right  # type: ignore[operator]


def _predicate(name: str, op: str, value: str) -> Callable[[Row], bool]:
    generated = _DATE_GENERATE.match(value)
    if generated:
        value = f"{generated.group(1)} {generated.group(2)}"
    if op == "=":
        return lambda row: row.get(name, "") == value
    if op == "!=":
        return lambda row: row.get(name, "") != value
    if op == "IN":
        wanted = set(value.split(","))
        return lambda row: row.get(name, "") in wanted
    if op == "STARTSWITH":
        return lambda row: row.get(name, "").startswith(value)
    if op == "ISEMPTY":
        return lambda row: row.get(name, "") == ""
    if op == "ISNOTEMPTY":
        return lambda row: row.get(name, "") != ""
    return lambda row: _compare(op, row.get(name, ""), value)


def parse_query(text: str | None, columns: tuple[str, ...]) -> EncodedQuery:
    query = EncodedQuery()
    for term in (text or "").split("^"):
        if not term:
            continue
        if term.startswith("ORDERBYDESC") or term.startswith("ORDERBY"):
            descending = term.startswith("ORDERBYDESC")
            name = term[len("ORDERBYDESC") :] if descending else term[len("ORDERBY") :]
            if name not in columns:
                raise QueryError(f"sysparm_query: cannot order by unknown field '{name}'")
            query.order.append((name, descending))
            continue
        if term in ("OR", "NQ") or term.startswith(("OR", "NQ")) and not _TERM.match(term):
            raise QueryError(f"sysparm_query: '{term}' (OR / NQ) is not supported by the simulator")
        m = _TERM.match(term)
        if not m:
            raise QueryError(f"sysparm_query: cannot parse the term '{term}'")
        name, op, value = m.groups()
        if name not in columns:
            raise QueryError(f"sysparm_query: unknown field '{name}'")
        query.predicates.append(_predicate(name, op, value))
    return query
