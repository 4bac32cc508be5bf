"""What a contract asks of a table, as clauses: one measurable statement each (a count, a maximum, a query's
number) with the threshold it must meet. Clauses come from the contract's property definitions (required, unique,
primary key, enum, length, pattern, range), its quality rules (library metrics and SQL) and its freshness SLA.
`contracts.checks.sql` turns the single-column ones of a table into one aggregate query."""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from contracts.odcs.model import Contract, Number, Property, QualityRule, SchemaObject, Threshold


class Measure(StrEnum):
    ROW_COUNT = "row_count"
    NULLS = "nulls"  # rows where the column is null
    MISSING = "missing"  # rows where the column is null or one of the listed "missing" values
    INVALID = "invalid"  # non-null rows breaking the validity predicate (values, pattern, length, range)
    DUPLICATES = "duplicates"  # non-null rows beyond the first of each value: count(col) - count(distinct col)
    KEY_DUPLICATES = "key_duplicates"  # rows beyond the first of each composite-key tuple
    FRESHNESS = "freshness"  # seconds since max(column)
    SQL = "sql"  # the number a SQL rule's query returns


#: Measures taken by the one aggregate scan of a table.
SCAN_MEASURES = frozenset({Measure.ROW_COUNT, Measure.NULLS, Measure.MISSING, Measure.INVALID, Measure.DUPLICATES})
ZERO = Threshold(operator="mustBe", value=0)


@dataclass(frozen=True)
class Validity:
    """What a valid (non-null) value is: one of `values`, matching `pattern`, within the length bounds, within the
    range. Bounds are numbers or ISO date/timestamp strings (compared as the column's type)."""

    values: tuple[object, ...] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: Number | str | None = None
    maximum: Number | str | None = None
    exclusive_minimum: Number | str | None = None
    exclusive_maximum: Number | str | None = None

    def describe(self) -> str:
        parts = []
        if self.values is not None:
            shown = ", ".join(repr(v) for v in self.values[:8]) + (", …" if len(self.values) > 8 else "")
            parts.append(f"one of {shown}")
        if self.pattern is not None:
            parts.append(f"matching {self.pattern}")
        if self.min_length is not None or self.max_length is not None:
            parts.append(f"length {self.min_length or 0}..{'' if self.max_length is None else self.max_length}")
        for label, bound in (
            ("≥", self.minimum),
            ("≤", self.maximum),
            (">", self.exclusive_minimum),
            ("<", self.exclusive_maximum),
        ):
            if bound is not None:
                parts.append(f"{label} {bound}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Clause:
    """One thing to measure on one table, and the threshold the measure must meet. `key` is stable across checks
    (it names the violation and groups repeats): `<object>.<rule>` or `<object>.<property>.<rule>`."""

    key: str
    schema_object: str
    measure: Measure
    threshold: Threshold
    label: str  # what is promised, in words, for pages and messages
    column: str | None = None  # physical column name
    property_name: str | None = None  # contract property name
    logical_type: str | None = None
    unit: str = "rows"
    warning: bool = False  # a failure is a warning (ODCS severity info/warning/low...), not a violation
    severity: str = ""  # the rule's ODCS severity, as written
    validity: Validity | None = None
    missing_values: tuple[object, ...] = ()
    key_columns: tuple[str, ...] = ()  # KEY_DUPLICATES
    max_age_seconds: float | None = None  # FRESHNESS
    query: str | None = None  # SQL, placeholders substituted
    masked: bool = False  # sample values of this column are never shown
    line: int = 0

    @property
    def in_scan(self) -> bool:
        return self.measure in SCAN_MEASURES


def table_clauses(contract: Contract, obj: SchemaObject, *, freshness: dict[str, float]) -> list[Clause]:
    """Every clause of one schema object. `freshness` maps a property name to the longest age (seconds) its
    newest value may have (from the contract's freshness/latency SLA whose element is this object)."""
    clauses: list[Clause] = []
    for prop in obj.properties:
        clauses.extend(_property_clauses(obj, prop))
        for rule in prop.quality:
            clause = _rule_clause(obj, rule, prop)
            if clause is not None:
                clauses.append(clause)
    keys = obj.primary_key
    if len(keys) > 1:
        columns = tuple(p.physical_name for p in keys)
        clauses.append(
            Clause(
                key=f"{obj.name}.primaryKey",
                schema_object=obj.name,
                measure=Measure.KEY_DUPLICATES,
                threshold=ZERO,
                label=f"primary key ({', '.join(p.name for p in keys)}) is unique",
                key_columns=columns,
                masked=any(p.masked for p in keys),
                line=obj.line,
            )
        )
    for rule in obj.quality:
        clause = _rule_clause(obj, rule, None)
        if clause is not None:
            clauses.append(clause)
    for name, seconds in freshness.items():
        fresh = obj.property_named(name)
        if fresh is not None:
            clauses.append(
                Clause(
                    key=f"{obj.name}.{name}.freshness",
                    schema_object=obj.name,
                    measure=Measure.FRESHNESS,
                    threshold=Threshold(operator="mustBeLessOrEqualTo", value=seconds),
                    label=f"newest {name} at most {_duration(seconds)} old",
                    column=fresh.physical_name,
                    property_name=name,
                    logical_type=fresh.logical_type,
                    max_age_seconds=seconds,
                    line=fresh.line,
                )
            )
    return _unique_keys(clauses)


def _property_clauses(obj: SchemaObject, prop: Property) -> list[Clause]:
    """The promises a property makes by its definition alone."""
    base: dict[str, Any] = {
        "schema_object": obj.name,
        "column": prop.physical_name,
        "property_name": prop.name,
        "logical_type": prop.logical_type,
        "masked": prop.masked,
        "line": prop.line,
    }
    clauses = []
    single_key = prop.primary_key and len(obj.primary_key) == 1
    if prop.required or prop.primary_key:
        clauses.append(
            Clause(
                key=f"{obj.name}.{prop.name}.required",
                measure=Measure.NULLS,
                threshold=ZERO,
                label=f"{prop.name} is never null",
                **base,
            )
        )
    if prop.unique or single_key:
        clauses.append(
            Clause(
                key=f"{obj.name}.{prop.name}.unique",
                measure=Measure.DUPLICATES,
                threshold=ZERO,
                label=f"{prop.name} is unique",
                **base,
            )
        )
    if prop.enum is not None:
        validity = Validity(values=prop.enum)
        clauses.append(_invalid(f"{obj.name}.{prop.name}.enum", validity, prop.name, base))
    if prop.pattern is not None:
        validity = Validity(pattern=prop.pattern)
        clauses.append(_invalid(f"{obj.name}.{prop.name}.pattern", validity, prop.name, base))
    if prop.min_length is not None or prop.max_length is not None:
        validity = Validity(min_length=prop.min_length, max_length=prop.max_length)
        clauses.append(_invalid(f"{obj.name}.{prop.name}.length", validity, prop.name, base))
    bounds = (prop.minimum, prop.maximum, prop.exclusive_minimum, prop.exclusive_maximum)
    if any(bound is not None for bound in bounds):
        validity = Validity(
            minimum=prop.minimum,
            maximum=prop.maximum,
            exclusive_minimum=prop.exclusive_minimum,
            exclusive_maximum=prop.exclusive_maximum,
        )
        clauses.append(_invalid(f"{obj.name}.{prop.name}.range", validity, prop.name, base))
    return clauses


def _invalid(key: str, validity: Validity, name: str, base: dict[str, Any]) -> Clause:
    return Clause(
        key=key,
        measure=Measure.INVALID,
        threshold=ZERO,
        label=f"{name} is {validity.describe()}",
        validity=validity,
        **base,
    )


def _rule_clause(obj: SchemaObject, rule: QualityRule, prop: Property | None) -> Clause | None:
    """A quality rule as a clause; None for rules AIMS records but does not run (text, custom)."""
    if rule.threshold is None:
        return None
    where = f"{obj.name}.{prop.name}" if prop is not None else obj.name
    common: dict[str, Any] = {
        "key": f"{where}.{rule.key}",
        "schema_object": obj.name,
        "threshold": rule.threshold,
        "unit": rule.unit,
        "warning": rule.is_warning,
        "severity": rule.severity,
        "line": rule.line,
    }
    column: dict[str, Any] = (
        {
            "column": prop.physical_name,
            "property_name": prop.name,
            "logical_type": prop.logical_type,
            "masked": prop.masked,
        }
        if prop is not None
        else {}
    )
    subject = prop.name if prop is not None else obj.name
    if rule.type == "sql" and rule.query:
        query = rule.query.replace("{object}", obj.physical_name)
        if prop is not None:
            query = query.replace("{property}", prop.physical_name)
        return Clause(measure=Measure.SQL, label=rule.description or f"SQL rule {rule.key}", query=query, **common)
    match rule.metric:
        case "rowCount":
            return Clause(measure=Measure.ROW_COUNT, label="row count", **common)
        case "nullValues" if prop is not None:
            return Clause(measure=Measure.NULLS, label=f"null {subject}", **common, **column)
        case "missingValues" if prop is not None:
            missing = rule.missing_values if rule.missing_values is not None else (None, "")
            return Clause(
                measure=Measure.MISSING,
                label=f"missing {subject}",
                missing_values=tuple(v for v in missing if v is not None),
                **common,
                **column,
            )
        case "invalidValues" if prop is not None:
            validity = Validity(values=rule.valid_values, pattern=rule.pattern)
            return Clause(
                measure=Measure.INVALID,
                label=f"{subject} is {validity.describe()}",
                validity=validity,
                **common,
                **column,
            )
        case "duplicateValues" if prop is not None:
            return Clause(measure=Measure.DUPLICATES, label=f"duplicate {subject}", **common, **column)
        case "duplicateValues" if rule.properties:
            props = [obj.property_named(name) for name in rule.properties]
            columns = tuple(p.physical_name if p else name for p, name in zip(props, rule.properties, strict=True))
            return Clause(
                measure=Measure.KEY_DUPLICATES,
                label=f"duplicate ({', '.join(rule.properties)})",
                key_columns=columns,
                masked=any(p is not None and p.masked for p in props),
                **common,
            )
    return None


def _unique_keys(clauses: list[Clause]) -> list[Clause]:
    """Keys made unique within a table (a property may carry two rules of one metric without ids)."""
    seen: dict[str, int] = {}
    result = []
    for clause in clauses:
        count = seen.get(clause.key, 0) + 1
        seen[clause.key] = count
        if count > 1:
            clause = replace(clause, key=f"{clause.key}_{count}")
        result.append(clause)
    return result


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
