"""The contract list: every contract with its owner, warehouse, tables, last check and open violations, and the
open incidents its checks reported; filtered by the last check's status and searched by name or owner."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator

from aimsweb.querystring import positive_int, query_string
from contracts.models import CheckRun, DataContract
from contracts.selectors import LIST_STATUSES, NEVER_CHECKED, ContractFilters, contract_list, contract_open_incidents
from incidents.models import Incident

CONTRACTS_PER_PAGE = 50
STATUS_CHOICES = [*CheckRun.Status.choices, (NEVER_CHECKED, "Never checked")]


@dataclass(frozen=True)
class ContractRow:
    contract: DataContract
    tables: list[str]
    last_status: str  # a check status, or "never"
    last_status_label: str
    last_checked_at: Any
    open_violations: int
    incidents: list[Incident]


def spec_tables(spec: dict | None) -> list[str]:
    """The tables a contract version's schema objects name (their physical names where given)."""
    objects = (spec or {}).get("schema") or []
    return [str(obj.get("physicalName") or obj.get("name") or "") for obj in objects if isinstance(obj, dict)]


def contract_filters(params: Mapping[str, Any]) -> ContractFilters:
    """The list's filters from its query string; an unknown status is ignored."""
    status = str(params.get("status", "") or "")
    return ContractFilters(
        status=status if status in LIST_STATUSES else "", search=str(params.get("q", "") or "").strip()[:200]
    )


def contract_list_page(*, params: Mapping[str, Any]) -> dict[str, Any]:
    """One page of contracts for these query-string params, in three queries (count, page, open incidents)
    whatever their number."""
    filters = contract_filters(params)
    paginator = Paginator(contract_list(filters=filters), CONTRACTS_PER_PAGE)
    page = paginator.get_page(positive_int(params.get("page")) or 1)
    contracts: list[DataContract] = list(page.object_list)
    incidents = contract_open_incidents(contract_names=[c.name for c in contracts])
    labels = dict(STATUS_CHOICES)
    rows = []
    for contract in contracts:
        annotated = vars(contract)  # the selector's annotations, which the model class does not declare
        status = annotated["last_status"] or NEVER_CHECKED
        rows.append(
            ContractRow(
                contract=contract,
                tables=spec_tables(contract.active_version.spec if contract.active_version else None),
                last_status=status,
                last_status_label=labels.get(status, status),
                last_checked_at=annotated["last_checked_at"],
                open_violations=annotated["open_violations"],
                incidents=incidents.get(contract.name, []),
            )
        )
    filters_query = query_string({"status": filters.status, "q": filters.search})
    return {
        "rows": rows,
        "page": page,
        "status": filters.status,
        "search": filters.search,
        "statuses": STATUS_CHOICES,
        "filtered": bool(filters.status or filters.search),
        "filters": filters_query,
        "query": query_string(
            {"status": filters.status, "q": filters.search, "page": page.number if page.number > 1 else None}
        ),
    }
