"""Column types as contracts and warehouses spell them (PostgreSQL, Databricks/Spark SQL, generic SQL), reduced to a
comparable form, and the widening order between them. Used to classify contract changes and to compare observed
warehouse columns with a contract (schema drift)."""

import re
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp
from sqlglot.errors import SqlglotError

Family = Literal["integer", "decimal", "float", "string", "boolean", "date", "timestamp", "time", "binary", "other"]
TypeChange = Literal["same", "alias", "widened", "narrowed", "changed"]

_T = exp.DataType.Type
# Integer widths in bytes; the decimal digits each one holds decide whether a decimal can take its values.
_INTEGER_RANK = {
    _T.TINYINT: 1,
    _T.UTINYINT: 1,
    _T.SMALLINT: 2,
    _T.USMALLINT: 2,
    _T.SMALLSERIAL: 2,
    _T.MEDIUMINT: 3,
    _T.INT: 4,
    _T.UINT: 4,
    _T.SERIAL: 4,
    _T.BIGINT: 8,
    _T.UBIGINT: 8,
    _T.BIGSERIAL: 8,
    _T.INT128: 16,
    _T.UINT128: 16,
}
_INTEGER_DIGITS = {1: 3, 2: 5, 3: 7, 4: 10, 8: 19, 16: 39}
_FLOAT_RANK = {_T.FLOAT: 4, _T.DOUBLE: 8}
_DECIMAL = {_T.DECIMAL, _T.BIGDECIMAL, _T.UDECIMAL, _T.MONEY, _T.SMALLMONEY}
_STRING_VARYING = {_T.VARCHAR, _T.NVARCHAR, _T.TEXT, _T.NAME, _T.MEDIUMTEXT, _T.LONGTEXT, _T.TINYTEXT}
_STRING_FIXED = {_T.CHAR, _T.NCHAR, _T.BPCHAR}
_BINARY = {_T.BINARY, _T.VARBINARY, _T.BLOB, _T.MEDIUMBLOB, _T.LONGBLOB, _T.TINYBLOB}
_TIMESTAMP_WITH_ZONE = {_T.TIMESTAMPTZ, _T.TIMESTAMPLTZ}
_TIMESTAMP_LOCAL = {_T.TIMESTAMP, _T.TIMESTAMPNTZ, _T.DATETIME, _T.DATETIME64, _T.TIMESTAMP_S, _T.TIMESTAMP_MS}
# Spellings the SQL dialects leave to chance: `int8` is a bigint in PostgreSQL but a tinyint elsewhere, and
# `long`/`short`/`byte` only exist in Spark. ODCS logical types are spelt as their widest physical counterpart, so
# that `integer` -> `number` widens and `number` -> `integer` narrows.
_SPELLINGS = {
    "int8": "bigint",
    "long": "bigint",
    "short": "smallint",
    "byte": "tinyint",
    "number": "numeric",
    "datetime2": "timestamp",
    "timestamp_ntz": "timestamp",
}
LOGICAL_TYPE_SPELLINGS = {
    "integer": "bigint",
    "number": "numeric",
    "string": "text",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "time": "time",
}


@dataclass(frozen=True)
class TypeSpec:
    """A column type reduced to what decides which values fit. None means unbounded (or unknown, for ranks)."""

    family: Family
    name: str  # canonical spelling, e.g. "DECIMAL(12, 2)", "VARCHAR(18)", "ARRAY<TEXT>"
    rank: int | None = None  # integer/float width in bytes
    length: int | None = None  # string/binary maximum length
    fixed_length: bool = False  # char(n): padded to its length
    precision: int | None = None
    scale: int | None = None
    with_time_zone: bool | None = None


def normalise_type(text: str) -> TypeSpec:
    """The comparable form of a type as written in a contract or read from an information schema."""
    spelling = " ".join(text.strip().lower().split())
    spelling = _SPELLINGS.get(spelling, spelling)
    try:
        data_type = exp.DataType.build(spelling, dialect="postgres")
    except (SqlglotError, ValueError):
        try:
            data_type = exp.DataType.build(spelling, dialect="databricks")
        except (SqlglotError, ValueError):
            return TypeSpec(family="other", name=spelling.upper())
    return _spec_of(data_type)


def _spec_of(data_type: exp.DataType) -> TypeSpec:
    kind = data_type.this
    name = data_type.sql(dialect="postgres")
    params = [_int_param(e) for e in data_type.expressions]
    if kind in _INTEGER_RANK:
        return TypeSpec(family="integer", name=name, rank=_INTEGER_RANK[kind])
    if kind in _FLOAT_RANK:
        rank = _FLOAT_RANK[kind]
        if params and params[0] is not None:  # float(p): binary digits of precision, as in PostgreSQL
            rank = 4 if params[0] <= 24 else 8
        return TypeSpec(family="float", name=_FLOAT_NAME[rank], rank=rank)
    if kind in _DECIMAL:
        if kind in (_T.MONEY, _T.SMALLMONEY):
            return TypeSpec(family="decimal", name=name, precision=19 if kind == _T.MONEY else 10, scale=4)
        precision = params[0] if params else None
        scale = (params[1] if len(params) > 1 else 0) if precision is not None else None
        return TypeSpec(family="decimal", name=name, precision=precision, scale=scale)
    if kind in _STRING_VARYING:
        return TypeSpec(family="string", name=name, length=params[0] if params else None)
    if kind in _STRING_FIXED:
        length = params[0] if params else (None if kind == _T.BPCHAR else 1)
        return TypeSpec(family="string", name=name, length=length, fixed_length=length is not None)
    if kind in _BINARY:
        return TypeSpec(family="binary", name=name, length=params[0] if params else None)
    if kind in (_T.BOOLEAN, _T.BIT) and not params:
        return TypeSpec(family="boolean", name="BOOLEAN")
    if kind in (_T.DATE, _T.DATE32):
        return TypeSpec(family="date", name="DATE")
    if kind in _TIMESTAMP_WITH_ZONE or kind in _TIMESTAMP_LOCAL:
        zoned = kind in _TIMESTAMP_WITH_ZONE
        return TypeSpec(family="timestamp", name="TIMESTAMPTZ" if zoned else "TIMESTAMP", with_time_zone=zoned)
    if kind in (_T.TIME, _T.TIMETZ):
        zoned = kind == _T.TIMETZ
        return TypeSpec(family="time", name="TIMETZ" if zoned else "TIME", with_time_zone=zoned)
    return TypeSpec(family="other", name=name)


_FLOAT_NAME = {4: "REAL", 8: "DOUBLE PRECISION"}


def _int_param(node: exp.Expression) -> int | None:
    """A numeric type parameter; None for `max` and anything that is not a plain number."""
    match = re.fullmatch(r"\d+", node.sql().strip())
    return int(match.group()) if match else None


def type_change(old: str, new: str) -> TypeChange:
    """How a column's type changed, by the widening order: every value of a `widened` type fits the new one."""
    before, after = normalise_type(old), normalise_type(new)
    if before == after:
        return "same" if " ".join(old.split()).lower() == " ".join(new.split()).lower() else "alias"
    return _compare(before, after)


def logical_type_change(old: str, new: str) -> TypeChange:
    """The same order for ODCS logical types (integer -> number widens, timestamp -> date narrows)."""
    before, after = old.strip().lower(), new.strip().lower()
    if before == after:
        return "same" if old.strip() == new.strip() else "alias"
    if before not in LOGICAL_TYPE_SPELLINGS or after not in LOGICAL_TYPE_SPELLINGS:
        return "changed"
    return _compare(normalise_type(LOGICAL_TYPE_SPELLINGS[before]), normalise_type(LOGICAL_TYPE_SPELLINGS[after]))


def _compare(before: TypeSpec, after: TypeSpec) -> TypeChange:
    if before.family != after.family:
        return _compare_families(before, after)
    match before.family:
        case "integer" | "float":
            return _order(before.rank, after.rank)
        case "decimal":
            return _compare_decimals(before, after)
        case "string" | "binary":
            return _compare_lengths(before, after)
        case "timestamp" | "time" if before.with_time_zone != after.with_time_zone:
            return "changed"  # the same text means another instant once a zone is applied or dropped
    return "alias" if before.name == after.name else "changed"


def _order(before: int | None, after: int | None) -> TypeChange:
    if before == after:
        return "alias"
    if after is None or (before is not None and after > before):
        return "widened"
    return "narrowed"


def _compare_decimals(before: TypeSpec, after: TypeSpec) -> TypeChange:
    """A decimal widens when it keeps at least as many integer digits and as many fractional digits."""
    if after.precision is None:
        return "widened"
    if before.precision is None:
        return "narrowed"
    old_scale, new_scale = before.scale or 0, after.scale or 0
    integer_digits_kept = after.precision - new_scale >= before.precision - old_scale
    if integer_digits_kept and new_scale >= old_scale:
        return "widened"
    return "narrowed"


def _compare_lengths(before: TypeSpec, after: TypeSpec) -> TypeChange:
    if before.length == after.length:
        if before.fixed_length == after.fixed_length:
            return "alias"
        # char(n) -> varchar(n) keeps every value; the reverse pads values that were shorter
        return "widened" if before.fixed_length else "narrowed"
    return _order(before.length, after.length)


def _compare_families(before: TypeSpec, after: TypeSpec) -> TypeChange:
    if before.family == "integer":
        if after.family == "decimal":
            if after.precision is None:
                return "widened"
            digits = _INTEGER_DIGITS.get(before.rank or 8, 19)
            return "widened" if after.precision - (after.scale or 0) >= digits else "narrowed"
        if after.family == "float":
            # a double holds every int exactly and is what "integer to number" means; a real only small ints
            return "widened" if after.rank == 8 or (before.rank or 8) <= 2 else "narrowed"
    if after.family == "integer" and before.family in ("decimal", "float"):
        return "narrowed"
    if before.family == "timestamp" and after.family == "date":
        return "narrowed"
    return "changed"
