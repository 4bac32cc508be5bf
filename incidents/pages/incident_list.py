"""The incident list page: the filter form, one page of incidents, the counts, and the links that keep the filters
(sort, status and page links, with aria-sort states), plus what the user's role may do with the rows. Serves the
page, its htmx partials and its websocket alike."""

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.urls import reverse

from aimsweb.querystring import query_string
from incidents.filters import DEFAULT_SORT, DEFAULT_STATUS, INCIDENT_SORTS, OPEN_STATUSES, IncidentFilters
from incidents.forms import IncidentFilterForm
from incidents.models import Incident
from incidents.pages.retries import retry_badges_attach
from incidents.selectors import incident_list, incident_list_rows, incident_open_counts, incident_pending_attempts

INCIDENT_PAGE_SIZE = 50
# The order of the query string, so the same filters always give the same (shareable, cacheable) link.
FILTER_PARAMS = ("status", "severity", "category", "connection", "pipeline", "assignee", "q", "sort")


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
    can_bulk: bool


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
        can_bulk=can_acknowledge or can_resolve,
    )


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
        "sort": None if filters.sort == DEFAULT_SORT else filters.sort,
    }
