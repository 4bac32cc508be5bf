"""Names of the elements of a contract document in the path grammar AIMS uses everywhere (errors, diffs,
violations): `schema[orders].properties[amount].logicalTypeOptions.maxLength`, `...quality[orders_row_count]`,
`slaProperties[latency].value`. List items are named by their name-like key, else by their index."""

from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]

#: The key that names the items of each named list of an ODCS document.
_ITEM_NAME_KEY = {"schema": "name", "properties": "name", "slaProperties": "property", "servers": "server"}


def rule_keys(rules: Sequence[object]) -> list[str]:
    """The key of each quality rule of one element: its `id`, else `name`, else its metric (the deprecated `rule`
    counts as a metric), else its type; a repeated key gets `_2`, `_3`, ... so every rule of the element is named
    apart."""
    keys: list[str] = []
    seen: set[str] = set()
    for rule in rules:
        base = "rule"
        if isinstance(rule, dict):
            candidates = (rule.get("id"), rule.get("name"), rule.get("metric"), rule.get("rule"), rule.get("type"))
            base = next((str(c) for c in candidates if isinstance(c, str) and c), "rule")
        key, suffix = base, 2
        while key in seen:
            key, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(key)
        keys.append(key)
    return keys


def element_path(document: object, path: Sequence[str | int]) -> str:
    """`path` (keys and list indexes into `document`) written in the contract path grammar."""
    text = ""
    node = document
    parent_key: str | int | None = None
    for part in path:
        if isinstance(part, int):
            text += f"[{_item_label(node, part, parent_key)}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
        parent_key = part
    return text or "contract"


def _item_label(items: object, index: int, list_key: str | int | None) -> str:
    if not isinstance(items, list) or index >= len(items):
        return str(index)
    if list_key == "quality":
        return rule_keys(items)[index]
    name_key = _ITEM_NAME_KEY.get(list_key) if isinstance(list_key, str) else None
    item = items[index]
    name = item.get(name_key) if name_key and isinstance(item, dict) else None
    return name if isinstance(name, str) and name else str(index)


@dataclass(frozen=True)
class Problem:
    """One mistake in a document: where (keys and indexes), what, and -- to drop the echo of a misspelt key --
    the keys it reports missing or the unknown key it reports."""

    path: Path
    message: str
    missing: tuple[str, ...] = ()
    unknown: str | None = None
