import copy

import pytest
import yaml

from contracts.odcs.diff import contract_changes, verdict

BASE = yaml.safe_load("""
apiVersion: v3.1.0
kind: DataContract
id: shop-orders
version: 1.0.0
status: active
description: {purpose: Orders for finance.}
tags: [finance]
schema:
  - id: orders_obj
    name: orders
    physicalName: fct_orders
    description: One row per order.
    properties:
      - id: orders_id
        name: order_id
        logicalType: integer
        physicalType: int
        required: true
        unique: true
      - id: orders_amount
        name: amount
        logicalType: number
        physicalType: decimal(10,2)
        logicalTypeOptions: {minimum: 0, maximum: 100000}
      - id: orders_code
        name: code
        logicalType: string
        physicalType: varchar(10)
        logicalTypeOptions: {maxLength: 10, minLength: 2}
      - id: orders_status
        name: status
        logicalType: string
        physicalType: varchar(12)
        quality:
          - id: status_values
            metric: invalidValues
            arguments: {validValues: [open, paid]}
            mustBe: 0
      - name: shipping
        logicalType: object
        properties:
          - name: city
            logicalType: string
            physicalType: varchar(40)
      - name: placed_at
        logicalType: timestamp
        physicalType: timestamp
    quality:
      - id: orders_rows
        metric: rowCount
        mustBeGreaterThan: 100
      - metric: nullValues
        mustBeLessThan: 5
        unit: percent
  - name: refunds
    properties:
      - name: refund_id
        logicalType: string
slaProperties:
  - property: latency
    value: 4
    unit: h
    element: orders.placed_at
""")
ORDERS = "schema[orders]"


def _prop(contract, name, obj=0):
    return next(p for p in contract["schema"][obj]["properties"] if p["name"] == name)


def _changed(edit) -> set[tuple[str, str, str]]:
    new = copy.deepcopy(BASE)
    edit(new)
    return {(c.path, c.kind, c.level) for c in contract_changes(BASE, new)}


CASES = [
    (
        "property removed",
        lambda c: c["schema"][0]["properties"].pop(1),
        (f"{ORDERS}.properties[amount]", "property_removed", "breaking"),
    ),
    ("object removed", lambda c: c["schema"].pop(1), ("schema[refunds]", "object_removed", "breaking")),
    ("object added", lambda c: c["schema"].append({"name": "carts"}), ("schema[carts]", "object_added", "info")),
    (
        "optional added",
        lambda c: c["schema"][0]["properties"].append({"name": "note", "logicalType": "string"}),
        (f"{ORDERS}.properties[note]", "property_added", "info"),
    ),
    (
        "nested added",
        lambda c: _prop(c, "shipping")["properties"].append({"name": "zip"}),
        (f"{ORDERS}.properties[shipping].properties[zip]", "property_added", "info"),
    ),
    (
        "required added",
        lambda c: c["schema"][0]["properties"].append({"name": "batch", "required": True}),
        (f"{ORDERS}.properties[batch]", "property_added_required", "breaking"),
    ),
    (
        "renamed by id",
        lambda c: _prop(c, "code").update(name="order_code"),
        (f"{ORDERS}.properties[code].name", "property_renamed", "warning"),
    ),
    (
        "object renamed by id",
        lambda c: c["schema"][0].update(name="sales"),
        (f"{ORDERS}.name", "object_renamed", "warning"),
    ),
    (
        "physical name",
        lambda c: c["schema"][0].update(physicalName="fct_orders_v2"),
        (f"{ORDERS}.physicalName", "physical_name_changed", "breaking"),
    ),
    (
        "required tightened",
        lambda c: _prop(c, "amount").update(required=True),
        (f"{ORDERS}.properties[amount].required", "required_tightened", "breaking"),
    ),
    (
        "required relaxed",
        lambda c: _prop(c, "order_id").update(required=False),
        (f"{ORDERS}.properties[order_id].required", "required_relaxed", "info"),
    ),
    (
        "unique tightened",
        lambda c: _prop(c, "code").update(unique=True),
        (f"{ORDERS}.properties[code].unique", "unique_tightened", "breaking"),
    ),
    (
        "unique relaxed",
        lambda c: _prop(c, "order_id").pop("unique"),
        (f"{ORDERS}.properties[order_id].unique", "unique_relaxed", "info"),
    ),
    (
        "widened",
        lambda c: _prop(c, "order_id").update(physicalType="bigint"),
        (f"{ORDERS}.properties[order_id].physicalType", "type_widened", "info"),
    ),
    (
        "narrowed",
        lambda c: _prop(c, "amount").update(physicalType="decimal(10,4)"),
        (f"{ORDERS}.properties[amount].physicalType", "type_narrowed", "breaking"),
    ),
    (
        "changed",
        lambda c: _prop(c, "placed_at").update(logicalType="string"),
        (f"{ORDERS}.properties[placed_at].logicalType", "type_changed", "breaking"),
    ),
    (
        "alias",
        lambda c: _prop(c, "code").update(physicalType="character varying(10)"),
        (f"{ORDERS}.properties[code].physicalType", "physical_type_alias", "info"),
    ),
    (
        "nested narrowed",
        lambda c: _prop(c, "shipping")["properties"][0].update(physicalType="varchar(20)"),
        (f"{ORDERS}.properties[shipping].properties[city].physicalType", "type_narrowed", "breaking"),
    ),
    (
        "max length tightened",
        lambda c: _prop(c, "code")["logicalTypeOptions"].update(maxLength=8),
        (f"{ORDERS}.properties[code].logicalTypeOptions.maxLength", "max_length_tightened", "breaking"),
    ),
    (
        "max length removed",
        lambda c: _prop(c, "code")["logicalTypeOptions"].pop("maxLength"),
        (f"{ORDERS}.properties[code].logicalTypeOptions.maxLength", "max_length_relaxed", "info"),
    ),
    (
        "min length raised",
        lambda c: _prop(c, "code")["logicalTypeOptions"].update(minLength=3),
        (f"{ORDERS}.properties[code].logicalTypeOptions.minLength", "min_length_raised", "breaking"),
    ),
    (
        "min length lowered",
        lambda c: _prop(c, "code")["logicalTypeOptions"].update(minLength=1),
        (f"{ORDERS}.properties[code].logicalTypeOptions.minLength", "min_length_lowered", "info"),
    ),
    (
        "maximum down",
        lambda c: _prop(c, "amount")["logicalTypeOptions"].update(maximum=500),
        (f"{ORDERS}.properties[amount].logicalTypeOptions.maximum", "range_tightened", "breaking"),
    ),
    (
        "minimum exclusive",
        lambda c: _prop(c, "amount")["logicalTypeOptions"].update(exclusiveMinimum=0),
        (f"{ORDERS}.properties[amount].logicalTypeOptions.exclusiveMinimum", "range_tightened", "breaking"),
    ),
    (
        "minimum removed",
        lambda c: _prop(c, "amount")["logicalTypeOptions"].pop("minimum"),
        (f"{ORDERS}.properties[amount].logicalTypeOptions.minimum", "range_relaxed", "info"),
    ),
    (
        "pattern added",
        lambda c: _prop(c, "code")["logicalTypeOptions"].update(pattern="^[A-Z]+$"),
        (f"{ORDERS}.properties[code].logicalTypeOptions.pattern", "pattern_added", "breaking"),
    ),
    (
        "enum value removed",
        lambda c: _prop(c, "status")["quality"][0]["arguments"].update(validValues=["open"]),
        (f"{ORDERS}.properties[status].quality[status_values].arguments.validValues", "enum_value_removed", "breaking"),
    ),
    (
        "enum value added",
        lambda c: _prop(c, "status")["quality"][0]["arguments"]["validValues"].append("void"),
        (f"{ORDERS}.properties[status].quality[status_values].arguments.validValues", "enum_value_added", "info"),
    ),
    (
        "rule added",
        lambda c: _prop(c, "code").update(quality=[{"metric": "nullValues", "mustBe": 0}]),
        (f"{ORDERS}.properties[code].quality[nullValues]", "quality_rule_added", "breaking"),
    ),
    (
        "rule removed",
        lambda c: c["schema"][0]["quality"].pop(0),
        (f"{ORDERS}.quality[orders_rows]", "quality_rule_removed", "info"),
    ),
    (
        "row count up",
        lambda c: c["schema"][0]["quality"][0].update(mustBeGreaterThan=1000),
        (f"{ORDERS}.quality[orders_rows].mustBeGreaterThan", "quality_rule_tightened", "breaking"),
    ),
    (
        "null share looser",
        lambda c: c["schema"][0]["quality"][1].update(mustBeLessThan=10),
        (f"{ORDERS}.quality[nullValues].mustBeLessThan", "quality_rule_relaxed", "info"),
    ),
    (
        "between narrower",
        lambda c: c["schema"][0]["quality"][1].update(mustBeLessThan=None, mustBeBetween=[0, 4]),
        (f"{ORDERS}.quality[nullValues].mustBeLessThan", "quality_rule_tightened", "breaking"),
    ),
    (
        "description",
        lambda c: c["schema"][0].update(description="Orders."),
        (f"{ORDERS}.description", "description_changed", "info"),
    ),
    (
        "purpose",
        lambda c: c["description"].update(purpose="Orders for all."),
        ("description.purpose", "description_changed", "info"),
    ),
    ("tags", lambda c: c.update(tags=["finance", "gold"]), ("tags", "tags_changed", "info")),
    (
        "sla shorter",
        lambda c: c["slaProperties"][0].update(value=90, unit="min"),
        ("slaProperties[latency].value", "sla_tightened", "warning"),
    ),
    (
        "sla longer",
        lambda c: c["slaProperties"][0].update(value=1, unit="d"),
        ("slaProperties[latency].value", "sla_relaxed", "info"),
    ),
    (
        "sla same duration",
        lambda c: c["slaProperties"][0].update(value=240, unit="min"),
        ("slaProperties[latency].value", "sla_unit_equivalent", "info"),
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_contract_changes_each_kind_path_kind_level(edit, expected):
    changes = _changed(lambda c: (edit(c), _drop_none(c)))

    assert expected in changes, changes


def _drop_none(contract):
    rules = contract["schema"][0]["quality"]
    if rules and rules[-1].get("mustBeLessThan", 0) is None:
        rules[-1].pop("mustBeLessThan")


def test_contract_changes_rename_without_id_removal_and_addition():
    changes = _changed(lambda c: _prop(c, "placed_at").update(name="ordered_at"))

    assert changes == {
        (f"{ORDERS}.properties[placed_at]", "property_removed", "breaking"),
        (f"{ORDERS}.properties[ordered_at]", "property_added", "info"),
    }


def test_contract_changes_both_types_changed_both_listed():
    changes = _changed(lambda c: _prop(c, "placed_at").update(logicalType="date", physicalType="date"))

    assert changes == {
        (f"{ORDERS}.properties[placed_at].logicalType", "type_narrowed", "breaking"),
        (f"{ORDERS}.properties[placed_at].physicalType", "type_narrowed", "breaking"),
    }


def test_contract_changes_bookkeeping_defaults_and_order_ignored():
    def edit(contract):
        contract.update(version="2.0.0", status="retired", contractCreatedTs="2026-01-01T00:00:00Z")
        contract["schema"].reverse()
        contract["schema"][1]["properties"].reverse()
        _prop(contract, "amount", obj=1).update(required=False, unique=False)
        contract["schema"][1]["quality"][0]["type"] = "library"

    assert _changed(edit) == set()


def test_contract_changes_rows_threshold_same_whole_numbers_unchanged():
    assert _changed(lambda c: c["schema"][0]["quality"][0].update(mustBeGreaterThan=None)) == {
        (f"{ORDERS}.quality[orders_rows].mustBeGreaterThan", "quality_rule_relaxed", "info")
    }
    new = copy.deepcopy(BASE)
    new["schema"][0]["quality"][0] = {"id": "orders_rows", "metric": "rowCount", "mustBeGreaterOrEqualTo": 101}

    assert contract_changes(BASE, new) == []


def test_verdict_breaking_only_with_breaking_change():
    assert verdict(contract_changes(BASE, copy.deepcopy(BASE))) == "non_breaking"
    widened = copy.deepcopy(BASE)
    _prop(widened, "code").update(physicalType="varchar(40)")
    assert verdict(contract_changes(BASE, widened)) == "non_breaking"
    _prop(widened, "order_id").update(physicalType="smallint")
    assert verdict(contract_changes(BASE, widened)) == "breaking"
