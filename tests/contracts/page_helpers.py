"""Rows the contract page tests need: a warehouse, a finished check with violations, and the incident the check
service would have reported for it (through the occurrence intake, as it does)."""

from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from contracts.models import CheckRun, DataContract, Violation, Warehouse
from incidents.models import Incident
from incidents.services.occurrences import OccurrenceReport, occurrence_intake
from monitors.models import PipelineRun
from tests.contracts.factories import make_contract


def make_warehouse(name: str = "analytics") -> Warehouse:
    return Warehouse.objects.create(
        name=name, engine="postgres", host="127.0.0.1", database="analytics", user="reader", sslmode="disable"
    )


def make_checked_contract(name: str = "orders", *, warehouse: Warehouse | None = None, **fields) -> DataContract:
    """A published contract on a warehouse."""
    return make_contract(name=name, warehouse=warehouse or make_warehouse(f"wh-{name}"), **fields)


def make_failed_check(
    contract: DataContract, *, run: PipelineRun | None = None, violations: int = 1, table: str = "orders"
) -> CheckRun:
    """A failed check of `contract` with `violations` broken rules on `table` (masked samples, YAML lines)."""
    now = timezone.now()
    check = CheckRun.objects.create(
        contract=contract,
        version=contract.active_version,
        status=CheckRun.Status.FAILED,
        trigger=CheckRun.Trigger.RUN if run else CheckRun.Trigger.MANUAL,
        triggered_by_run=run,
        started_at=now,
        finished_at=now,
        rows_checked=1200,
        statements=2,
        duration_ms=840,
        observed_schema={table: [{"name": "order_id", "type": "bigint", "nullable": False, "position": 1}]},
    )
    Violation.objects.bulk_create(
        Violation(
            check_run=check,
            object=table,
            rule=f"{table}.amount.range{n}",
            kind="invalidValues",
            column="amount",
            severity=Severity.HIGH,
            message=f"{n + 3} rows have amount below 0",
            expected={"operator": "mustBeLessOrEqualTo", "value": 0, "low": None, "high": None, "unit": "rows"},
            observed=n + 3,
            sample=[{"value": "-12.50", "rows": 1}, {"value": "***", "rows": 2}],
            line=31 + n,
        )
        for n in range(violations)
    )
    return check


def report_check_incident(check: CheckRun, *, table: str = "orders", run: PipelineRun | None = None) -> Incident:
    """The incident the check service reports for a broken table (same source, subject and evidence keys)."""
    contract = check.contract
    intake = occurrence_intake(
        report=OccurrenceReport(
            source="contract_check",
            group_key=f"contract_check:{contract.name}:{table}",
            dedup_key=f"contract_check:{check.pk}:{table}",
            title=f"{contract.name}: {table} breaks amount.range",
            severity=Severity.HIGH,
            category=ErrorCategory.DATA_QUALITY,
            subject=f"contract:{contract.name}/{table}",
            subject_label=f"{contract.name} / {table}",
            detected_at=timezone.now(),
            evidence={
                "contract": contract.name,
                "contract_id": contract.pk,
                "version": check.version.number,
                "check_run": check.pk,
                "table": f"sales.{table}",
                "rows": 1200,
                "producing_run": run.external_run_id if run else None,
                "rules": [
                    {
                        "rule": f"{table}.amount.range0",
                        "message": "3 rows have amount below 0",
                        "sample": [{"value": "-12.50", "rows": 1}],
                    }
                ],
            },
            connection_id=run.connection_id if run else None,
            pipeline_id=run.pipeline_id if run else None,
            run_id=run.pk if run else None,
        )
    )
    return intake.incident
