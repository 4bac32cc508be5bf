"""Reads for the incidents app; each list fetches its relations up front so pages run a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import UserManager
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from aimsweb.choices import Severity
from incidents.filters import ALL_STATUSES, DEFAULT_STATUS, OPEN_STATUSES, IncidentFilters
from incidents.models import Incident, IncidentEvent, Notification, TicketLink
from incidents.selectors.parts import part_count_subquery
from monitors.models import PipelineRun
from remediation.models import RetryAttempt
from remediation.selectors import PENDING as PENDING_ATTEMPT


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
        Incident.objects.select_related(
            "pipeline", "connection", "assignee", "latest_run", "analysis", "latest_occurrence__run"
        )
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
    runs: list[PipelineRun] = list(
        PipelineRun.objects.filter(analysis__incident=incident)
        .select_related("pipeline")
        .annotate(retry_pending=Exists(in_flight))
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
            .select_related("channel", "incident", "digest")  # the rows say what happened to each, in words
            .order_by("-created_at", "-id")[:notification_limit]
        ),
    )


def incident_pending_attempts(*, incident_ids: Iterable[int]) -> dict[int, RetryAttempt]:
    """The soonest pending attempt (scheduled, claimed or running) of a run counted in each of these incidents that
    has one, with its policy, in one query: what the lists' retry badges show."""
    attempts = (
        RetryAttempt.objects.filter(run__analysis__incident_id__in=list(incident_ids), status__in=PENDING_ATTEMPT)
        .select_related("policy")
        .annotate(incident_id=F("run__analysis__incident_id"))
        .order_by("-scheduled_for", "-id")
    )
    return {vars(attempt)["incident_id"]: attempt for attempt in attempts}  # the soonest comes last, and wins


def incident_assignee_choices() -> QuerySet:  # of the user model, whichever it is
    """Active people who can act on incidents (Responder or Admin role, or superuser), by username."""
    # Named: with several backends (axes throttles logins ahead of the model backend) Django cannot pick one.
    people = cast(UserManager, get_user_model()._default_manager)
    return people.with_perm(
        "incidents.acknowledge_incident", backend="django.contrib.auth.backends.ModelBackend"
    ).order_by("username")


# --- The incident list ---------------------------------------------------------------------------------------------

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
# What each column of incidents.filters.INCIDENT_SORTS orders by, and whether it is a time (ties by id alone).
_SORT_KEYS: dict[str, tuple[F | Case, bool]] = {
    "last_seen": (F("last_seen_at"), True),
    "opened": (F("opened_at"), True),
    "severity": (_SEVERITY_URGENCY, False),
    "occurrences": (F("occurrence_count"), False),
    "status": (_STATUS_URGENCY, False),
}


def _ordering(sort: str) -> list[OrderBy | str]:
    """The ORDER BY of a sort such as "-severity", with ties broken the same way every time (stable pages)."""
    key, by_time = _SORT_KEYS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    order = key.desc() if descending else key.asc()
    if by_time:
        # Ties by id in the same direction, as the (-last_seen_at, -id) indexes store them.
        return [order, "-id" if descending else "id"]
    return [order, "-last_seen_at", "-id"]


def _matching(*, filters: IncidentFilters, user_id: int | None) -> QuerySet[Incident]:
    """The incidents every filter but the status selects ("me" is `user_id`)."""
    incidents = Incident.objects.all()
    if filters.severities:
        incidents = incidents.filter(severity__in=filters.severities)
    if filters.categories:
        incidents = incidents.filter(category__in=filters.categories)
    if filters.connection_id is not None:
        incidents = incidents.filter(connection_id=filters.connection_id)
    if filters.pipeline_id is not None:
        incidents = incidents.filter(pipeline_id=filters.pipeline_id)
    if filters.assignee == "none":
        incidents = incidents.filter(assignee__isnull=True)
    elif filters.assignee == "me":
        incidents = incidents.filter(assignee_id=user_id)
    elif filters.assignee:
        incidents = incidents.filter(assignee_id=filters.assignee)
    if filters.time_range.since is not None:
        incidents = incidents.filter(last_seen_at__gte=filters.time_range.since)
    if filters.time_range.until is not None:
        incidents = incidents.filter(opened_at__lte=filters.time_range.until)
    if filters.text:
        incidents = incidents.filter(
            Q(title__icontains=filters.text) | Q(latest_run__error_message__icontains=filters.text)
        )
    return incidents


def incident_open_counts(*, filters: IncidentFilters, user_id: int | None) -> dict[str, int]:
    """How many incidents of each open status the other filters select, in one pass over the open ones (few, and
    indexed)."""
    return (
        _matching(filters=filters, user_id=user_id)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(**{status: Count("pk", filter=Q(status=status)) for status in OPEN_STATUSES})
    )


def incident_list(*, filters: IncidentFilters, user_id: int | None) -> QuerySet[Incident]:
    """The incidents the filters select, in their sort order. Page it by id (`.values_list("pk", flat=True)`, an
    index scan however deep the page) and join only a page's rows with `incident_list_rows`."""
    incidents = _matching(filters=filters, user_id=user_id)
    if filters.status == DEFAULT_STATUS:
        incidents = incidents.exclude(status=Incident.Status.RESOLVED)
    elif filters.status != ALL_STATUSES:
        incidents = incidents.filter(status=filters.status)
    return incidents.order_by(*_ordering(filters.sort))


def incident_list_rows(*, ids: Iterable[int], sort: str) -> QuerySet[Incident]:
    """The incidents of one page of ids, in `sort` order, with what the list shows of each."""
    return (
        Incident.objects.filter(pk__in=ids)
        .select_related("pipeline", "connection", "assignee", "latest_run")
        # The run's payload and trace can be large; the list shows only its error message.
        .defer("latest_run__raw", "latest_run__failure_detail", "latest_run__error_trace")
        # How many pipelines a storm's incident counts (its parts).
        .annotate(affected_pipelines=part_count_subquery())
        .order_by(*_ordering(sort))
    )


def incident_export_list(*, filters: IncidentFilters, user_id: int | None, limit: int) -> QuerySet[Incident]:
    """The first `limit` incidents the filters select, in list order, with what an export writes of each."""
    return (
        incident_list(filters=filters, user_id=user_id)
        .select_related("pipeline", "connection", "assignee", "latest_run")
        .only(
            *("id", "status", "severity", "category", "title", "occurrence_count"),
            *("first_seen_at", "last_seen_at", "opened_at", "acknowledged_at", "resolved_at"),
            *("pipeline__name", "connection__name", "assignee__username", "latest_run__error_message"),
        )[:limit]
    )
