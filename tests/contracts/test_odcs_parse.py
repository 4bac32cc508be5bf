import json
from pathlib import Path

import pytest

from contracts.odcs.parse import ContractSpecError, parse_contract
from tests.contracts.factories import ORDERS_YAML

CORPUS = Path("/work/shared/corpus/observability/contracts_dev.jsonl")

V32_YAML = """\
apiVersion: v3.2.0
kind: DataContract
id: payments
version: 2.0.0
status: draft
schema:
  - name: payments
    properties:
      - name: method
        logicalType: string
        enum:
          - value: card
          - value: transfer
            label: Bank transfer
      - name: embedding
        logicalType: vector
        logicalTypeOptions:
          dimensions: 384
      - name: note
        deprecated: true
"""

# One mistake in each part of a contract, each on its own line.
BAD_YAML = """\
apiVersion: v3.1.0
kind: DataContrakt
id: orders-contract
version: 1.0.0
status: active
servers:
  - server: warehouse
    type: postgress
schema:
  - name: orders
    physicalName: sales.orders
    physicalTyp: table
    properties:
      - name: order_id
        logicalType: integer
        required: perhaps
      - name: order_id
        logicalType: integer
      - name: status
        logicalType: string
        logicalTypeOptions:
          maxLenght: 3
          pattern: '([A-Z]'
        quality:
          - metric: invalidValues
            arguments:
              validValues: [open, shipped]
            mustBeBetwen: [0, 1]
          - metric: nullValues
            mustBeLessThan: 1
            unit: percnt
          - metric: missingValues
            arguments:
              missingValues: ['', 'N/A']
            mustBeBetween: [10, 5]
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
        unit: percent
      - metric: duplicateValues
        arguments:
          properties: [order_id, customer_id]
        mustBe: 0
      - type: sql
        query: SELECT count(*) FROM {object}; DROP TABLE {object}
        mustBe: 0
slaProperties:
  - property: latency
    value: 4
    unit: h
    element: orders.updated_at
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ContractSpecError) as raised:
        parse_contract(text)
    return raised.value.errors


def test_parse_contract_v31_document_returned_as_plain_data():
    spec = parse_contract(ORDERS_YAML)

    assert spec["apiVersion"] == "v3.1.0" and spec["version"] == "1.0.0"
    assert spec["schema"][0]["properties"][1]["logicalTypeOptions"] == {"minimum": 0}
    assert json.loads(json.dumps(spec)) == spec


def test_parse_contract_v32_additions_accepted():
    spec = parse_contract(V32_YAML)

    assert spec["schema"][0]["properties"][0]["enum"][1] == {"value": "transfer", "label": "Bank transfer"}


def test_parse_contract_untyped_property_accepted():
    # The bundled schema's `logicalType: map` condition would demand a `map` block from every untyped property.
    spec = parse_contract(V32_YAML)

    assert "logicalType" not in spec["schema"][0]["properties"][2]


def test_parse_contract_timestamps_kept_as_text():
    spec = parse_contract(ORDERS_YAML + "contractCreatedTs: 2025-12-21T09:00:00Z\n")

    assert spec["contractCreatedTs"] == "2025-12-21T09:00:00Z"


@pytest.mark.parametrize("side", ["old", "new"])
def test_parse_contract_every_corpus_contract_valid(side):
    pairs = [json.loads(line) for line in CORPUS.read_text().splitlines()]

    failures = {}
    for pair in pairs:
        try:
            parse_contract(pair[side])
        except ContractSpecError as exc:
            failures[pair["id"]] = exc.errors

    assert len(pairs) == 40 and failures == {}


def test_parse_contract_mistake_in_each_part_one_error_each_at_its_line():
    errors = _errors(BAD_YAML)

    assert [error.split(": ", 1)[0] for error in errors] == [
        "line 2, kind",
        "line 8, servers[warehouse].type",
        "line 12, schema[orders].physicalTyp",
        "line 16, schema[orders].properties[order_id].required",
        "line 17, schema[orders].properties[order_id].name",
        "line 22, schema[orders].properties[status].logicalTypeOptions.maxLenght",
        "line 23, schema[orders].properties[status].logicalTypeOptions.pattern",
        "line 28, schema[orders].properties[status].quality[invalidValues].mustBeBetwen",
        "line 31, schema[orders].properties[status].quality[nullValues].unit",
        "line 35, schema[orders].properties[status].quality[missingValues].mustBeBetween",
        "line 39, schema[orders].quality[rowCount].unit",
        "line 42, schema[orders].quality[duplicateValues].arguments.properties",
        "line 45, schema[orders].quality[sql].query",
        "line 51, slaProperties[latency].element",
    ]
    messages = [error.split(": ", 1)[1] for error in errors]
    assert messages[0] == "'DataContrakt' is not allowed (did you mean DataContract?); use one of: DataContract"
    assert "use one of: api, athena" in messages[1] and "postgres" in messages[1]
    assert messages[2] == "unknown field physicalTyp (did you mean physicalType?)"
    assert messages[3] == "expected true or false, got 'perhaps'"
    assert messages[4] == "another property is already named order_id"
    assert messages[5] == "unknown field maxLenght (did you mean maxLength?)"
    assert messages[6].startswith("not a valid regular expression")
    assert messages[7] == "unknown field mustBeBetwen (did you mean mustBeBetween?)"
    assert messages[8] == "unit 'percnt' is not allowed; use rows or percent"
    assert messages[9] == "must be [low, high] with low below high; got [10, 5]"
    assert messages[10] == "a rowCount rule counts rows; unit percent does not apply"
    assert messages[11] == "names customer_id, not a property of this object"
    assert messages[12] == "the query holds 2 statements; only one SELECT is allowed"
    assert messages[13] == "'orders.updated_at' is not <object>.<property> of this contract (by their names)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: [v3.1.0\n", "line 2, column 1: invalid YAML: "),
        ("apiVersion: v3.1.0\nkind: DataContract\n\tid: x\n", "line 3, column 1: invalid YAML: "),
        ("id: a\nkind: DataContract\nid: b\n", "line 3, column 1: invalid YAML: duplicate key 'id' (first on line 1)"),
        ("? [a, b]\n: 1\n", "line 1, column 3: invalid YAML: the key (a list or mapping) must be text (quote it)"),
        ("", "line 1: the contract is empty"),
        ("- a\n- b\n", "line 1: a contract is a mapping"),
    ],
)
def test_parse_contract_bad_yaml_one_error_with_line_and_column(text, expected):
    errors = _errors(text)

    assert len(errors) == 1 and errors[0].startswith(expected), errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("id: 2b4c6f1e-2d0a-4a5e-9a43-6b1f0a7c9d11\n", ""), "line 1, contract: missing required field id"),
        (("v3.1.0", "v2.2.0"), "line 1, apiVersion: v2.2.0 is not supported; use one of: v3.0.0"),
        (
            ("mustBeGreaterThan: 0", "description: no operator"),
            "line 35, schema[orders].quality[orders_row_count]: needs one of mustBe, mustNotBe, mustBeGreaterThan",
        ),
        (
            ("mustBeGreaterThan: 0", "mustBeGreaterThan: 0\n        mustBeLessThan: 9"),
            "line 38, schema[orders].quality[orders_row_count].mustBeLessThan: only one of mustBeGreaterThan, "
            "mustBeLessThan may be given",
        ),
        (
            ("metric: rowCount", "metric: rowCont"),
            "line 36, schema[orders].quality[orders_row_count].metric: "
            "'rowCont' is not allowed (did you mean rowCount?); use one of: nullValues",
        ),
        (
            ("mustBeGreaterThan: 0", "mustBeGreaterThan: many"),
            "line 37, schema[orders].quality[orders_row_count].mustBeGreaterThan: expected a number, got 'many'",
        ),
        (
            ("type: postgres\n", "type: postgres\n    hots: x\n"),
            "line 12, servers[warehouse].hots: unknown field hots (did you mean host?)",
        ),
        (("    port: 5432\n", ""), "line 10, servers[warehouse]: missing required field port"),
        (
            ("value: 1440", "value: [1440]"),
            "line 40, slaProperties[freshness].value: expected text, a number, true "
            "or false or nothing (null), got a list",
        ),
        (
            ("        logicalType: number\n", ""),
            "line 28, schema[orders].properties[amount].logicalTypeOptions: "
            "logicalTypeOptions needs the property's logicalType",
        ),
        (
            ("  - name: orders\n", "  - name: orders\n    physicalName: sales.orders\n  - name: orders\n"),
            "line 19, schema[orders].name: another object is already named orders",
        ),
    ],
)
def test_parse_contract_single_mistake_single_error_naming_line_and_path(change, expected):
    errors = _errors(ORDERS_YAML.replace(*change))

    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_parse_contract_sql_rule_parsed_in_server_dialect():
    rule = "      - type: sql\n        query: {query}\n        mustBe: 0\n"
    anchor = "    quality:\n"
    good = ORDERS_YAML.replace(anchor, anchor + rule.format(query="SELECT count(*) FROM {object} WHERE amount < 0"))
    into = ORDERS_YAML.replace(anchor, anchor + rule.format(query="SELECT * INTO copy FROM {object}"))

    assert parse_contract(good)["schema"][0]["quality"][0]["type"] == "sql"
    assert _errors(into) == [
        "line 36, schema[orders].quality[sql].query: the query contains SELECT INTO (which creates a table); only a "
        "read-only SELECT is allowed"
    ]
