"""Reads of an incident's parts: the pipelines a storm's incident counts, each with its state."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from incidents.models import Incident, IncidentPipeline


def incident_part_list(*, incident_id: int) -> QuerySet[IncidentPipeline]:
    """The incident's parts, first affected first, with their pipelines (one query)."""
    return (
        IncidentPipeline.objects.filter(incident_id=incident_id)
        .select_related("pipeline")
        .order_by("first_seen_at", "id")
    )


def incident_merge_targets(*, incident_id: int, limit: int = 200) -> QuerySet[Incident]:
    """Open incidents this one may be merged into, newest activity first."""
    return (
        Incident.objects.exclude(status=Incident.Status.RESOLVED)
        .exclude(pk=incident_id)
        .only("pk", "title", "last_seen_at")
        .order_by("-last_seen_at", "-id")[:limit]
    )


def part_count_subquery() -> Coalesce:
    """An incident's number of parts (pipelines affected), as an annotation of incidents."""
    counted = (
        IncidentPipeline.objects.filter(incident=OuterRef("pk"))
        .order_by()
        .values("incident")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
