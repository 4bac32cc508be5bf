"""Reads of the dashboard: counts and means of incidents, runs and LLM calls, each aggregated in the database in
one query, so the dashboard runs a fixed number of queries whatever the data size."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, Avg, Count, F, FilteredRelation, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDay, TruncHour

from aimsweb.choices import ErrorCategory
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from monitors.models import PipelineRun

# How much earlier than its run's start an analysis may be stamped (the platform's clock against ours).
ANALYSIS_CLOCK_MARGIN = timedelta(days=1)
# An age range of open incidents: (newer than, older than or as old as); None leaves that end open.
AgeRange = tuple[timedelta | None, timedelta | None]


def _open_incidents() -> QuerySet[Incident]:
    # Spelt exactly like the predicate of the partial indexes on open incidents, so PostgreSQL can use them.
    return Incident.objects.exclude(status=Incident.Status.RESOLVED)


def open_incident_counts(*, now: datetime, ages: Sequence[AgeRange]) -> dict[str, tuple[int, ...]]:
    """Open incidents counted by severity × time since opened (one count per age range), in one grouped query;
    severities without an open incident are left out."""
    counts = {}
    for index, (newer, older) in enumerate(ages):
        age = Q()
        if newer is not None:
            age &= Q(opened_at__lte=now - newer)
        if older is not None:
            age &= Q(opened_at__gt=now - older)
        counts[f"age_{index}"] = Count("opened_at", filter=age)
    # The age counts' names are built above, so the checker cannot know this row's keys.
    rows: Iterable[Mapping[str, Any]] = _open_incidents().values("severity").annotate(**counts).order_by()
    return {row["severity"]: tuple(row[f"age_{index}"] for index in range(len(ages))) for row in rows}


def open_incident_list_recent(*, limit: int) -> QuerySet[Incident]:
    """The most recently opened open incidents, with their pipeline."""
    return _open_incidents().select_related("pipeline").order_by("-opened_at", "-id")[:limit]


@dataclass(frozen=True)
class WindowFigures:
    """A time window's figures; the `*_before` ones are the same over the window of the same length before it."""

    failures: int
    failures_before: int
    opened: int
    opened_before: int
    mtta: timedelta | None
    mtta_before: timedelta | None
    mttr: timedelta | None
    mttr_before: timedelta | None
    resolved: int
    resolved_before: int
    auto_resolved: int
    auto_resolved_before: int
    llm_cost: Decimal
    llm_cost_before: Decimal
    llm_calls: int
    llm_calls_before: int


def window_figures(*, start: datetime, now: datetime) -> WindowFigures:
    """Failed runs, incidents opened, MTTA, MTTR, automatic resolutions and LLM cost and calls over [start, now] and
    over the window as long before it.

    One query per table and timestamp, each over a range of that timestamp, so that each reads one narrow index
    (see the models' Meta.indexes) and never the table; counts count the indexed timestamp, not the id, for that
    reason.
    """
    before = start - (now - start)

    def both(name: str, field: str, aggregate: Callable[[Q], Aggregate]) -> dict[str, Aggregate]:
        """The aggregate over the window as `name` and over the window before as `name`_before, by `field`."""
        return {
            name: aggregate(Q(**{f"{field}__gte": start})),
            f"{name}_before": aggregate(Q(**{f"{field}__lt": start})),
        }

    def since_before(field: str) -> dict:
        return {f"{field}__gte": before, f"{field}__lte": now}

    failures = PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, **since_before("started_at")).aggregate(
        **both("n", "started_at", lambda when: Count("started_at", filter=when))
    )
    opened = Incident.objects.filter(**since_before("opened_at")).aggregate(
        **both("n", "opened_at", lambda when: Count("opened_at", filter=when))
    )
    acknowledged = Incident.objects.filter(**since_before("acknowledged_at")).aggregate(
        **both("mean", "acknowledged_at", lambda when: Avg(F("acknowledged_at") - F("opened_at"), filter=when))
    )
    resolved = Incident.objects.filter(**since_before("resolved_at")).aggregate(
        **both("n", "resolved_at", lambda when: Count("resolved_at", filter=when)),
        **both("mean", "resolved_at", lambda when: Avg(F("resolved_at") - F("opened_at"), filter=when)),
    )
    # An incident's resolution is the resolved/auto_resolved event written with its resolved_at (services set
    # resolved_at, then add the event), so the one created at or after resolved_at; an automatic recovery that was
    # then reopened and resolved by a person is older than that resolved_at and does not count. A join rather than
    # a "latest event" subquery per incident, which would cost a lookup for each of thousands of incidents.
    automatic = IncidentEvent.objects.filter(
        Q(created_at__gte=F("incident__resolved_at")),
        kind=IncidentEvent.Kind.AUTO_RESOLVED,
        created_at__gte=before,
        incident__resolved_at__gte=before,
        incident__resolved_at__lte=now,
    ).aggregate(**both("n", "incident__resolved_at", lambda when: Count("created_at", filter=when)))
    # Only LLM analyses cost anything; a cache hit reuses an earlier answer, so it is not a call.
    llm = FailureAnalysis.objects.filter(analyzer=FailureAnalysis.Analyzer.LLM, **since_before("created_at")).aggregate(
        **both("cost", "created_at", lambda when: Sum("cost_usd", filter=when)),
        **both("calls", "created_at", lambda when: Count("created_at", filter=when & Q(cache_hit=False))),
    )
    return WindowFigures(
        failures=failures["n"],
        failures_before=failures["n_before"],
        opened=opened["n"],
        opened_before=opened["n_before"],
        mtta=acknowledged["mean"],
        mtta_before=acknowledged["mean_before"],
        mttr=resolved["mean"],
        mttr_before=resolved["mean_before"],
        resolved=resolved["n"],
        resolved_before=resolved["n_before"],
        auto_resolved=automatic["n"],
        auto_resolved_before=automatic["n_before"],
        llm_cost=llm["cost"] or Decimal(0),
        llm_cost_before=llm["cost_before"] or Decimal(0),
        llm_calls=llm["calls"],
        llm_calls_before=llm["calls_before"],
    )


def failed_run_counts_by_class(*, since: datetime, now: datetime, hourly: bool) -> QuerySet:
    """Failed runs started in [since, now] per hour (else per day) and error class, as rows of `bucket`,
    `error_class` and `failures`; a run not analysed yet counts as unknown."""
    trunc = TruncHour if hourly else TruncDay
    # A run is analysed after it started, so only analyses written since `since` (less a margin for the platform's
    # clock) can be these runs'; saying so in the join lets PostgreSQL read just those from an index and hash-join
    # them instead of looking each run's analysis up.
    recent_analysis = FilteredRelation("analysis", condition=Q(analysis__created_at__gte=since - ANALYSIS_CLOCK_MARGIN))
    return (
        PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, started_at__gte=since, started_at__lte=now)
        .annotate(recent_analysis=recent_analysis)
        .annotate(
            bucket=trunc("started_at"),
            error_class=Coalesce("recent_analysis__category", Value(ErrorCategory.UNKNOWN)),
        )
        .values("bucket", "error_class")
        .annotate(failures=Count("started_at"))
        .order_by()
    )


def failed_run_counts_by_pipeline(*, start: datetime, now: datetime, limit: int) -> QuerySet:
    """The pipelines with the most failed runs in [start, now], most first, as rows of `pipeline_id`,
    `pipeline__name` and `failures`."""
    return (
        PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, started_at__gte=start, started_at__lte=now)
        .values("pipeline_id", "pipeline__name")
        .annotate(failures=Count("started_at"))
        .order_by("-failures", "pipeline__name", "pipeline_id")[:limit]
    )
