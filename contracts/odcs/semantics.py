"""AIMS's own checks of a contract document, for what the ODCS JSON Schema cannot say: names unique, patterns
that compile, ranges in order, rules that name real columns, SLA elements of this contract, SQL rules that are one
SELECT. Written for documents that may also break the schema, so every value is type-checked before use."""

import re
from collections.abc import Iterator
from typing import Any

from contracts.odcs.model import OPERATORS
from contracts.odcs.paths import Path, Problem
from contracts.odcs.sql_guard import single_select

SUPPORTED_API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
_OBJECT_METRICS = {"rowCount", "duplicateValues"}
_PROPERTY_METRICS = {"nullValues", "missingValues", "invalidValues", "duplicateValues"}
_SQLGLOT_DIALECTS = {"postgres": "postgres", "postgresql": "postgres", "databricks": "databricks"}


def problems(document: dict[str, Any]) -> list[Problem]:
    """One problem per mistake AIMS can see beyond the JSON Schema."""
    found: list[Problem] = []
    api_version = document.get("apiVersion")
    if isinstance(api_version, str) and api_version.startswith("v2."):
        supported = ", ".join(SUPPORTED_API_VERSIONS)
        found.append(Problem(("apiVersion",), f"{api_version} is not supported; use one of: {supported}"))
    objects = _items(document.get("schema"))
    found += _duplicate_names(objects, ("schema",), "object")
    dialect = _dialect(document)
    for index, obj in objects:
        found += _object_problems(obj, ("schema", index), dialect)
    found += _sla_problems(document, objects)
    return found


def _object_problems(obj: dict[str, Any], path: Path, dialect: str | None) -> Iterator[Problem]:
    properties = _items(obj.get("properties"))
    yield from _duplicate_names(properties, path + ("properties",), "property")
    columns = {p.get("name") for _, p in properties}
    table = obj.get("physicalName") or obj.get("name")
    for index, rule in _items(obj.get("quality")):
        yield from _rule_problems(rule, path + ("quality", index), columns=columns, table=table, column=None)
        yield from _sql_problems(rule, path + ("quality", index), dialect, table=table, column=None)
    for index, prop in properties:
        yield from _property_problems(prop, path + ("properties", index), table, dialect)


def _property_problems(prop: dict[str, Any], path: Path, table: object, dialect: str | None) -> Iterator[Problem]:
    options = prop.get("logicalTypeOptions")
    if isinstance(options, dict) and options and "logicalType" not in prop:
        yield Problem(path + ("logicalTypeOptions",), "logicalTypeOptions needs the property's logicalType")
    if isinstance(options, dict):
        yield from _pattern_problems(options.get("pattern"), path + ("logicalTypeOptions", "pattern"))
    column = prop.get("physicalName") or prop.get("name")
    for index, rule in _items(prop.get("quality")):
        yield from _rule_problems(rule, path + ("quality", index), columns=None, table=table, column=column)
        yield from _sql_problems(rule, path + ("quality", index), dialect, table=table, column=column)
    children = _items(prop.get("properties"))
    yield from _duplicate_names(children, path + ("properties",), "property")
    for index, child in children:
        yield from _property_problems(child, path + ("properties", index), table, dialect)


def _rule_problems(
    rule: dict[str, Any], path: Path, *, columns: set[Any] | None, table: object, column: object
) -> Iterator[Problem]:
    """A library rule: where its metric applies, its operand, its unit and its arguments. `columns` is the
    object's property names for an object-level rule, None for a rule on a property."""
    metric = rule.get("metric") or rule.get("rule")
    if rule.get("type", "library") not in ("library", "sql"):
        return
    yield from _between_problems(rule, path)
    if rule.get("type", "library") != "library" or not isinstance(metric, str):
        return
    on_object = columns is not None
    if on_object and metric not in _OBJECT_METRICS:
        yield Problem(path + ("metric",), f"{metric} applies to a property; move the rule under its property")
    elif not on_object and metric not in _PROPERTY_METRICS:
        yield Problem(path + ("metric",), f"{metric} applies to an object; move the rule to the object's quality")
    for operator in OPERATORS[:6]:
        value = rule.get(operator)
        if operator in rule and (isinstance(value, bool) or not isinstance(value, int | float)):
            yield Problem(path + (operator,), f"a {metric} rule compares numbers; got {value!r}")
    unit = rule.get("unit", "rows")
    if metric == "rowCount" and unit == "percent":
        yield Problem(path + ("unit",), "a rowCount rule counts rows; unit percent does not apply")
    elif unit not in ("rows", "percent"):
        yield Problem(path + ("unit",), f"unit {unit!r} is not allowed; use rows or percent")
    arguments = rule["arguments"] if isinstance(rule.get("arguments"), dict) else {}
    pattern_key = "pattern" if "pattern" in arguments else None
    if pattern_key:
        yield from _pattern_problems(arguments["pattern"], path + ("arguments", "pattern"))
    if metric == "invalidValues" and "validValues" not in arguments and not pattern_key:
        yield Problem(path, "an invalidValues rule needs arguments.validValues or arguments.pattern")
    key_columns = arguments.get("properties")
    if metric == "duplicateValues" and on_object:
        if not isinstance(key_columns, list) or not key_columns:
            yield Problem(path, "a duplicateValues rule on an object needs arguments.properties (the key columns)")
        else:
            unknown = [str(name) for name in key_columns if name not in columns]  # type: ignore[operator]
            if unknown:
                yield Problem(
                    path + ("arguments", "properties"), f"names {', '.join(unknown)}, not a property of this object"
                )


def _between_problems(rule: dict[str, Any], path: Path) -> Iterator[Problem]:
    for operator in ("mustBeBetween", "mustNotBeBetween"):
        bounds = rule.get(operator)
        numbers = isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)
        if numbers and not bounds[0] < bounds[1]:  # type: ignore[index]
            yield Problem(path + (operator,), f"must be [low, high] with low below high; got {bounds}")


def _sql_problems(
    rule: dict[str, Any], path: Path, dialect: str | None, *, table: object, column: object
) -> Iterator[Problem]:
    query = rule.get("query")
    if rule.get("type") != "sql" or not isinstance(query, str):
        return
    # ODCS substitutes {object} and {property} before a rule runs; parse what would run.
    query = query.replace("{object}", str(table))
    if column is not None:
        query = query.replace("{property}", str(column))
    try:
        single_select(query, dialect=dialect)
    except ValueError as exc:
        yield Problem(path + ("query",), str(exc))


def _sla_problems(document: dict[str, Any], objects: list[tuple[int, dict[str, Any]]]) -> Iterator[Problem]:
    columns = {obj.get("name"): {p.get("name") for _, p in _items(obj.get("properties"))} for _, obj in objects}
    for index, sla in _items(document.get("slaProperties")):
        element = sla.get("element")
        if not isinstance(element, str):
            continue
        for part in (part.strip() for part in element.split(",")):
            table, _, column = part.partition(".")
            if not column or table not in columns or column not in columns[table]:
                yield Problem(
                    ("slaProperties", index, "element"),
                    f"{part!r} is not <object>.<property> of this contract (by their names)",
                )


def _pattern_problems(pattern: object, path: Path) -> Iterator[Problem]:
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            yield Problem(path, f"not a valid regular expression ({exc})")


def _duplicate_names(items: list[tuple[int, dict[str, Any]]], path: Path, what: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, item in items:
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            yield Problem(path + (index, "name"), f"another {what} is already named {name}")
        elif isinstance(name, str):
            seen.add(name)


def _dialect(document: dict[str, Any]) -> str | None:
    servers = _items(document.get("servers"))
    server_type = servers[0][1].get("type") if servers else None
    return _SQLGLOT_DIALECTS.get(server_type) if isinstance(server_type, str) else None


def _items(value: object) -> list[tuple[int, dict[str, Any]]]:
    """The mapping items of a list, with their indexes (anything else the schema reports)."""
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
