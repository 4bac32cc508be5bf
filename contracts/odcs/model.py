"""A validated ODCS v3 contract as the checks and pages use it: plain frozen dataclasses built from the parsed YAML
(`contracts.odcs.parse`), holding only what AIMS acts on. The stored spec is the parsed YAML itself; this model is
rebuilt from it whenever it is needed."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, get_args

Number = int | float | Decimal
Operator = Literal[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
]
#: The operators in the standard's order: six single-value comparisons, then the two (exclusive) ranges.
OPERATORS: tuple[Operator, ...] = get_args(Operator)
Metric = Literal["nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"]
Unit = Literal["rows", "percent"]
#: ODCS severities that make a failed rule a warning rather than a failure (as datacontract-cli reads them).
WARNING_SEVERITIES = frozenset({"info", "warning", "warn", "low", "minor", "trivial"})
#: Classifications whose sample values are masked on pages, in evidence and in notifications.
MASKED_CLASSIFICATIONS = frozenset({"personal", "pii", "confidential", "restricted", "sensitive", "secret"})


@dataclass(frozen=True)
class Threshold:
    """One ODCS operator and its operand(s); `mustBeBetween` and `mustNotBeBetween` are exclusive of both bounds,
    as the standard defines them (the opposite of SQL's BETWEEN)."""

    operator: Operator
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None

    def holds(self, observed: Number) -> bool:
        match self.operator:
            case "mustBe":
                return observed == self.value
            case "mustNotBe":
                return observed != self.value
            case "mustBeGreaterThan":
                return observed > self.value  # type: ignore[operator]
            case "mustBeGreaterOrEqualTo":
                return observed >= self.value  # type: ignore[operator]
            case "mustBeLessThan":
                return observed < self.value  # type: ignore[operator]
            case "mustBeLessOrEqualTo":
                return observed <= self.value  # type: ignore[operator]
            case "mustBeBetween":
                return self.low < observed < self.high  # type: ignore[operator]
            case "mustNotBeBetween":
                return not (self.low < observed < self.high)  # type: ignore[operator]
        raise ValueError(f"unknown operator {self.operator}")


@dataclass(frozen=True)
class QualityRule:
    """A `quality[]` entry of an object or a property. `key` names it in paths, violations and incidents: its `id`,
    else its `name`, else its metric (made unique within its element by the parser)."""

    key: str
    type: Literal["library", "sql", "text", "custom"]
    threshold: Threshold | None  # None for text and custom rules, which AIMS records but does not run
    metric: Metric | None = None
    unit: Unit = "rows"
    severity: str = ""
    description: str = ""
    valid_values: tuple[object, ...] | None = None  # invalidValues: the allowed values
    pattern: str | None = None  # invalidValues: a regular expression every value must match
    missing_values: tuple[object, ...] | None = None  # missingValues: the values that count as missing
    properties: tuple[str, ...] = ()  # duplicateValues on an object: the composite key (property names)
    query: str | None = None  # sql rules: one SELECT returning one number, with {object}/{property} substituted
    line: int = 0  # 1-based line of the rule in the YAML, for messages

    @property
    def is_warning(self) -> bool:
        return self.severity.lower() in WARNING_SEVERITIES


@dataclass(frozen=True)
class Property:
    """A column. `physical_name` is the column's name in the warehouse (defaults to `name`)."""

    name: str
    physical_name: str
    id: str | None = None
    logical_type: str | None = None
    physical_type: str | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    primary_key_position: int = -1
    partitioned: bool = False
    classification: str | None = None
    enum: tuple[object, ...] | None = None  # ODCS 3.2 `enum`
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: Number | str | None = None  # a number, or an ISO date/timestamp for date and timestamp columns
    maximum: Number | str | None = None
    exclusive_minimum: Number | str | None = None
    exclusive_maximum: Number | str | None = None
    quality: tuple[QualityRule, ...] = ()
    properties: tuple["Property", ...] = ()  # nested columns of an `object` property (not checked as columns)
    line: int = 0

    @property
    def masked(self) -> bool:
        """Whether sample values of this column must never be shown (its classification is personal/secret)."""
        return (self.classification or "").lower() in MASKED_CLASSIFICATIONS


@dataclass(frozen=True)
class SchemaObject:
    """A table or view. `physical_name` is its name in the warehouse, optionally schema-qualified."""

    name: str
    physical_name: str
    id: str | None = None
    physical_type: str | None = None
    properties: tuple[Property, ...] = ()
    quality: tuple[QualityRule, ...] = ()
    line: int = 0

    def property_named(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def primary_key(self) -> tuple[Property, ...]:
        keys = [p for p in self.properties if p.primary_key]
        return tuple(sorted(keys, key=lambda p: (p.primary_key_position < 0, p.primary_key_position)))


@dataclass(frozen=True)
class ServiceLevel:
    """An `slaProperties[]` entry. Only freshness/latency with an `element` of `table.column` is checked; the
    others are shown on the contract page."""

    property: str
    value: object
    unit: str | None = None
    element: str | None = None  # "object.property" (ODCS writes it as table.column)
    driver: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Server:
    server: str
    type: str
    environment: str | None = None
    host: str | None = None
    database: str | None = None
    catalog: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class Contract:
    id: str
    version: str
    api_version: str
    status: str
    name: str = ""
    domain: str = ""
    objects: tuple[SchemaObject, ...] = ()
    service_levels: tuple[ServiceLevel, ...] = ()
    servers: tuple[Server, ...] = ()
    tags: tuple[str, ...] = field(default=())

    def object_named(self, name: str) -> SchemaObject | None:
        return next((o for o in self.objects if o.name == name), None)
