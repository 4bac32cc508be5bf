"""The incident list page: the filter form, one page of incidents, the counts, and the links that keep the filters
(sort, status and page links, with aria-sort states), plus what the user's role may do with the rows. Serves the
page, its htmx partials and its websocket alike."""

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.urls import reverse

from aimsweb.querystring import query_string
from aimsweb.time_range import period_chips
from incidents.filters import DEFAULT_SORT, DEFAULT_STATUS, INCIDENT_SORTS, OPEN_STATUSES, IncidentFilters
from incidents.list_forms import IncidentFilterForm
from incidents.models import Incident
from incidents.pages.retries import retry_badges_attach
from incidents.selectors import (
    incident_assignee_choices,
    incident_list,
    incident_list_rows,
    incident_open_counts,
    incident_pending_attempts,
)
from incidents.services.incidents import INCIDENTS_BULK_MAX, BulkOutcome

INCIDENT_PAGE_SIZE = 50
# The order of the query string, so the same filters always give the same (shareable, cacheable) link.
FILTER_PARAMS = (
    "status",
    "severity",
    "category",
    "connection",
    "pipeline",
    "assignee",
    "q",
    "period",
    "since",
    "until",
    "sort",
)


class IncidentListPage(TypedDict):
    """Everything the incident list shows: the template's context, for the page, its partials and the websocket."""

    form: IncidentFilterForm
    problems: list[str]
    incidents: list[Incident]
    page: Page
    total: int
    status: str
    status_counts: list[dict[str, Any]]
    sort: str
    sort_columns: dict[str, dict[str, Any]]
    page_links: list[dict[str, Any]]
    previous_url: str
    next_url: str
    query: str
    list_url: str
    filtered: bool
    can_acknowledge: bool
    can_resolve: bool
    can_silence: bool
    can_assign: bool
    can_comment: bool
    can_bulk: bool
    bulk_max: int
    assignees: Any
    quick_filters: list[dict[str, Any]]
    export_query: str


def incident_list_page(*, params: Mapping[str, Any], user: AbstractUser | AnonymousUser) -> IncidentListPage:
    """One page of the incident list for these query-string params (a QueryDict, or a plain dict), as `user` sees
    it: filters checked by IncidentFilterForm (an invalid one is reported and left out), sorted, 50 a page, with the
    counts and links the page shows. A fixed number of queries whatever the number of incidents."""
    form = IncidentFilterForm(data=params, auto_id="filter-%s")
    form.is_valid()
    filters = form.filters()
    problems = [f"{form.fields[name].label}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]

    open_counts = incident_open_counts(filters=filters, user_id=user.pk)
    if filters.status == DEFAULT_STATUS:
        total: int | None = sum(open_counts.values())
    else:
        total = open_counts.get(filters.status)  # None: the paginator counts them
    ordered = incident_list(filters=filters, user_id=user.pk)
    paginator = Paginator(ordered.values_list("pk", flat=True), INCIDENT_PAGE_SIZE)
    if total is not None:
        paginator.count = total  # counted above: no second COUNT
    page = paginator.page(min(max(filters.page, 1), paginator.num_pages))
    rows = list(incident_list_rows(ids=page.object_list, sort=filters.sort))
    retry_badges_attach(rows, incident_pending_attempts(incident_ids=[row.pk for row in rows]))

    params_kept = _canonical(filters)

    def link(**changes: object) -> str:
        return "?" + query_string({**params_kept, **changes})

    def page_url(number: int) -> str:
        return link(page=number if number > 1 else None)

    query = query_string({**params_kept, "page": page.number if page.number > 1 else None})
    can_acknowledge = user.has_perm("incidents.acknowledge_incident")
    can_resolve = user.has_perm("incidents.resolve_incident")
    can_silence = user.has_perm("incidents.silence_incident")
    can_assign = user.has_perm("incidents.assign_incident")
    can_comment = user.has_perm("incidents.comment_incident")
    can_bulk = can_acknowledge or can_resolve or can_silence or can_assign or can_comment
    return IncidentListPage(
        form=form,
        problems=problems,
        incidents=rows,
        page=page,
        total=paginator.count,
        status=filters.status,
        status_counts=[
            {
                "status": status,
                "label": Incident.Status(status).label,
                "count": open_counts[status],
                "url": link(status=status),
                "active": filters.status == status,
            }
            for status in OPEN_STATUSES
        ],
        sort=filters.sort,
        sort_columns=_sort_columns(filters, link),
        page_links=[
            {"number": number, "url": page_url(number), "current": number == page.number}
            if isinstance(number, int)
            else {"number": None}  # the ellipsis
            for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ],
        previous_url=page_url(page.number - 1) if page.has_previous() else "",
        next_url=page_url(page.number + 1) if page.has_next() else "",
        query=query,
        list_url=reverse("incidents:list") + (f"?{query}" if query else ""),
        filtered=any(params_kept[name] for name in FILTER_PARAMS if name not in ("status", "sort")),
        can_acknowledge=can_acknowledge,
        can_resolve=can_resolve,
        can_silence=can_silence,
        can_assign=can_assign,
        can_comment=can_comment,
        can_bulk=can_bulk,
        bulk_max=INCIDENTS_BULK_MAX,
        # Read only when the template draws the bulk form's select.
        assignees=incident_assignee_choices() if can_assign else [],
        quick_filters=_quick_filters(filters, link),
        export_query=query_string(params_kept),
    )


def _quick_filters(filters: IncidentFilters, link: Callable[..., str]) -> list[dict[str, Any]]:
    """One-click time ranges and "mine", each a link that keeps the other filters (a second click clears it)."""
    chips = period_chips(filters.time_range, link)
    mine = filters.assignee == "me"
    chips.append({"label": "Mine", "url": link(assignee=None if mine else "me", page=None), "active": mine})
    return chips


def _sort_columns(filters: IncidentFilters, link: Callable[..., str]) -> dict[str, dict[str, Any]]:
    """Each column's sort link and aria-sort state. A click on the sorted column flips it; on another column, sorts
    it descending (most urgent first)."""
    columns = {}
    for name in INCIDENT_SORTS:
        active = filters.sort_column == name
        target = name if active and filters.sort_descending else f"-{name}"
        columns[name] = {
            "url": link(sort=None if target == DEFAULT_SORT else target),
            "active": active,
            "aria": ("descending" if filters.sort_descending else "ascending") if active else "none",
        }
    return columns


def _canonical(filters: IncidentFilters) -> dict[str, object]:
    """The filters as query-string values in FILTER_PARAMS order, defaults left out."""
    return {
        "status": None if filters.status == DEFAULT_STATUS else filters.status,
        "severity": list(filters.severities),
        "category": list(filters.categories),
        "connection": filters.connection_id,
        "pipeline": filters.pipeline_id,
        "assignee": filters.assignee or None,
        "q": filters.text or None,
        **filters.time_range.params(),
        "sort": None if filters.sort == DEFAULT_SORT else filters.sort,
    }


def incident_list_filters(*, params: Mapping[str, Any]) -> IncidentFilters:
    """The filters of these query-string params as the list applies them (an invalid one left out)."""
    form = IncidentFilterForm(data=params)
    form.is_valid()
    return form.filters()


def incident_list_matching_ids(
    *, params: Mapping[str, Any], user: AbstractUser | AnonymousUser, limit: int
) -> tuple[list[int], int]:
    """The ids of the incidents the list's filters match (what "select all matching" acts on), at most `limit`, and
    how many match in all (counted only when more than `limit` do)."""
    matching = incident_list(filters=incident_list_filters(params=params), user_id=user.pk)
    ids = list(matching.values_list("pk", flat=True)[: limit + 1])
    if len(ids) <= limit:
        return ids, len(ids)
    return ids[:limit], matching.count()


BULK_OUTCOME_WORDS = {"done": "done", "unchanged": "skipped", "refused": "refused", "not_found": "not found"}


def bulk_outcome_lines(outcomes: list[BulkOutcome]) -> list[str]:
    """One line per incident of a bulk action: "#12: done", "#13: skipped (Already acknowledged.)"."""
    lines = []
    for outcome in outcomes:
        words = BULK_OUTCOME_WORDS.get(outcome.outcome, outcome.outcome)
        lines.append(f"#{outcome.incident_id}: {words}" + (f" ({outcome.detail})" if outcome.detail else ""))
    return lines
