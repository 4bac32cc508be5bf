"""A validated contract document (`contracts.odcs.parse.parse_contract`) turned into the dataclasses of
`contracts.odcs.model` that checks and pages act on."""

from typing import Any

import yaml

from contracts.odcs.model import (
    OPERATORS,
    Contract,
    Number,
    Property,
    QualityRule,
    SchemaObject,
    Server,
    ServiceLevel,
    Threshold,
)
from contracts.odcs.paths import Path, rule_keys
from contracts.odcs.yaml_source import compose, line_of


class _Lines:
    """Line numbers of a document's elements when its YAML text is at hand; 0 otherwise."""

    def __init__(self, yaml_text: str | None):
        self._root: yaml.Node | None = compose(yaml_text) if yaml_text else None

    def __call__(self, path: Path) -> int:
        return line_of(self._root, path) if self._root is not None else 0


def contract_model(spec: dict[str, Any], *, yaml_text: str | None = None) -> Contract:
    """The model of a validated spec; pass the YAML text it came from to keep the line of every object, property,
    rule and SLA."""
    lines = _Lines(yaml_text)
    return Contract(
        id=spec["id"],
        version=spec["version"],
        api_version=spec["apiVersion"],
        status=spec.get("status", ""),
        name=spec.get("name", ""),
        domain=spec.get("domain", ""),
        objects=tuple(_object(obj, ("schema", i), lines) for i, obj in enumerate(spec.get("schema", []))),
        service_levels=tuple(
            ServiceLevel(
                property=sla["property"],
                value=sla["value"],
                unit=sla.get("unit"),
                element=sla.get("element"),
                driver=sla.get("driver"),
                line=lines(("slaProperties", i)),
            )
            for i, sla in enumerate(spec.get("slaProperties", []))
        ),
        servers=tuple(
            Server(
                server=server.get("server", ""),
                type=server.get("type", ""),
                environment=server.get("environment"),
                host=server.get("host"),
                database=server.get("database"),
                catalog=server.get("catalog"),
                schema=server.get("schema"),
            )
            for server in spec.get("servers", [])
        ),
        tags=tuple(spec.get("tags", [])),
    )


def _object(obj: dict[str, Any], path: Path, lines: _Lines) -> SchemaObject:
    return SchemaObject(
        name=obj["name"],
        physical_name=obj.get("physicalName") or obj["name"],
        id=obj.get("id"),
        physical_type=obj.get("physicalType"),
        properties=_properties(obj.get("properties", []), path, lines),
        quality=_rules(obj.get("quality", []), path, lines),
        line=lines(path),
    )


def _properties(properties: list[dict[str, Any]], parent: Path, lines: _Lines) -> tuple[Property, ...]:
    return tuple(_property(prop, parent + ("properties", i), lines) for i, prop in enumerate(properties))


def _property(prop: dict[str, Any], path: Path, lines: _Lines) -> Property:
    options = prop.get("logicalTypeOptions", {})
    enum = prop.get("enum")
    return Property(
        name=prop["name"],
        physical_name=prop.get("physicalName") or prop["name"],
        id=prop.get("id"),
        logical_type=prop.get("logicalType"),
        physical_type=prop.get("physicalType"),
        required=prop.get("required", False),
        unique=prop.get("unique", False),
        primary_key=prop.get("primaryKey", False),
        primary_key_position=prop.get("primaryKeyPosition", -1),
        partitioned=prop.get("partitioned", False),
        classification=prop.get("classification"),
        enum=tuple(item["value"] for item in enum) if enum else None,
        min_length=options.get("minLength"),
        max_length=options.get("maxLength"),
        pattern=options.get("pattern"),
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        exclusive_minimum=options.get("exclusiveMinimum"),
        exclusive_maximum=options.get("exclusiveMaximum"),
        quality=_rules(prop.get("quality", []), path, lines),
        properties=_properties(prop.get("properties", []), path, lines),
        line=lines(path),
    )


def _rules(rules: list[dict[str, Any]], parent: Path, lines: _Lines) -> tuple[QualityRule, ...]:
    keyed = enumerate(zip(rules, rule_keys(rules), strict=True))
    return tuple(_rule(rule, key, lines(parent + ("quality", i))) for i, (rule, key) in keyed)


def _rule(rule: dict[str, Any], key: str, line: int) -> QualityRule:
    kind = rule.get("type", "library")
    arguments = rule.get("arguments", {})

    def argument(name: str) -> Any:
        # ODCS 3.1 puts metric arguments under `arguments`; some of its examples write them on the rule itself.
        return arguments.get(name, rule.get(name))

    valid_values, missing_values = argument("validValues"), argument("missingValues")
    return QualityRule(
        key=key,
        type=kind,
        threshold=_threshold(rule) if kind in ("library", "sql") else None,
        metric=rule.get("metric") or rule.get("rule"),
        unit=rule.get("unit", "rows"),
        severity=rule.get("severity", ""),
        description=rule.get("description", ""),
        valid_values=tuple(valid_values) if valid_values is not None else None,
        pattern=argument("pattern"),
        missing_values=tuple(missing_values) if missing_values is not None else None,
        properties=tuple(argument("properties") or ()),
        query=rule.get("query"),
        line=line,
    )


def _threshold(rule: dict[str, Any]) -> Threshold | None:
    operator = next((op for op in OPERATORS if op in rule), None)
    if operator is None:
        return None
    operand: Number | list[Number] = rule[operator]
    if isinstance(operand, list):
        return Threshold(operator=operator, low=operand[0], high=operand[1])
    return Threshold(operator=operator, value=operand)
