import pytest

from contracts.spec import ContractSpecError, parse_contract
from tests.contracts.factories import ORDERS_YAML


def test_spec_valid_contract_parsed_with_defaults():
    spec = parse_contract(ORDERS_YAML)

    assert spec["table"] == "sales.orders"
    assert [c["name"] for c in spec["columns"]] == ["order_id", "amount"]
    assert spec["columns"][1]["nullable"] is True
    assert spec["freshness"] == {"column": "loaded_at", "max_age_minutes": 1440}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("table: [orders\n", "line 2, column 1: invalid YAML"),
        ("- a\n- b\n", "line 1: the contract must be a mapping"),
        ("columns:\n  - name: id\n", "line 1, table: required field is missing"),
        ("table: t\ncolumns:\n  - name: id\n    nullable: sometimes\n", "line 4, columns[0].nullable:"),
        (
            "table: t\ncolumns:\n  - name: id\n  - name: x\n    colour: red\n",
            "line 5, columns[1].colour: unknown field",
        ),
        ("table: t\ncolumns:\n  - name: id\n  - name: id\n", "column 'id' is listed twice"),
        ("table: t\ncolumns:\n  - name: n\n    min: 5\n    max: 1\n", "line 3, columns[0]: min must not exceed max"),
        ("table: t\ncolumns:\n  - name: s\n    pattern: '(['\n", "line 4, columns[0].pattern: not a valid regular"),
        ("table: t\ncolumns: []\n", "line 2, columns:"),
        ("table: 'drop table x;'\ncolumns:\n  - name: a\n", "line 1, table:"),
        (
            "table: t\ncolumns:\n  - name: a\nfreshness:\n  column: a\n  max_age_minutes: 0\n",
            "line 6, freshness.max_age",
        ),
    ],
)
def test_spec_invalid_contract_error_names_line_and_field(text, expected):
    with pytest.raises(ContractSpecError) as raised:
        parse_contract(text)

    assert any(expected in error for error in raised.value.errors), raised.value.errors
