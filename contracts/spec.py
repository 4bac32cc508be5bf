"""The data-contract YAML format and its validation, with errors that name the line and the field."""

import re
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"


class ContractSpecError(ValueError):
    """The YAML is not a valid contract; `errors` holds one message per problem, each naming line and field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    name: Annotated[str, Field(pattern=f"^{IDENTIFIER}$")]
    type: str | None = None
    nullable: StrictBool = True
    unique: StrictBool = False
    min: float | None = None
    max: float | None = None
    allowed_values: list[str | int | float] | None = None
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _range_ordered(self) -> "ColumnSpec":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class FreshnessSpec(_Strict):
    column: Annotated[str, Field(pattern=f"^{IDENTIFIER}$")]
    max_age_minutes: Annotated[int, Field(gt=0)]


class RowCountSpec(_Strict):
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> "RowCountSpec":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class ContractSpec(_Strict):
    table: Annotated[str, Field(pattern=f"^{IDENTIFIER}(\\.{IDENTIFIER})?$")]
    description: str = ""
    columns: Annotated[list[ColumnSpec], Field(min_length=1)]
    freshness: FreshnessSpec | None = None
    row_count: RowCountSpec | None = None

    @field_validator("columns")
    @classmethod
    def _column_names_unique(cls, columns: list[ColumnSpec]) -> list[ColumnSpec]:
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise ValueError(f"column {column.name!r} is listed twice")
            seen.add(column.name)
        return columns


def parse_contract(yaml_text: str) -> dict[str, Any]:
    """Parse and validate contract YAML; return the spec as plain data or raise ContractSpecError."""
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ContractSpecError([f"{where}invalid YAML: {getattr(exc, 'problem', None) or exc}"]) from exc
    if not isinstance(data, dict):
        raise ContractSpecError(["line 1: the contract must be a mapping with table and columns"])
    assert node is not None  # a document that holds a mapping has a root node
    try:
        return ContractSpec.model_validate(data).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise ContractSpecError([_describe(error, node) for error in exc.errors()]) from exc


def _describe(error: ErrorDetails, root: yaml.Node) -> str:
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "contract"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field is missing"
    return f"line {_line_of(root, loc)}, {path}: {message}"


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest key or item the error location reaches (the parent, for a missing key)."""
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            entry = next(((key, value) for key, value in node.value if key.value == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1
