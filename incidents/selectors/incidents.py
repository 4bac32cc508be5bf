"""Reads for the incidents app; each list fetches its relations up front so pages run a fixed number of queries."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, OuterRef, QuerySet, Sum, TextField, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.utils import timezone

from incidents.models import FailureAnalysis, Incident, IncidentEvent, Notification, TicketLink
from monitors.models import PipelineRun, RetryAttempt


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
    return get_user_model().objects.with_perm("incidents.acknowledge_incident").order_by("username")
