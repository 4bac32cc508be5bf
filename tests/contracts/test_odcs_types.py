import pytest

from contracts.odcs.types import logical_type_change, normalise_type, type_change


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("smallint", "int", "widened"),
        ("int", "bigint", "widened"),
        ("bigint", "integer", "narrowed"),
        ("int", "numeric(12,2)", "widened"),
        ("bigint", "decimal(12,2)", "narrowed"),
        ("integer", "double precision", "widened"),
        ("real", "double", "widened"),
        ("float8", "real", "narrowed"),
        ("varchar(10)", "varchar(20)", "widened"),
        ("character varying(40)", "text", "widened"),
        ("string", "varchar(12)", "narrowed"),
        ("varchar(20)", "varchar(8)", "narrowed"),
        ("decimal(10,2)", "decimal(14,2)", "widened"),
        ("decimal(10,2)", "decimal(13,5)", "widened"),
        ("decimal(10,2)", "decimal(10,4)", "narrowed"),
        ("decimal(10,2)", "decimal(12,0)", "narrowed"),
        ("numeric(18,4)", "numeric(9,4)", "narrowed"),
        ("timestamp", "date", "narrowed"),
        ("date", "timestamp", "changed"),
        ("int", "varchar(10)", "changed"),
        ("text", "date", "changed"),
        ("timestamp", "timestamp with time zone", "changed"),
        ("decimal(10,2)", "bigint", "narrowed"),
    ],
)
def test_type_change_widening_order_classified(old, new, expected):
    assert type_change(old, new) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("int", "integer"),
        ("int4", "INT"),
        ("bigint", "long"),
        ("int8", "bigint"),
        ("varchar(18)", "character varying(18)"),
        ("decimal(9,3)", "numeric(9,3)"),
        ("timestamp", "timestamp without time zone"),
        ("double", "double precision"),
        ("float8", "DOUBLE"),
        ("string", "text"),
    ],
)
def test_type_change_same_type_spelt_differently_alias(old, new):
    assert type_change(old, new) == "alias"


def test_type_change_identical_text_same():
    assert type_change("Numeric(10, 2)", "numeric(10, 2)") == "same"


def test_normalise_type_parameters_read():
    decimal = normalise_type("NUMERIC(12, 3)")
    varchar = normalise_type("character varying(24)")
    zoned = normalise_type("timestamptz")

    assert (decimal.family, decimal.precision, decimal.scale) == ("decimal", 12, 3)
    assert (varchar.family, varchar.length, varchar.fixed_length) == ("string", 24, False)
    assert (zoned.family, zoned.with_time_zone) == ("timestamp", True)
    assert normalise_type("long").rank == 8 and normalise_type("smallint").rank == 2
    assert normalise_type("uuid").family == "other"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("integer", "number", "widened"),
        ("number", "integer", "narrowed"),
        ("timestamp", "date", "narrowed"),
        ("date", "timestamp", "changed"),
        ("string", "integer", "changed"),
        ("object", "object", "same"),
    ],
)
def test_logical_type_change_odcs_types_classified(old, new, expected):
    assert logical_type_change(old, new) == expected
