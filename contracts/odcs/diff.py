"""What changed between two versions of an ODCS contract, and whether the change breaks its consumers.

Works on the parsed YAML (plain dicts), so it can compare any two texts that parse. Elements are matched by their
stable `id`, else by name; paths name existing elements by their old names (`schema[orders].properties[amount]`)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.odcs.diff_match import (
    as_set,
    bound_of,
    keyed_rules,
    mappings,
    pair_elements,
    rule_arguments,
    shown,
    sla_key,
    union_keys,
    without_defaults,
)
from contracts.odcs.diff_rules import rule_operator, sla_strictness, threshold_strictness
from contracts.odcs.model import WARNING_SEVERITIES
from contracts.odcs.types import TypeChange, logical_type_change, type_change

Level = Literal["breaking", "warning", "info"]
Verdict = Literal["breaking", "non_breaking"]

BREAKING: Level = "breaking"
WARNING: Level = "warning"
INFO: Level = "info"
LEVELS: dict[str, Level] = {
    "object_removed": BREAKING,
    "object_added": INFO,
    "object_renamed": WARNING,
    "property_removed": BREAKING,
    "property_added": INFO,
    "property_added_required": BREAKING,
    "property_renamed": WARNING,
    "physical_name_changed": BREAKING,
    "required_tightened": BREAKING,
    "required_relaxed": INFO,
    "unique_tightened": BREAKING,
    "unique_relaxed": INFO,
    "primary_key_changed": WARNING,
    "type_widened": INFO,
    "type_narrowed": BREAKING,
    "type_changed": BREAKING,
    "physical_type_alias": INFO,
    "type_added": INFO,
    "type_removed": WARNING,
    "max_length_tightened": BREAKING,
    "max_length_relaxed": INFO,
    "min_length_raised": BREAKING,
    "min_length_lowered": INFO,
    "range_tightened": BREAKING,
    "range_relaxed": INFO,
    "pattern_added": BREAKING,
    "pattern_changed": BREAKING,
    "pattern_removed": INFO,
    "format_changed": WARNING,
    "enum_added": BREAKING,
    "enum_removed": INFO,
    "enum_value_removed": BREAKING,
    "enum_value_added": INFO,
    "quality_rule_added": BREAKING,
    "quality_rule_tightened": BREAKING,
    "quality_rule_changed": BREAKING,
    "quality_rule_removed": INFO,
    "quality_rule_relaxed": INFO,
    "sla_tightened": WARNING,
    "sla_added": WARNING,
    "sla_relaxed": INFO,
    "sla_removed": INFO,
    "sla_unit_equivalent": INFO,
    "sla_changed": INFO,
    "description_changed": INFO,
    "tags_changed": INFO,
    "field_changed": INFO,
}
# Keys that never make a change: bookkeeping of the document rather than promises about the data.
_IGNORED_TOP_LEVEL = {"version", "status", "contractCreatedTs", "apiVersion", "kind"}
_DESCRIPTIONS = {"description", "businessName", "dataGranularityDescription"}
_TYPE_KINDS: dict[TypeChange, str] = {
    "widened": "type_widened",
    "narrowed": "type_narrowed",
    "changed": "type_changed",
    "alias": "physical_type_alias",
}


@dataclass(frozen=True)
class Change:
    """One difference between two versions: where (`path`), what (`kind`), how bad (`level`), and the values."""

    path: str
    kind: str
    level: Level
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data (YAML dates and the like become text)."""
        values = json.loads(json.dumps({"before": self.before, "after": self.after}, default=str))
        return {"path": self.path, "kind": self.kind, "level": self.level, **values}


def verdict(changes: Iterable[Change]) -> Verdict:
    """Breaking when at least one change is; warnings and info never are."""
    return "breaking" if any(change.level == BREAKING for change in changes) else "non_breaking"


def contract_changes(old: dict, new: dict) -> list[Change]:
    """Every change from `old` to `new` (both parsed ODCS YAML), in document order."""
    diff = _Diff()
    diff.top_level(without_defaults(old), without_defaults(new))
    return diff.changes


@dataclass
class _Diff:
    changes: list[Change] = field(default_factory=list)

    def add(self, path: str, kind: str, before: Any = None, after: Any = None) -> None:
        self.changes.append(Change(path=path, kind=kind, level=LEVELS[kind], before=before, after=after))

    def top_level(self, old: dict, new: dict) -> None:
        for key in union_keys(old, new):
            if key in _IGNORED_TOP_LEVEL or old.get(key) == new.get(key):
                continue
            if key == "schema":
                self.objects(mappings(old.get(key)), mappings(new.get(key)))
            elif key == "slaProperties":
                self.service_levels(mappings(old.get(key)), mappings(new.get(key)))
            elif key == "description" and isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                for part in union_keys(old[key], new[key]):
                    if old[key].get(part) != new[key].get(part):
                        self.add(f"description.{part}", "description_changed", old[key].get(part), new[key].get(part))
            else:
                self.plain_field(key, key, old.get(key), new.get(key))

    def plain_field(self, path: str, key: str, before: Any, after: Any) -> None:
        if key == "tags":
            if as_set(before) != as_set(after):
                self.add(path, "tags_changed", before, after)
        elif before != after:
            self.add(path, "description_changed" if key in _DESCRIPTIONS else "field_changed", before, after)

    def objects(self, old: list[dict], new: list[dict]) -> None:
        pairs, removed, added = pair_elements(old, new, lambda item: str(item.get("name", "")))
        for item in removed:
            self.add(f"schema[{item.get('name')}]", "object_removed", before=item.get("name"))
        for before, after in pairs:
            self.schema_object(f"schema[{before.get('name')}]", before, after)
        for item in added:
            self.add(f"schema[{item.get('name')}]", "object_added", after=item.get("name"))

    def schema_object(self, path: str, old: dict, new: dict) -> None:
        for key in union_keys(old, new):
            before, after = old.get(key), new.get(key)
            if key in ("id", "physicalName") or before == after:
                continue
            if key == "name":
                self.add(f"{path}.name", "object_renamed", before, after)
            elif key == "properties":
                self.properties(path, mappings(before), mappings(after))
            elif key == "quality":
                self.quality(path, mappings(before), mappings(after))
            else:
                self.plain_field(f"{path}.{key}", key, before, after)
        self.physical_name(path, old, new)

    def physical_name(self, path: str, old: dict, new: dict) -> None:
        """The warehouse name, which defaults to `name`: moving the data elsewhere breaks every reader."""
        before, after = old.get("physicalName") or old.get("name"), new.get("physicalName") or new.get("name")
        if ("physicalName" in old or "physicalName" in new) and before != after:
            self.add(f"{path}.physicalName", "physical_name_changed", before, after)

    def properties(self, path: str, old: list[dict], new: list[dict]) -> None:
        pairs, removed, added = pair_elements(old, new, lambda item: str(item.get("name", "")))
        for item in removed:
            self.add(f"{path}.properties[{item.get('name')}]", "property_removed", before=item.get("name"))
        for before, after in pairs:
            self.column(f"{path}.properties[{before.get('name')}]", before, after)
        for item in added:
            kind = "property_added_required" if item.get("required") is True else "property_added"
            self.add(f"{path}.properties[{item.get('name')}]", kind, after=item.get("name"))

    def column(self, path: str, old: dict, new: dict) -> None:
        for key in union_keys(old, new):
            before, after = old.get(key), new.get(key)
            if key in ("id", "physicalName", "primaryKeyPosition") or before == after:
                continue
            match key:
                case "name":
                    self.add(f"{path}.name", "property_renamed", before, after)
                case "logicalType" | "physicalType":
                    self.column_type(f"{path}.{key}", key, before, after)
                case "required" | "unique":
                    self.add(f"{path}.{key}", f"{key}_{'tightened' if after else 'relaxed'}", before, after)
                case "primaryKey":
                    self.add(f"{path}.primaryKey", "primary_key_changed", before, after)
                case "logicalTypeOptions":
                    self.type_options(f"{path}.logicalTypeOptions", before or {}, after or {})
                case "enum":
                    self.allowed_values(f"{path}.enum", before, after, introduced="enum_added", dropped="enum_removed")
                case "quality":
                    self.quality(path, mappings(before), mappings(after))
                case "properties":
                    self.properties(path, mappings(before), mappings(after))
                case "items" if isinstance(before, dict) and isinstance(after, dict):
                    self.column(f"{path}.items", before, after)
                case _:
                    self.plain_field(f"{path}.{key}", key, before, after)
        moved_in_key = old.get("primaryKeyPosition", -1) != new.get("primaryKeyPosition", -1)
        if old.get("primaryKey") and new.get("primaryKey") and moved_in_key:
            self.add(
                f"{path}.primaryKeyPosition",
                "primary_key_changed",
                old.get("primaryKeyPosition"),
                new.get("primaryKeyPosition"),
            )
        self.physical_name(path, old, new)

    def column_type(self, path: str, key: str, before: Any, after: Any) -> None:
        """Logical and physical types are compared separately; a change to both lists both."""
        if before is None or after is None:
            self.add(path, "type_added" if before is None else "type_removed", before, after)
            return
        compare = logical_type_change if key == "logicalType" else type_change
        change = compare(str(before), str(after))
        if change != "same" and not (change == "alias" and key == "logicalType"):
            self.add(path, _TYPE_KINDS[change], before, after)

    def type_options(self, path: str, old: dict, new: dict) -> None:
        for key in union_keys(old, new):
            before, after = old.get(key), new.get(key)
            if before == after or key in ("exclusiveMinimum", "exclusiveMaximum"):
                continue
            where = f"{path}.{key}"
            if key in ("maxLength", "maxItems", "minLength", "minItems"):
                upper = key.startswith("max")
                tighter = after is not None and (before is None or (after < before if upper else after > before))
                kinds = {
                    "maxLength": ("max_length_tightened", "max_length_relaxed"),
                    "minLength": ("min_length_raised", "min_length_lowered"),
                }.get(key, ("range_tightened", "range_relaxed"))
                self.add(where, kinds[0] if tighter else kinds[1], before, after)
            elif key == "pattern":
                kind = "pattern_added" if before is None else "pattern_removed" if after is None else "pattern_changed"
                self.add(where, kind, before, after)
            elif key == "uniqueItems":
                self.add(where, "unique_tightened" if after else "unique_relaxed", before, after)
            elif key == "multipleOf":
                looser = after is None or _divides(after, before)
                self.add(where, "range_relaxed" if looser else "range_tightened", before, after)
            elif key not in ("minimum", "maximum"):
                self.add(where, "format_changed", before, after)
        for bound in ("minimum", "maximum"):
            self.range_bound(path, bound, old, new)

    def range_bound(self, path: str, bound: str, old: dict, new: dict) -> None:
        """A lower or upper bound, inclusive (`minimum`) or exclusive (`exclusiveMinimum`, or v3.0's boolean flag)."""
        before, after = bound_of(old, bound), bound_of(new, bound)
        if before == after:
            return
        key = after[0] if after is not None else before[0] if before is not None else bound
        if after is None or before is None:
            tighter = after is not None
        else:
            try:
                moved = after[1] > before[1] if bound == "minimum" else after[1] < before[1]
                tighter = moved or (after[1] == before[1] and after[2] and not before[2])
            except TypeError:  # a number became a date or the like: no order, so no promise kept
                tighter = True
        values = (before[1] if before else None, after[1] if after else None)
        self.add(f"{path}.{key}", "range_tightened" if tighter else "range_relaxed", *values)

    def allowed_values(self, path: str, before: Any, after: Any, *, introduced: str, dropped: str) -> None:
        if before is None or after is None:
            self.add(path, introduced if before is None else dropped, before, after)
            return
        old_values, new_values = as_set(before), as_set(after)
        if old_values - new_values:
            self.add(path, "enum_value_removed", before, after)
        if new_values - old_values:
            self.add(path, "enum_value_added", before, after)

    def quality(self, path: str, old: list[dict], new: list[dict]) -> None:
        pairs, removed, added = pair_elements(keyed_rules(old), keyed_rules(new), lambda rule: rule["_key"])
        for rule in removed:
            self.add(f"{path}.quality[{rule['_key']}]", "quality_rule_removed", before=shown(rule))
        for before, after in pairs:
            self.quality_rule(f"{path}.quality[{before['_key']}]", before, after)
        for rule in added:
            self.add(f"{path}.quality[{rule['_key']}]", "quality_rule_added", after=shown(rule))

    def quality_rule(self, path: str, old: dict, new: dict) -> None:
        for key in ("metric", "type", "query"):
            if _squash(old.get(key)) != _squash(new.get(key)):
                self.add(f"{path}.{key}", "quality_rule_changed", old.get(key), new.get(key))
        operator = rule_operator(old) or rule_operator(new) or "threshold"
        strictness = threshold_strictness(old, new)
        if strictness != "same":
            limits = shown(old, only_thresholds=True), shown(new, only_thresholds=True)
            self.add(f"{path}.{operator}", f"quality_rule_{strictness}", *limits)
        old_args, new_args = rule_arguments(old), rule_arguments(new)
        for key in union_keys(old_args, new_args):
            before, after = old_args.get(key), new_args.get(key)
            where = f"{path}.arguments.{key}"
            if before == after:
                continue
            if key == "validValues":
                self.allowed_values(where, before, after, introduced="enum_added", dropped="enum_removed")
            elif key == "pattern":
                kind = "pattern_added" if before is None else "pattern_removed" if after is None else "pattern_changed"
                self.add(where, kind, before, after)
            elif key in ("missingValues", "properties"):
                # more values that count as missing, or a shorter composite key, find more failures
                stricter = as_set(after) > as_set(before) if key == "missingValues" else as_set(after) < as_set(before)
                looser = as_set(after) < as_set(before) if key == "missingValues" else as_set(after) > as_set(before)
                self.add(
                    where,
                    "quality_rule_relaxed" if looser and not stricter else "quality_rule_tightened",
                    before,
                    after,
                )
            else:
                self.add(where, "field_changed", before, after)
        self.severity(path, old, new)
        handled = {"metric", "type", "query", "unit", "arguments", "severity", "_key", "id", "validValues"}
        for key in union_keys(old, new):
            if key not in handled and not key.startswith("must") and old.get(key) != new.get(key):
                self.plain_field(f"{path}.{key}", key, old.get(key), new.get(key))

    def severity(self, path: str, old: dict, new: dict) -> None:
        """A rule whose failures were only warnings becomes a failure, or the reverse."""
        before, after = old.get("severity"), new.get("severity")
        if before == after:
            return
        was_warning, is_warning = _is_warning(before), _is_warning(after)
        if was_warning == is_warning:
            self.add(f"{path}.severity", "field_changed", before, after)
        else:
            self.add(
                f"{path}.severity", "quality_rule_relaxed" if is_warning else "quality_rule_tightened", before, after
            )

    def service_levels(self, old: list[dict], new: list[dict]) -> None:
        pairs, removed, added = pair_elements(old, new, sla_key(old + new))
        for item in removed:
            self.add(f"slaProperties[{item.get('property')}]", "sla_removed", before=shown(item))
        for before, after in pairs:
            path = f"slaProperties[{before.get('property')}]"
            strictness = sla_strictness(str(before.get("property", "")), before, after)
            if strictness != "same":
                kind = "sla_unit_equivalent" if strictness == "equivalent" else f"sla_{strictness}"
                self.add(f"{path}.value", kind, _duration_text(before), _duration_text(after))
            for key in union_keys(before, after):
                if key not in ("id", "value", "unit") and before.get(key) != after.get(key):
                    self.plain_field(f"{path}.{key}", key, before.get(key), after.get(key))
        for item in added:
            self.add(f"slaProperties[{item.get('property')}]", "sla_added", after=shown(item))


def _duration_text(entry: dict) -> str:
    return f"{entry.get('value')} {entry.get('unit') or ''}".strip()


def _squash(value: Any) -> Any:
    """SQL and other text compared without its layout."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _is_warning(severity: Any) -> bool:
    return str(severity or "").lower() in WARNING_SEVERITIES


def _divides(new: Any, old: Any) -> bool:
    try:
        return bool(new) and old is not None and float(old) % float(new) == 0
    except (TypeError, ValueError):
        return False
