"""Lining up two versions of a contract before comparing them: explicit defaults dropped, elements paired by
stable `id` then by name, quality rules keyed as paths name them."""

import json
from collections.abc import Callable
from typing import Any

# Values equal to the ODCS default are the same as the key left out.
_DEFAULTS = {
    "required": False,
    "unique": False,
    "primaryKey": False,
    "primaryKeyPosition": -1,
    "partitioned": False,
    "partitionKeyPosition": -1,
    "criticalDataElement": False,
}
_RULE_DEFAULTS = {"type": "library", "unit": "rows"}


def without_defaults(value: Any) -> Any:
    """Drop explicit defaults and empty values so that writing them out is not a change."""
    if isinstance(value, dict):
        cleaned = {key: without_defaults(item) for key, item in value.items()}
        return {
            key: item
            for key, item in cleaned.items()
            if item not in (None, [], {}, "") and not (key in _DEFAULTS and item == _DEFAULTS[key])
        }
    if isinstance(value, list):
        return [without_defaults(item) for item in value]
    return value


def mappings(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def union_keys(old: dict, new: dict) -> list[str]:
    return list(old) + [key for key in new if key not in old]


def pair_elements(
    old: list[dict], new: list[dict], name_of: Callable[[dict], str]
) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """Pair elements by stable `id` first, then by name; the rest were removed or added."""
    pairs: list[tuple[dict, dict]] = []
    unmatched_new = list(new)
    unmatched_old: list[dict] = []
    for item in old:
        twin = next((other for other in unmatched_new if item.get("id") and other.get("id") == item["id"]), None)
        if twin is None:
            unmatched_old.append(item)
        else:
            pairs.append((item, twin))
            unmatched_new.remove(twin)
    removed = []
    for item in unmatched_old:
        twin = next((other for other in unmatched_new if name_of(other) == name_of(item)), None)
        if twin is None:
            removed.append(item)
        else:
            pairs.append((item, twin))
            unmatched_new.remove(twin)
    return pairs, removed, unmatched_new


def keyed_rules(rules: list[dict]) -> list[dict]:
    """Rules with their path key: `id`, else `name`, else metric (numbered when an element repeats it)."""
    keyed: list[dict] = []
    seen: dict[str, int] = {}
    for rule in rules:
        rule = {**_RULE_DEFAULTS, **rule}
        if "rule" in rule:  # the deprecated spelling of `metric`
            rule.setdefault("metric", rule.pop("rule"))
        key = str(rule.get("id") or rule.get("name") or rule.get("metric") or rule["type"])
        seen[key] = seen.get(key, 0) + 1
        keyed.append({**rule, "_key": key if seen[key] == 1 else f"{key}_{seen[key]}"})
    return keyed


def rule_arguments(rule: dict) -> dict:
    """A rule's arguments, accepting the older spelling that put them on the rule itself."""
    arguments = dict(rule.get("arguments") or {})
    for key in ("validValues", "missingValues"):
        if key in rule:
            arguments.setdefault(key, rule[key])
    return arguments


def shown(item: dict, *, only_thresholds: bool = False) -> dict:
    if only_thresholds:
        return {key: value for key, value in item.items() if key.startswith("must") or key == "unit"}
    return {key: value for key, value in item.items() if key != "_key"}


def bound_of(options: dict, bound: str) -> tuple[str, Any, bool] | None:
    exclusive_key = "exclusiveMinimum" if bound == "minimum" else "exclusiveMaximum"
    flag = options.get(exclusive_key)
    if isinstance(flag, bool) or flag is None:  # v3.0 wrote exclusiveness as a boolean beside the bound
        return (bound, options[bound], bool(flag)) if bound in options else None
    return exclusive_key, flag, True


def sla_key(entries: list[dict]) -> Callable[[dict], str]:
    """SLA entries by `property`, told apart by `element` when a property is listed more than once."""
    properties = [entry.get("property") for entry in entries]
    return lambda entry: (
        str(entry.get("property")) + (f"@{entry.get('element')}" if properties.count(entry.get("property")) > 2 else "")
    )


def as_set(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [] if value is None else [value]
    return {json.dumps(item, sort_keys=True, default=str) for item in values}
