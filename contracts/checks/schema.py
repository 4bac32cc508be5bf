"""Schema drift: a table's observed columns against its contract (removed, retyped) and against the schema the
previous check observed (added, renamed). Types are compared after normalisation, so `int4` = `integer` and
`timestamp` = `timestamp without time zone`; a warehouse type that differs in any other way is a change."""

from dataclasses import asdict, dataclass

from contracts.odcs.model import SchemaObject
from contracts.odcs.types import type_change


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # removed, retyped, added, renamed
    column: str
    before: str | None
    after: str | None
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _by_name(columns: list[dict]) -> dict[str, dict]:
    return {str(c["name"]).lower(): c for c in columns}


def schema_changes(obj: SchemaObject, observed: list[dict], previous: list[dict] | None) -> list[SchemaChange]:
    now = _by_name(observed)
    before: dict[str, dict] = _by_name(previous) if previous else {}
    changes: list[SchemaChange] = []
    renamed_from: dict[str, str] = {}
    if before:
        gone = [c for name, c in before.items() if name not in now]
        new = [c for name, c in now.items() if name not in before]
        for old in gone:
            match = next(
                (c for c in new if c.get("position") == old.get("position") and _same_type(old["type"], c["type"])),
                None,
            )
            if match is not None:
                new.remove(match)
                renamed_from[str(old["name"]).lower()] = match["name"]
                changes.append(
                    SchemaChange(
                        "renamed",
                        old["name"],
                        old["name"],
                        match["name"],
                        f"column {old['name']} was renamed to {match['name']}",
                    )
                )
        for column in new:
            changes.append(
                SchemaChange(
                    "added",
                    column["name"],
                    None,
                    column["type"],
                    f"column {column['name']} ({column['type']}) appeared",
                )
            )
    for prop in obj.properties:
        name = prop.physical_name.lower()
        seen = now.get(name)
        if seen is None:
            if name not in renamed_from:
                was = before.get(name, {}).get("type") or prop.physical_type
                changes.append(
                    SchemaChange("removed", prop.physical_name, was, None, f"column {prop.physical_name} is missing")
                )
            continue
        if prop.physical_type and not _same_type(prop.physical_type, seen["type"]):
            changes.append(
                SchemaChange(
                    "retyped",
                    prop.physical_name,
                    prop.physical_type,
                    seen["type"],
                    f"column {prop.physical_name} is {seen['type']}, the contract says {prop.physical_type}",
                )
            )
    return changes


def _same_type(first: str, second: str) -> bool:
    return type_change(str(first), str(second)) in ("same", "alias")
