"""Contract checks: run a contract's active version on its warehouse, store what was seen (outcomes, violations,
observed schema), and report each broken table to incidents as an occurrence that names the producing run; a clean
check of a table resolves its incident."""

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.headline import headline_cut
from aimsweb.signals import send_on_commit
from contracts import signals
from contracts.checks.clauses import Clause, table_clauses
from contracts.checks.evaluate import Outcome, Status
from contracts.checks.metrics import table_metrics
from contracts.checks.partition import partition_filter
from contracts.checks.table import TableResult, table_check, worst
from contracts.models import CheckRun, DataContract, Violation
from contracts.odcs.build import contract_model
from contracts.odcs.durations import duration_seconds
from contracts.odcs.model import Contract, SchemaObject
from contracts.realtime import contract_changed_broadcast
from contracts.warehouses.base import WarehouseError, warehouse_client
from incidents.services.occurrences import OccurrenceReport, occurrence_intake, occurrences_recovered
from monitors.models import PipelineRun

log = logging.getLogger(__name__)
SOURCE = "contract_check"
FRESHNESS_PROPERTIES = ("freshness", "latency")
# ODCS leaves `severity` free text: the usual words map onto the incident scale; anything else fails as high.
RULE_SEVERITY = {
    "critical": Severity.CRITICAL,
    "blocker": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "major": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
}


class CheckNotPossible(Exception):
    """The contract cannot be checked now (disabled, no published version, no warehouse)."""


def freshness_limits(contract: Contract, obj: SchemaObject) -> dict[str, float]:
    """Property name -> the longest age its newest value may have, from the freshness/latency SLAs whose element
    is `object.property` of this object."""
    limits: dict[str, float] = {}
    for sla in contract.service_levels:
        if sla.property.lower() not in FRESHNESS_PROPERTIES or not sla.element:
            continue
        table, _, column = sla.element.partition(".")
        seconds = duration_seconds(sla.value, sla.unit)
        if table == obj.name and column and seconds:
            limits[column] = min(seconds, limits.get(column, seconds))
    return limits


def contract_clauses(contract: Contract) -> dict[str, list[Clause]]:
    return {
        obj.name: table_clauses(contract, obj, freshness=freshness_limits(contract, obj)) for obj in contract.objects
    }


@dataclass(frozen=True)
class CheckSummary:
    check_run_id: int
    status: str
    violations: int
    statements: int


def contract_check(
    *,
    contract_id: int,
    trigger: str = CheckRun.Trigger.MANUAL,
    run_id: int | None = None,
    requested_by_id: int | None = None,
) -> CheckSummary:
    """Check the contract's active version on its warehouse now; store the check run with its outcomes and
    violations, report broken tables as occurrences (linked to the producing run `run_id`) and resolve the
    incidents of tables now clean; broadcast to the contract's live pages. Raises CheckNotPossible."""
    contract = DataContract.objects.select_related("active_version", "warehouse").get(pk=contract_id)
    if not contract.enabled:
        raise CheckNotPossible(f"contract {contract.name} is disabled")
    if contract.active_version is None:
        raise CheckNotPossible(f"contract {contract.name} has no published version")
    if contract.warehouse is None or not contract.warehouse.enabled:
        raise CheckNotPossible(f"contract {contract.name} has no enabled warehouse")
    run = PipelineRun.objects.select_related("pipeline", "connection").filter(pk=run_id).first() if run_id else None
    version = contract.active_version
    started = timezone.now()
    check = CheckRun.objects.create(
        contract=contract,
        version=version,
        started_at=started,
        trigger=trigger,
        triggered_by_run=run,
        requested_by_id=requested_by_id,
    )
    model = contract_model(version.spec, yaml_text=version.yaml_text)  # with lines, for the violations
    tables: list[TableResult] = []
    clock = time.perf_counter()
    try:
        client = warehouse_client(contract.warehouse)
        where = partition_filter(contract.partition_filter, run=run, dialect=client.dialect)
        previous = _previous_schemas(contract, check.pk)
        for obj, clauses in zip(model.objects, contract_clauses(model).values(), strict=True):
            tables.append(
                table_check(
                    client,
                    obj,
                    clauses,
                    now=timezone.now(),
                    where=where,
                    previous_schema=previous.get(obj.name),
                    timeout_seconds=contract.warehouse.statement_timeout_seconds,
                )
            )
    except (WarehouseError, ValueError) as exc:
        return _finish(check, contract, run, tables, clock, error=str(exc))
    except Exception as exc:
        # Never leave a check "running": record that it broke, then let the task's error surface.
        _finish(check, contract, run, [], clock, error=f"the check broke: {type(exc).__name__}")
        raise
    return _finish(check, contract, run, tables, clock)


def _previous_schemas(contract: DataContract, current_id: int) -> dict[str, list[dict]]:
    previous = (
        CheckRun.objects.filter(contract=contract)
        .exclude(pk=current_id)
        .exclude(observed_schema={})
        .order_by("-started_at", "-id")
        .values_list("observed_schema", flat=True)
        .first()
    )
    return previous or {}


def _finish(
    check: CheckRun,
    contract: DataContract,
    run: PipelineRun | None,
    tables: list[TableResult],
    clock: float,
    *,
    error: str = "",
) -> CheckSummary:
    errors = [error] if error else [f"{t.object}: {t.error}" for t in tables if t.error]
    outcomes = [o for t in tables for o in t.outcomes]
    drift = [(t.object, c) for t in tables for c in t.schema_changes]
    with transaction.atomic():
        violations = [_violation(check, table.object, o) for table in tables for o in table.outcomes if o.broken]
        violations += [_drift_violation(check, obj, change) for obj, change in drift]
        Violation.objects.bulk_create(violations)
        failed = any(v.status == Violation.Status.FAILED for v in violations)
        check.status = (
            CheckRun.Status.ERROR
            if errors and not failed
            else CheckRun.Status.FAILED
            if failed
            else CheckRun.Status.WARNING
            if violations or any(o.status == Status.ERROR for o in outcomes)
            else CheckRun.Status.PASSED
        )
        check.finished_at = timezone.now()
        check.rows_checked = sum(t.rows or 0 for t in tables) if tables else None
        check.error_message = "; ".join(errors)[:4000]
        check.statements = sum(t.statements for t in tables)
        check.duration_ms = int((time.perf_counter() - clock) * 1000)
        check.observed_schema = {t.object: list(t.observed_schema) for t in tables if t.observed_schema}
        check.results = [_result(t.object, o) for t in tables for o in t.outcomes]
        check.metrics = {t.object: metrics for t in tables if (metrics := table_metrics(t))}
        check.save()
        for table in tables:
            _report(check, contract, run, table, violations)
        contract_changed_broadcast(contract_ids=[contract.pk])
        if check.metrics:
            send_on_commit(signals.check_measured, sender=signals.SENDER, check_run_id=check.pk)
    return CheckSummary(check.pk, check.status, len(violations), check.statements)


def _result(obj: str, outcome: Outcome) -> dict:
    return {
        "object": obj,
        "key": outcome.clause.key,
        "status": outcome.status,
        "observed": outcome.observed,
        "message": outcome.message,
    }


def _violation(check: CheckRun, obj: str, outcome: Outcome) -> Violation:
    clause = outcome.clause
    return Violation(
        check_run=check,
        object=obj,
        rule=clause.key[:300],
        kind=clause.measure,
        column=clause.column or "",
        status=Violation.Status.WARNING if outcome.status == Status.WARNING else Violation.Status.FAILED,
        severity=_severity(clause),
        message=outcome.message,
        expected={
            "operator": clause.threshold.operator,
            "value": _plain(clause.threshold.value),
            "low": _plain(clause.threshold.low),
            "high": _plain(clause.threshold.high),
            "unit": clause.unit,
        },
        observed=outcome.observed,
        sample=list(outcome.sample),
        line=clause.line,
    )


def _drift_violation(check: CheckRun, obj: str, change) -> Violation:
    return Violation(
        check_run=check,
        object=obj,
        rule=f"{obj}.schema.{change.column}.{change.kind}"[:300],
        kind=f"schema_{change.kind}",
        column=change.column,
        status=Violation.Status.FAILED,
        severity=Severity.HIGH if change.kind in ("removed", "retyped", "renamed") else Severity.MEDIUM,
        message=change.message,
        expected=change.before,
        observed=change.after,
    )


def _plain(value):
    return float(value) if value is not None and not isinstance(value, int | float | str) else value


def _severity(clause: Clause) -> str:
    return RULE_SEVERITY.get(clause.severity.lower(), Severity.HIGH) if clause.severity else Severity.HIGH


def group_key(contract: DataContract, obj: str) -> str:
    return f"contract_check:{contract.name}:{obj}"


def _report(
    check: CheckRun, contract: DataContract, run: PipelineRun | None, table: TableResult, violations: list[Violation]
) -> None:
    """An occurrence for a table with failed rules or schema changes (from the check's violations, as written); a
    recovery for a table checked clean."""
    failing = sorted(
        (v for v in violations if v.object == table.object and v.status == Violation.Status.FAILED),
        key=lambda v: v.rule,  # the order a reader of the check's violations sees
    )
    subject = f"contract:{contract.name}/{table.object}"
    label = f"{contract.name} / {table.object}"
    if not failing:
        if not table.error and worst(table.outcomes) in (Status.PASSED, Status.WARNING):
            occurrences_recovered(
                group_key=group_key(contract, table.object),
                recovered_at=check.finished_at or timezone.now(),
                subject_label=f"check {check.pk} of {label} (clean)",
            )
        return
    severity = max((v.severity for v in failing), key=lambda s: Severity.ordered().index(Severity(s)))
    first = failing[0]
    more = f" and {len(failing) - 1} more" if len(failing) > 1 else ""
    occurrence_intake(
        report=OccurrenceReport(
            source=SOURCE,
            group_key=group_key(contract, table.object),
            dedup_key=f"contract_check:{check.pk}:{table.object}",
            title=headline_cut(f"{contract.name}: {table.object} breaks {first.rule.split('.', 1)[-1]}{more}"),
            severity=severity,
            category=ErrorCategory.DATA_QUALITY,
            subject=subject,
            subject_label=label,
            detected_at=check.finished_at or timezone.now(),
            evidence={
                "contract": contract.name,
                "contract_id": contract.pk,
                "version": check.version.number,
                "check_run": check.pk,
                "table": table.table,
                "rows": table.rows,
                "producing_run": run.external_run_id if run else None,
                "rules": [
                    {"rule": v.rule, "message": v.message, "observed": v.observed, "sample": v.sample}
                    for v in failing[:20]
                ],
            },
            connection_id=run.connection_id if run else None,
            pipeline_id=run.pipeline_id if run else None,
            run_id=run.pk if run else None,
        )
    )
