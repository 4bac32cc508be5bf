"""Upgrading contracts written in AIMS's first format: migration contracts.0002 rewrites them as ODCS v3.1."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contracts.models import DataContract
from contracts.odcs.build import contract_model
from contracts.odcs.parse import parse_contract
from contracts.services import contract_save
from tests.contracts.factories import ORDERS_YAML

OLD_V1 = """\
table: sales.orders
description: One row per order
columns:
  - name: order_id
    type: bigint
    nullable: false
    unique: true
  - name: status
    type: varchar(20)
    allowed_values: [open, shipped, cancelled]
  - name: code
    pattern: '^[A-Z]{3}$'
  - name: amount
    min: 0
    max: 100000
freshness: {column: loaded_at, max_age_minutes: 1440}
row_count: {min: 1, max: 5000000}
"""
OLD_V2 = OLD_V1.replace("max: 100000", "max: 200000")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets or executor.loader.graph.leaf_nodes()).apps


def _seed(apps) -> None:
    contract_model_ = apps.get_model("contracts", "DataContract")
    version_model = apps.get_model("contracts", "ContractVersion")
    orders = contract_model_.objects.create(name="orders", owner="sales-data", yaml_text=OLD_V2)
    for number, text in ((1, OLD_V1), (2, OLD_V2)):
        version = version_model.objects.create(
            contract=orders, number=number, yaml_text=text, spec={}, checksum=hashlib.sha256(text.encode()).hexdigest()
        )
    orders.active_version = version
    orders.save()
    odcs = contract_model_.objects.create(name="already-odcs", owner="sales-data", yaml_text=ORDERS_YAML)
    version_model.objects.create(contract=odcs, number=1, yaml_text=ORDERS_YAML, spec={"kept": True}, checksum="c" * 64)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_odcs_old_contracts_converted_odcs_left_alone():
    _seed(_migrate([("contracts", "0001_initial")]))

    _migrate(None)

    orders = DataContract.objects.get(name="orders")
    v1, v2 = orders.versions.order_by("number")
    for version in (v1, v2):
        assert version.spec == parse_contract(version.yaml_text)
        assert version.checksum == hashlib.sha256(version.yaml_text.encode()).hexdigest()
    assert orders.yaml_text == v2.yaml_text and orders.active_version_id == v2.pk
    model = contract_model(v2.spec)
    assert (model.api_version, model.version, model.status, model.name) == ("v3.1.0", "1.0.0", "active", "orders")
    table = model.objects[0]
    assert (table.name, table.physical_name) == ("orders", "sales.orders")
    order_id, status, code, amount, loaded_at = table.properties
    assert (order_id.logical_type, order_id.physical_type, order_id.required, order_id.unique) == (
        "integer",
        "bigint",
        True,
        True,
    )
    assert status.quality[0].metric == "invalidValues"
    assert status.quality[0].valid_values == ("open", "shipped", "cancelled")
    assert (code.logical_type, code.pattern) == ("string", "^[A-Z]{3}$")
    assert (amount.minimum, amount.maximum) == (0, 200000)
    assert loaded_at.logical_type == "timestamp"
    assert [(r.metric, r.threshold.operator, r.threshold.value) for r in table.quality] == [
        ("rowCount", "mustBeGreaterOrEqualTo", 1),
        ("rowCount", "mustBeLessOrEqualTo", 5000000),
    ]
    (freshness,) = model.service_levels
    assert (freshness.property, freshness.value, freshness.unit, freshness.element) == (
        "freshness",
        1440,
        "m",
        "orders.loaded_at",
    )
    # The id is stable (a uuid5 of the name), so every version keeps the same contract id.
    assert v1.spec["id"] == v2.spec["id"]
    odcs = DataContract.objects.get(name="already-odcs")
    assert odcs.yaml_text == ORDERS_YAML and odcs.versions.get().spec == {"kept": True}
    # Saving the converted contract publishes nothing new: its text is its active version's.
    contract_save(contract=orders)
    assert orders.versions.count() == 2
