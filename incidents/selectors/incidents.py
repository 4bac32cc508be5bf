"""Reads for the incidents app; each list fetches its relations up front so pages run a fixed number of queries."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, TextField, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.urls import reverse
from django.utils import timezone

from aimsweb.choices import Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Notification, TicketLink
from monitors.models import PipelineRun
from remediation.models import RetryAttempt


def incident_list(*, limit: int = 100) -> QuerySet[Incident]:
    """Newest activity first, with what the list shows of each incident."""
    return Incident.objects.select_related("pipeline", "connection", "assignee").order_by("-last_seen_at", "-id")[
        :limit
    ]


def llm_usage_by_day(*, days: int = 30) -> list[dict]:
    """LLM calls, tokens and cost per day (cache hits cost nothing and are not calls), newest day first."""
    since = timezone.now() - timedelta(days=days)
    return list(
        FailureAnalysis.objects.filter(analyzer=FailureAnalysis.Analyzer.LLM, cache_hit=False, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            calls=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("-day")
    )


@dataclass(frozen=True)
class IncidentDetail:
    """Everything the incident page shows besides the incident row itself."""

    events: list[IncidentEvent]
    events_truncated: bool
    tickets: list[TicketLink]
    runs: list[PipelineRun]
    attempts: list[RetryAttempt]
    notifications: list[Notification]


def incident_get(*, incident_id: int) -> Incident | None:
    """One incident with what its page header shows, or None."""
    return (
        Incident.objects.select_related("pipeline", "connection", "assignee", "latest_run", "analysis")
        .filter(pk=incident_id)
        .first()
    )


def incident_run_get(*, incident_id: int, run_id: int) -> PipelineRun | None:
    """A run counted in this incident, or None (also for a run of another incident)."""
    return PipelineRun.objects.filter(pk=run_id, analysis__incident_id=incident_id).first()


def incident_detail(
    *,
    incident: Incident,
    event_limit: int = 200,
    run_limit: int = 50,
    attempt_limit: int = 100,
    notification_limit: int = 50,
) -> IncidentDetail:
    """The timeline, tickets, counted runs, their retry attempts and the notification log of one incident, each
    newest first and capped, in a fixed number of queries whatever their size."""
    events = list(
        IncidentEvent.objects.filter(incident=incident)
        .select_related("actor_user")
        .order_by("-created_at", "-id")[: event_limit + 1]
    )
    in_flight = RetryAttempt.objects.filter(
        run=OuterRef("pk"),
        status__in=(RetryAttempt.Status.SCHEDULED, RetryAttempt.Status.CLAIMED, RetryAttempt.Status.RUNNING),
    )
    newline = StrIndex("error_message", Value("\n"))
    runs = list(
        PipelineRun.objects.filter(analysis__incident=incident)
        .select_related("pipeline")
        .annotate(
            retry_pending=Exists(in_flight),
            error_headline=Case(
                When(error_message__contains="\n", then=Substr("error_message", 1, newline - 1)),
                default=F("error_message"),
                output_field=TextField(),
            ),
        )
        .order_by(F("started_at").desc(nulls_last=True), "-id")[:run_limit]
    )
    attempts = list(
        RetryAttempt.objects.filter(run__analysis__incident=incident)
        .select_related("run", "policy", "requested_by")
        .order_by("-created_at", "-id")[:attempt_limit]
    )
    return IncidentDetail(
        events=events[:event_limit],
        events_truncated=len(events) > event_limit,
        tickets=list(TicketLink.objects.filter(incident=incident)),
        runs=runs,
        attempts=attempts,
        notifications=list(
            Notification.objects.filter(incident=incident)
            .select_related("channel")
            .order_by("-created_at", "-id")[:notification_limit]
        ),
    )


def incident_assignee_choices() -> QuerySet:
    """Active people who can act on incidents (Responder or Admin role, or superuser), by username."""
    # Named: with several backends (axes throttles logins ahead of the model backend) Django cannot pick one.
    return (
        get_user_model()
        .objects.with_perm("incidents.acknowledge_incident", backend="django.contrib.auth.backends.ModelBackend")
        .order_by("username")
    )


# --- The incident list page ---------------------------------------------------------------------------------------

INCIDENT_PAGE_SIZE = 50
INCIDENT_OPEN_STATUSES = [status for status in Incident.Status if status != Incident.Status.RESOLVED]
DEFAULT_STATUS = "open"
DEFAULT_SORT = "-last_seen"
# The order of the query string, so the same filters always give the same (shareable, cacheable) link.
FILTER_PARAMS = ("status", "severity", "category", "connection", "pipeline", "assignee", "q", "sort")


@dataclass(frozen=True)
class IncidentSort:
    """A sortable column: descending means newest, most urgent or most frequent first."""

    label: str
    descending: str
    ascending: str
    key: Any
    by_time: bool = False


# Higher is more urgent, so "descending" reads "most urgent first" for severity and status alike.
_SEVERITY_URGENCY = Case(
    *[When(severity=severity, then=Value(len(Severity) - rank)) for rank, severity in enumerate(Severity)],
    default=Value(0),
    output_field=IntegerField(),
)
_STATUS_URGENCY = Case(
    When(status=Incident.Status.TRIGGERED, then=Value(3)),
    When(status=Incident.Status.ACKNOWLEDGED, then=Value(2)),
    When(status=Incident.Status.SILENCED, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)
INCIDENT_SORTS = {
    "last_seen": IncidentSort("Last seen", "newest first", "oldest first", F("last_seen_at"), by_time=True),
    "opened": IncidentSort("Opened", "newest first", "oldest first", F("opened_at"), by_time=True),
    "severity": IncidentSort("Severity", "critical first", "info first", _SEVERITY_URGENCY),
    "occurrences": IncidentSort("Occurrences", "most first", "fewest first", F("occurrence_count")),
    "status": IncidentSort("Status", "triggered first", "resolved first", _STATUS_URGENCY),
}


class IncidentListPage(TypedDict):
    """Everything the incident list shows: the template's context, for the page, its partials and the websocket."""

    form: Any
    problems: list[str]
    incidents: list[Incident]
    page: Page
    total: int
    status: str
    status_counts: list[dict]
    sort: str
    sort_columns: dict[str, dict]
    page_links: list[dict]
    previous_url: str
    next_url: str
    query: str
    list_url: str
    filtered: bool
    can_acknowledge: bool
    can_resolve: bool
    can_bulk: bool


def _ordering(sort: str) -> list:
    """The ORDER BY of a sort such as "-severity", with ties broken the same way every time (stable pages)."""
    sort_def = INCIDENT_SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    key = sort_def.key.desc() if descending else sort_def.key.asc()
    if sort_def.by_time:
        # Ties by id in the same direction, as the (-last_seen_at, -id) indexes store them.
        return [key, "-id" if descending else "id"]
    return [key, "-last_seen_at", "-id"]


def _query(params: dict, **changes) -> str:
    """A query string of the given (valid, non-default) params with some changed; empty values are left out."""
    merged = {**params, **changes}
    pairs = []
    for name in (*FILTER_PARAMS, "page"):
        value = merged.get(name)
        if isinstance(value, list):
            pairs.extend((name, item) for item in value)
        elif value not in (None, ""):
            pairs.append((name, value))
    return urlencode(pairs)


def incident_list_page(*, params: Mapping, user: AbstractBaseUser) -> IncidentListPage:
    """One page of the incident list for these query-string params (a QueryDict, or a plain dict), as `user` sees
    it: filters checked by IncidentFilterForm (an invalid one is reported and left out), sorted, 50 a page, with the
    counts and links the page shows. A fixed number of queries whatever the number of incidents."""
    from incidents.forms import IncidentFilterForm  # the forms module reads this one's choices

    form = IncidentFilterForm(data=params, auto_id="filter-%s")
    form.is_valid()
    data = form.cleaned_data  # the valid fields only
    problems = [f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()]

    incidents = Incident.objects.all()
    if data.get("severity"):
        incidents = incidents.filter(severity__in=data["severity"])
    if data.get("category"):
        incidents = incidents.filter(category__in=data["category"])
    if data.get("connection"):
        incidents = incidents.filter(connection=data["connection"])
    if data.get("pipeline"):
        incidents = incidents.filter(pipeline=data["pipeline"])
    assignee = data.get("assignee")
    if assignee == "none":
        incidents = incidents.filter(assignee__isnull=True)
    elif assignee == "me":
        incidents = incidents.filter(assignee_id=user.pk)
    elif assignee:
        incidents = incidents.filter(assignee=assignee)
    if data.get("q"):
        incidents = incidents.filter(Q(title__icontains=data["q"]) | Q(latest_run__error_message__icontains=data["q"]))

    status = data.get("status") or DEFAULT_STATUS
    # One pass over the open ones (few, and indexed) counts each open status under the other filters.
    open_counts = incidents.filter(status__in=INCIDENT_OPEN_STATUSES).aggregate(
        **{status_: Count("pk", filter=Q(status=status_)) for status_ in INCIDENT_OPEN_STATUSES}
    )
    if status == DEFAULT_STATUS:
        incidents = incidents.exclude(status=Incident.Status.RESOLVED)
        total = sum(open_counts.values())
    elif status in open_counts:
        incidents = incidents.filter(status=status)
        total = open_counts[status]
    else:
        if status != "all":
            incidents = incidents.filter(status=status)
        total = None  # the paginator counts them

    sort = data.get("sort") or DEFAULT_SORT
    ordering = _ordering(sort)
    # Pages are cut from the ids alone (an index scan, however deep the page), and only that page's rows are joined.
    paginator = Paginator(incidents.order_by(*ordering).values_list("pk", flat=True), INCIDENT_PAGE_SIZE)
    if total is not None:
        paginator.count = total  # counted above: no second COUNT
    try:
        number = int(params.get("page") or 1)
    except (TypeError, ValueError):
        number = 1
        problems.append("Page: give a page number; showing the first page.")
    page = paginator.page(min(max(number, 1), paginator.num_pages))
    rows = list(
        Incident.objects.filter(pk__in=page.object_list)
        .select_related("pipeline", "connection", "assignee", "latest_run")
        # The run's payload and trace can be large; the list shows only its error message.
        .defer("latest_run__raw", "latest_run__failure_detail", "latest_run__error_trace")
        .order_by(*ordering)
    )

    query_params = _canonical(data, status=status, sort=sort)
    page_param = page.number if page.number > 1 else None

    def page_url(number: int) -> str:
        return "?" + _query(query_params, page=number if number > 1 else None)

    sort_columns = {}
    for name in INCIDENT_SORTS:
        active = sort.removeprefix("-") == name
        descending = sort.startswith("-")
        # A click on the sorted column flips it; on another column, sorts it descending (most urgent first).
        target = name if active and descending else f"-{name}"
        sort_columns[name] = {
            "url": "?" + _query(query_params, sort=None if target == DEFAULT_SORT else target),
            "active": active,
            "aria": ("descending" if descending else "ascending") if active else "none",
        }
    status_counts = [
        {
            "status": status_,
            "label": Incident.Status(status_).label,
            "count": open_counts[status_],
            "url": "?" + _query(query_params, status=status_),
            "active": status == status_,
        }
        for status_ in INCIDENT_OPEN_STATUSES
    ]
    query = _query(query_params, page=page_param)
    can_acknowledge = user.has_perm("incidents.acknowledge_incident")
    can_resolve = user.has_perm("incidents.resolve_incident")
    return IncidentListPage(
        form=form,
        problems=problems,
        incidents=rows,
        page=page,
        total=paginator.count,
        status=status,
        status_counts=status_counts,
        sort=sort,
        sort_columns=sort_columns,
        page_links=[
            {"number": None}
            if number == paginator.ELLIPSIS
            else {"number": number, "url": page_url(number), "current": number == page.number}
            for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ],
        previous_url=page_url(page.number - 1) if page.has_previous() else "",
        next_url=page_url(page.number + 1) if page.has_next() else "",
        query=query,
        list_url=reverse("incidents:list") + (f"?{query}" if query else ""),
        filtered=any(query_params.get(name) for name in FILTER_PARAMS if name not in ("status", "sort")),
        can_acknowledge=can_acknowledge,
        can_resolve=can_resolve,
        can_bulk=can_acknowledge or can_resolve,
    )


def _canonical(data: dict, *, status: str, sort: str) -> dict:
    """The valid filters as query-string values, defaults left out."""
    assignee = data.get("assignee")
    return {
        "status": None if status == DEFAULT_STATUS else status,
        "severity": data.get("severity") or [],
        "category": data.get("category") or [],
        "connection": data["connection"].pk if data.get("connection") else None,
        "pipeline": data["pipeline"].pk if data.get("pipeline") else None,
        "assignee": assignee if assignee in ("me", "none") else (assignee.pk if assignee else None),
        "q": data.get("q") or None,
        "sort": None if sort == DEFAULT_SORT else sort,
    }
