"""Reads of the contracts app: querysets and numbers for the contract pages, each fetching its relations up front so
a page runs a fixed number of queries whatever the number of contracts, checks or violations."""

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from contracts.models import CheckRun, ContractProducer, ContractVersion, DataContract, Violation
from incidents.models import Incident, Occurrence
from monitors.models import Pipeline

# The list's status filter: a check run's status, or "never" for a contract not checked yet.
NEVER_CHECKED = "never"
LIST_STATUSES = (*CheckRun.Status.values, NEVER_CHECKED)
# A check that ran to the end: its violations are the contract's open ones (an error or a running check says
# nothing new about the data, so the violations found before stay open).
COMPLETED = (CheckRun.Status.PASSED, CheckRun.Status.WARNING, CheckRun.Status.FAILED)


@dataclass(frozen=True)
class ContractFilters:
    status: str = ""  # one of LIST_STATUSES, or "" for all
    search: str = ""  # part of the name or the owner


def incident_subject_prefix(contract_name: str) -> str:
    """How the check service names a contract's occurrences (contract:<name>/<object>)."""
    return f"contract:{contract_name}/"


def _latest_check(**conditions) -> QuerySet[CheckRun]:
    return CheckRun.objects.filter(contract=OuterRef("pk"), **conditions).order_by("-started_at", "-id")


def contract_list(*, filters: ContractFilters) -> QuerySet[DataContract]:
    """Contracts by name with their warehouse and active version, annotated with their last check (id, status,
    start) and their open violations (those of the last completed check), filtered by that status and a search of
    name and owner."""
    latest = _latest_check()
    completed = _latest_check(status__in=COMPLETED)
    violations = (
        Violation.objects.filter(check_run=OuterRef("last_completed_id"))
        .order_by()
        .values("check_run")
        .annotate(count=Count("pk"))
        .values("count")
    )
    contracts = (
        DataContract.objects.select_related("warehouse", "active_version")
        .annotate(
            last_check_id=Subquery(latest.values("pk")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
            last_checked_at=Subquery(latest.values("started_at")[:1]),
            last_completed_id=Subquery(completed.values("pk")[:1]),
        )
        .annotate(open_violations=Coalesce(Subquery(violations, output_field=IntegerField()), Value(0)))
        .order_by("name")
    )
    if filters.search:
        contracts = contracts.filter(Q(name__icontains=filters.search) | Q(owner__icontains=filters.search))
    if filters.status == NEVER_CHECKED:
        contracts = contracts.filter(last_status__isnull=True)
    elif filters.status:
        contracts = contracts.filter(last_status=filters.status)
    return contracts


def contract_open_incidents(*, contract_names: Iterable[str]) -> dict[str, list[Incident]]:
    """Contract name -> the open incidents its checks reported (one per broken table), in one query."""
    names = list(contract_names)
    if not names:
        return {}
    about = Q()
    for name in names:
        about |= Q(latest_occurrence__subject__startswith=incident_subject_prefix(name))
    incidents = (
        Incident.objects.filter(about, source=Occurrence.Source.CONTRACT_CHECK)
        .exclude(status=Incident.Status.RESOLVED)
        .select_related("latest_occurrence")
        .order_by("-last_seen_at", "-id")
    )
    found: dict[str, list[Incident]] = {}
    for incident in incidents:
        subject = incident.latest_occurrence.subject if incident.latest_occurrence else ""
        name = subject.removeprefix("contract:").split("/", 1)[0]
        found.setdefault(name, []).append(incident)
    return found


def contract_get(*, contract_id: int) -> DataContract | None:
    """One contract with its warehouse and active version (and who published it), or None."""
    return (
        DataContract.objects.select_related("warehouse", "active_version__published_by").filter(pk=contract_id).first()
    )


def contract_producers(*, contract_id: int) -> list[ContractProducer]:
    return list(ContractProducer.objects.filter(contract_id=contract_id).select_related("connection"))


def contract_last_completed_check(*, contract_id: int) -> CheckRun | None:
    """The contract's latest check that ran to the end (its violations are the open ones), or None."""
    return (
        CheckRun.objects.filter(contract_id=contract_id, status__in=COMPLETED)
        .select_related("version", "triggered_by_run__pipeline")
        .order_by("-started_at", "-id")
        .first()
    )


def contract_check_violations(*, check_run_id: int) -> list[Violation]:
    """A check's violations, by table, failed before warnings, then by rule."""
    return list(Violation.objects.filter(check_run_id=check_run_id).order_by("object", "status", "rule"))


def contract_check_runs(*, contract_id: int) -> QuerySet[CheckRun]:
    """A contract's checks, newest first, with the producing run (and its pipeline) and who asked."""
    return (
        CheckRun.objects.filter(contract_id=contract_id)
        .select_related("version", "triggered_by_run__pipeline", "requested_by")
        .order_by("-started_at", "-id")
    )


def contract_observed_check(*, contract_id: int) -> CheckRun | None:
    """The latest check that saw the tables' columns (its observed schema), or None."""
    return (
        CheckRun.objects.filter(contract_id=contract_id)
        .exclude(observed_schema={})
        .order_by("-started_at", "-id")
        .only("pk", "started_at", "observed_schema")
        .first()
    )


def contract_schema_changes(*, check_run_id: int) -> list[Violation]:
    """The schema changes (added, removed, retyped, renamed columns) a check found."""
    return list(
        Violation.objects.filter(check_run_id=check_run_id, kind__startswith="schema_").order_by("object", "column")
    )


def contract_versions(*, contract_id: int) -> list[ContractVersion]:
    """Every published version of a contract, newest first, with who published it."""
    return list(
        ContractVersion.objects.filter(contract_id=contract_id).select_related("published_by").order_by("-number")
    )


def contracts_fed_by(*, pipeline: Pipeline) -> list[DataContract]:
    """The contracts whose producers name this pipeline (its connection, and a pattern matching its name), by name,
    in one query."""
    producers = ContractProducer.objects.filter(connection_id=pipeline.connection_id).select_related("contract")
    fed = {p.contract_id: p.contract for p in producers if fnmatch.fnmatchcase(pipeline.name, p.pipeline_pattern)}
    return sorted(fed.values(), key=lambda contract: contract.name)
