"""Rows of the contracts app for tests."""

from django.utils import timezone

from contracts.models import CheckRun, DataContract, Violation
from contracts.services import contract_save

ORDERS_YAML = """\
apiVersion: v3.1.0
kind: DataContract
id: 2b4c6f1e-2d0a-4a5e-9a43-6b1f0a7c9d11
name: orders
version: 1.0.0
status: active
description:
  purpose: One row per order (nightly load)
servers:
  - server: warehouse
    type: postgres
    host: localhost
    port: 5432
    database: analytics
    schema: sales
schema:
  - name: orders
    physicalName: sales.orders
    physicalType: table
    properties:
      - name: order_id
        logicalType: integer
        physicalType: bigint
        required: true
        unique: true
      - name: amount
        logicalType: number
        physicalType: numeric
        logicalTypeOptions:
          minimum: 0
      - name: loaded_at
        logicalType: timestamp
        physicalType: timestamp
    quality:
      - id: orders_row_count
        metric: rowCount
        mustBeGreaterThan: 0
slaProperties:
  - property: freshness
    value: 1440
    unit: m
    element: orders.loaded_at
"""


def make_contract(**fields) -> DataContract:
    contract = DataContract(**{"name": "orders", "owner": "sales-data", "yaml_text": ORDERS_YAML, **fields})
    return contract_save(contract=contract)


def make_check_run_with_violation(contract: DataContract | None = None) -> CheckRun:
    contract = contract or make_contract()
    check_run = CheckRun.objects.create(
        contract=contract,
        version=contract.active_version,
        status=CheckRun.Status.FAILED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        rows_checked=1000,
    )
    Violation.objects.create(
        check_run=check_run, rule="columns.amount.min", column="amount", message="3 rows below 0 (nightly)"
    )
    return check_run
