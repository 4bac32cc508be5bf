"""Rows of the contracts app for tests."""

from django.utils import timezone

from contracts.models import CheckRun, DataContract, Violation
from contracts.services import contract_save

ORDERS_YAML = """\
table: sales.orders
description: One row per order (nightly load)
columns:
  - name: order_id
    type: bigint
    nullable: false
    unique: true
  - name: amount
    type: numeric
    min: 0
freshness:
  column: loaded_at
  max_age_minutes: 1440
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
