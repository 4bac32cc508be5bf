"""What an incident page shows around the incident itself: earlier incidents with the same error signature and how
they ended, the signature's statistics, open incidents related to it now, and the runbooks that apply. Each part
is a fixed number of queries, whatever the history's size."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from incidents.models import FailureAnalysis, Incident, IncidentEvent, Runbook, SignatureStats

RESOLVE_KINDS = (IncidentEvent.Kind.RESOLVED, IncidentEvent.Kind.AUTO_RESOLVED)


@dataclass(frozen=True)
class LastResolution:
    incident: Incident
    by: str  # a person's username, or the actor's label (retry engine, a later run, an API key)
    at: datetime
    note: str
    automatic: bool


@dataclass(frozen=True)
class SignatureFacts:
    first_seen_at: datetime | None
    failures_7d: int
    failures_30d: int
    pipelines: list[str]
    pipelines_more: int
    failures: int  # every failure counted for it (the learning statistics)
    retry_recoveries: int
    median_resolve: timedelta | None


@dataclass(frozen=True)
class IncidentContext:
    signature: str
    past: list[Incident]
    past_count: int
    last_resolution: LastResolution | None
    facts: SignatureFacts | None
    related: list[Incident]
    runbooks: list[Runbook]

    @property
    def recovered_share(self) -> int | None:
        """Percent of the signature's failures a retry recovered, when it has any failures counted."""
        if self.facts is None or not self.facts.failures:
            return None
        return round(100 * self.facts.retry_recoveries / self.facts.failures)


def _past_incidents(*, signature: str, exclude_id: int) -> QuerySet[Incident]:
    same_signature = FailureAnalysis.objects.filter(incident=OuterRef("pk"), signature=signature)
    return Incident.objects.filter(Exists(same_signature)).exclude(pk=exclude_id)


def _last_resolution(past: QuerySet[Incident]) -> LastResolution | None:
    event = (
        IncidentEvent.objects.filter(incident__in=past.filter(status=Incident.Status.RESOLVED), kind__in=RESOLVE_KINDS)
        .select_related("actor_user", "incident")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    return LastResolution(
        incident=event.incident,
        by=event.actor,
        at=event.created_at,
        note=event.note if event.kind == IncidentEvent.Kind.RESOLVED else event.text,
        automatic=event.kind == IncidentEvent.Kind.AUTO_RESOLVED,
    )


def _signature_facts(*, signature: str, past: QuerySet[Incident], now: datetime, pipeline_limit: int) -> SignatureFacts:
    analyses = FailureAnalysis.objects.filter(signature=signature)
    counts = analyses.aggregate(
        first=Min("created_at"),
        d7=Count("pk", filter=Q(created_at__gte=now - timedelta(days=7))),
        d30=Count("pk", filter=Q(created_at__gte=now - timedelta(days=30))),
    )
    names = list(
        analyses.filter(run__pipeline__isnull=False)
        .order_by("run__pipeline__name")
        .values_list("run__pipeline__name", flat=True)
        .distinct()[: pipeline_limit + 1]
    )
    stats = SignatureStats.objects.filter(signature=signature).only("failures", "retry_successes").first()
    durations = sorted(
        resolved - opened
        for opened, resolved in past.filter(status=Incident.Status.RESOLVED, resolved_at__isnull=False)
        .order_by("-resolved_at")
        .values_list("opened_at", "resolved_at")[:500]
        if resolved is not None and resolved >= opened
    )
    return SignatureFacts(
        first_seen_at=counts["first"],
        failures_7d=counts["d7"],
        failures_30d=counts["d30"],
        pipelines=names[:pipeline_limit],
        pipelines_more=len(names) > pipeline_limit,
        failures=stats.failures if stats else 0,
        retry_recoveries=stats.retry_successes if stats else 0,
        median_resolve=_median(durations),
    )


def _median(ordered: list[timedelta]) -> timedelta | None:
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def incident_related(*, incident: Incident, limit: int = 10) -> list[Incident]:
    """Open incidents on the same pipeline, or of the same error class on the same connection, newest first."""
    same = Q()
    if incident.pipeline_id is not None:
        same |= Q(pipeline_id=incident.pipeline_id)
    if incident.connection_id is not None:
        same |= Q(connection_id=incident.connection_id, category=incident.category)
    if not same:
        return []
    return list(
        Incident.objects.filter(same)
        .exclude(status=Incident.Status.RESOLVED)
        .exclude(pk=incident.pk)
        .select_related("pipeline")
        .order_by("-last_seen_at", "-id")[:limit]
    )


def runbooks_for(*, connection_id: int | None, pipeline_name: str, category: str) -> list[Runbook]:
    """The enabled runbooks that apply, the most specific first (one query)."""
    candidates = Runbook.objects.filter(enabled=True).filter(
        Q(connection__isnull=True) | Q(connection_id=connection_id), Q(category="") | Q(category=category)
    )
    matching = [
        runbook
        for runbook in candidates
        if runbook.matches(connection_id=connection_id, pipeline_name=pipeline_name, category=category)
    ]
    return sorted(matching, key=lambda runbook: (tuple(-n for n in runbook.specificity), runbook.title, runbook.pk))


def incident_runbooks(*, incident: Incident) -> list[Runbook]:
    return runbooks_for(
        connection_id=incident.connection_id,
        pipeline_name=incident.pipeline.name if incident.pipeline else "",
        category=incident.category,
    )


def incident_context(
    *, incident: Incident, past_limit: int = 5, pipeline_limit: int = 10, now: datetime | None = None
) -> IncidentContext:
    """Earlier incidents with this incident's error signature (newest first), how the last one was resolved, the
    signature's statistics, related open incidents and runbooks."""
    signature = incident.analysis.signature if incident.analysis else ""
    past_list: list[Incident] = []
    past_count = 0
    last = facts = None
    if signature:
        past = _past_incidents(signature=signature, exclude_id=incident.pk)
        past_list = list(past.select_related("pipeline").order_by("-opened_at", "-id")[:past_limit])
        past_count = past.count()
        last = _last_resolution(past)
        facts = _signature_facts(
            signature=signature, past=past, now=now or timezone.now(), pipeline_limit=pipeline_limit
        )
    return IncidentContext(
        signature=signature,
        past=past_list,
        past_count=past_count,
        last_resolution=last,
        facts=facts,
        related=incident_related(incident=incident),
        runbooks=incident_runbooks(incident=incident),
    )
