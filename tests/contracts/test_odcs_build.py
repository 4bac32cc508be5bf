import pytest

from contracts.odcs.build import contract_model
from contracts.odcs.durations import duration_seconds
from contracts.odcs.model import Threshold
from contracts.odcs.parse import parse_contract
from contracts.odcs.sql_guard import single_select
from tests.contracts.factories import ORDERS_YAML

RULES_YAML = """\
apiVersion: v3.2.0
kind: DataContract
id: shipments
version: 1.0.0
status: active
schema:
  - name: shipments
    physicalName: ops.fct_shipments
    properties:
      - name: carrier
        physicalName: carrier_code
        logicalType: string
        logicalTypeOptions: {minLength: 2, maxLength: 8, pattern: '^[A-Z]+$'}
        classification: personal
        enum:
          - value: DHL
          - value: UPS
        quality:
          - metric: nullValues
            mustBe: 0
          - metric: nullValues
            mustBeLessThan: 5
            unit: percent
            severity: warning
          - name: carrier_known
            metric: invalidValues
            arguments: {validValues: [DHL, UPS]}
            mustBe: 0
          - metric: missingValues
            arguments: {missingValues: ['', 'N/A']}
            mustBeBetween: [0, 10]
    quality:
      - id: volume
        metric: rowCount
        mustNotBeBetween: [0, 100]
      - metric: duplicateValues
        arguments: {properties: [carrier]}
        mustBe: 0
      - type: sql
        query: SELECT count(*) FROM {object}
        mustBeGreaterThan: 0
      - type: text
        description: Reviewed monthly.
"""


def test_contract_model_objects_properties_and_rules_built():
    contract = contract_model(parse_contract(RULES_YAML), yaml_text=RULES_YAML)

    shipments = contract.object_named("shipments")
    assert shipments is not None and shipments.physical_name == "ops.fct_shipments" and shipments.line == 7
    carrier = shipments.property_named("carrier")
    assert carrier is not None and carrier.physical_name == "carrier_code" and carrier.masked
    assert (carrier.min_length, carrier.max_length, carrier.pattern, carrier.enum) == (2, 8, "^[A-Z]+$", ("DHL", "UPS"))
    assert [(r.key, r.line) for r in carrier.quality] == [
        ("nullValues", 19),
        ("nullValues_2", 21),
        ("carrier_known", 25),
        ("missingValues", 29),
    ]
    null_pct, known, missing = carrier.quality[1], carrier.quality[2], carrier.quality[3]
    assert (null_pct.unit, null_pct.is_warning) == ("percent", True)
    assert known.valid_values == ("DHL", "UPS") and missing.missing_values == ("", "N/A")
    assert missing.threshold == Threshold(operator="mustBeBetween", low=0, high=10)
    volume, duplicates, sql, text = shipments.quality
    assert volume.threshold == Threshold(operator="mustNotBeBetween", low=0, high=100)
    assert duplicates.properties == ("carrier",)
    assert (sql.key, sql.query, sql.threshold) == (
        "sql",
        "SELECT count(*) FROM {object}",
        Threshold("mustBeGreaterThan", 0),
    )
    assert (text.type, text.threshold) == ("text", None)


def test_contract_model_without_text_lines_zero_defaults_applied():
    contract = contract_model(parse_contract(ORDERS_YAML))

    orders = contract.objects[0]
    assert (contract.api_version, contract.status, orders.line) == ("v3.1.0", "active", 0)
    assert orders.property_named("amount").physical_name == "amount"
    assert orders.property_named("amount").minimum == 0
    assert orders.property_named("order_id").required and orders.property_named("order_id").unique
    assert contract.servers[0].type == "postgres" and contract.servers[0].schema == "sales"
    (freshness,) = contract.service_levels
    assert (freshness.property, freshness.value, freshness.unit, freshness.element) == (
        "freshness",
        1440,
        "m",
        "orders.loaded_at",
    )


def test_contract_model_deprecated_rule_key_read_as_metric():
    spec = parse_contract(ORDERS_YAML)
    spec["schema"][0]["quality"] = [{"rule": "rowCount", "mustBeGreaterThan": 0}]

    (rule,) = contract_model(spec).objects[0].quality

    assert (rule.key, rule.metric) == ("rowCount", "rowCount")


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        (4, "h", 14400.0),
        (30, "min", 1800.0),
        (2, "d", 172800.0),
        (1, "week", 604800.0),
        (3, "Hours", 10800.0),
        (90, "s", 90.0),
        ("PT4H", None, 14400.0),
        ("P1D", None, 86400.0),
        ("P1DT2H30M", None, 95400.0),
        ("30 min", None, 1800.0),
        ("4", "h", 14400.0),
        (5, "y", None),
        (True, "d", None),
        ("06:00", None, None),
        ("P", None, None),
    ],
)
def test_duration_seconds_units_and_iso_durations(value, unit, seconds):
    assert duration_seconds(value, unit) == seconds


@pytest.mark.parametrize(
    ("query", "dialect", "reason"),
    [
        ("SELECT 1; SELECT 2", "postgres", "holds 2 statements"),
        ("DELETE FROM t", "postgres", "is a DELETE statement"),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone", "postgres", "contains a DELETE"),
        ("SELECT * FROM t FOR UPDATE", "postgres", "row lock"),
        ("DROP TABLE t", "databricks", "is a DROP statement"),
        ("SELECT FROM WHERE", None, "does not parse"),
        ("  ; ", None, "is empty"),
    ],
)
def test_single_select_anything_but_one_select_refused(query, dialect, reason):
    with pytest.raises(ValueError, match=reason):
        single_select(query, dialect=dialect)


def test_single_select_one_select_returned_parsed():
    query = single_select("SELECT count(*) FROM sales.orders WHERE note = 'a; DROP TABLE x' -- ;", dialect="postgres")

    assert query.sql(dialect="postgres") == "SELECT COUNT(*) FROM sales.orders WHERE note = 'a; DROP TABLE x' /* ; */"
