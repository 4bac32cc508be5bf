"""A contract's page: its header and "Check now", the open violations by table (with their check, producing run and
incident), the check history, the observed schema and its changes, the versions with their changes, and the active
YAML with line numbers. The page's view and its websocket consumer render from the same context."""

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.paginator import Paginator
from django.urls import reverse

from contracts.checks.evaluate import OPERATOR_WORDS
from contracts.models import CheckRun, ContractVersion, DataContract, Violation
from contracts.pages.contract_list import spec_tables
from contracts.selectors import (
    contract_check_runs,
    contract_check_violations,
    contract_last_completed_check,
    contract_observed_check,
    contract_open_incidents,
    contract_producers,
    contract_schema_changes,
    contract_versions,
    incident_subject_prefix,
)
from incidents.models import Incident

CHECKS_PER_PAGE = 20
# Asking for a check is a responder's action on a source system, as a retry is: the same permission allows it.
CHECK_PERMISSION = "contracts.check_datacontract"


@dataclass(frozen=True)
class ViolationRow:
    violation: Violation
    expected: str
    observed: str
    samples: list[str]


@dataclass(frozen=True)
class TableViolations:
    table: str
    rows: list[ViolationRow]
    incident: Incident | None


@dataclass(frozen=True)
class VersionRow:
    version: ContractVersion
    changes: list[dict[str, str]]


def value_text(value: Any) -> str:
    """A stored value as the page shows it: text as is, numbers plainly, structures as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | bool):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def expected_text(expected: Any) -> str:
    """A rule's threshold in words ("≤ 0 rows", "between 0 and 100, exclusive"); a schema change's column as was."""
    if not isinstance(expected, dict) or "operator" not in expected:
        return value_text(expected)
    operator, unit = expected.get("operator"), expected.get("unit") or ""
    suffix = " %" if unit == "percent" else f" {unit}" if unit else ""
    low, high = value_text(expected.get("low")), value_text(expected.get("high"))
    if operator == "mustBeBetween":
        return f"between {low} and {high}{suffix} (exclusive)"
    if operator == "mustNotBeBetween":
        return f"not between {low} and {high}{suffix} (exclusive)"
    symbol = OPERATOR_WORDS.get(str(operator), str(operator))
    return f"{symbol} {value_text(expected.get('value'))}{suffix}"


def sample_texts(sample: Any) -> list[str]:
    """A violation's samples ({"value", "rows"} each, masked by the check when the column is classified) as text:
    the value, with how many rows hold it when more than one."""
    texts = []
    for item in sample if isinstance(sample, list) else []:
        if isinstance(item, dict):
            rows = item.get("rows")
            value = value_text(item.get("value"))
            texts.append(f"{value} ×{rows}" if isinstance(rows, int) and rows > 1 else value)
        else:
            texts.append(value_text(item))
    return texts


def check_blocked_reason(contract: DataContract) -> str:
    """Why "Check now" cannot run for this contract, or "" when it can."""
    if not contract.enabled:
        return "The contract is disabled: enable it in the admin to check it."
    if contract.active_version_id is None:
        return "No published version to check yet: publish one in the admin."
    if contract.warehouse is None:
        return "No warehouse: choose where its tables are checked in the admin."
    if not contract.warehouse.enabled:
        return f"Its warehouse {contract.warehouse.name} is disabled."
    return ""


def _incidents_by_table(contract: DataContract) -> dict[str, Incident]:
    prefix = incident_subject_prefix(contract.name)
    by_table: dict[str, Incident] = {}
    for incident in contract_open_incidents(contract_names=[contract.name]).get(contract.name, []):
        subject = incident.latest_occurrence.subject if incident.latest_occurrence else ""
        by_table.setdefault(subject.removeprefix(prefix), incident)
    return by_table


def _open_violations(check: CheckRun | None, incidents: dict[str, Incident]) -> list[TableViolations]:
    if check is None:
        return []
    groups: dict[str, list[ViolationRow]] = {}
    for violation in contract_check_violations(check_run_id=check.pk):
        row = ViolationRow(
            violation,
            expected_text(violation.expected),
            value_text(violation.observed),
            sample_texts(violation.sample),
        )
        groups.setdefault(violation.object, []).append(row)
    return [TableViolations(table, rows, incidents.get(table)) for table, rows in groups.items()]


def _versions(contract_id: int) -> list[VersionRow]:
    return [
        VersionRow(
            version=version,
            changes=[
                {
                    "level": str(change.get("level", "info")),
                    "kind": str(change.get("kind", "")).replace("_", " "),
                    "path": str(change.get("path", "")),
                    "before": value_text(change.get("before")),
                    "after": value_text(change.get("after")),
                }
                for change in version.changes or []
            ],
        )
        for version in contract_versions(contract_id=contract_id)
    ]


def _observed_schema(contract_id: int) -> dict[str, Any]:
    check = contract_observed_check(contract_id=contract_id)
    if check is None:
        return {"check": None, "tables": []}
    changes: dict[str, list[Violation]] = {}
    for change in contract_schema_changes(check_run_id=check.pk):
        changes.setdefault(change.object, []).append(change)
    tables = [
        {"table": table, "columns": columns, "changes": changes.get(table, [])}
        for table, columns in check.observed_schema.items()
    ]
    return {"check": check, "tables": tables}


def contract_detail_page(
    *, contract: DataContract, user: AbstractUser | AnonymousUser, check_page: Any = 1, notice: str = ""
) -> dict[str, Any]:
    """Everything the contract page shows, for `user`; `check_page` pages the check history. A fixed number of
    queries whatever the number of checks, violations and versions."""
    active = contract.active_version
    incidents = _incidents_by_table(contract)
    history = contract_check_runs(contract_id=contract.pk)
    last_completed = contract_last_completed_check(contract_id=contract.pk)
    producing_run = last_completed.triggered_by_run if last_completed else None
    return {
        "contract": contract,
        "producers": contract_producers(contract_id=contract.pk),
        "tables": spec_tables(active.spec if active else None),
        "latest_check": history.first(),
        "open_incidents": list(incidents.values()),
        "last_completed": last_completed,
        "producing_run_url": (
            reverse("monitors:pipeline-detail", args=[producing_run.pipeline_id]) if producing_run else ""
        ),
        "violation_groups": _open_violations(last_completed, incidents),
        "checks": Paginator(history, CHECKS_PER_PAGE).get_page(check_page),
        "observed": _observed_schema(contract.pk),
        "versions": _versions(contract.pk),
        "yaml_lines": list(enumerate(active.yaml_text.splitlines(), start=1)) if active else [],
        "can_check": user.has_perm(CHECK_PERMISSION),
        "check_blocked": check_blocked_reason(contract),
        "notice": notice,
    }
