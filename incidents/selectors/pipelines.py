"""Reads of the pipeline pages that count incidents: monitors' pipeline reads with each pipeline's open incidents."""

from django.db import models
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from incidents.models import Incident
from monitors.models import Pipeline
from monitors.selectors import pipeline_list


class PipelineSort(models.TextChoices):
    NAME = "name", "Name"
    FAILURE_RATE = "failure_rate", "Failure rate (7 days)"
    OPEN_INCIDENTS = "open_incidents", "Open incidents"


def pipeline_list_with_incidents(
    *, connection_id: int | None = None, search: str = "", sort: str = PipelineSort.NAME, strip_size: int = 20
) -> QuerySet[Pipeline]:
    """`monitors.selectors.pipeline_list`, each pipeline annotated with its number of open incidents, and sorted
    by name, worst failure rate or most open incidents first."""
    open_incidents = (
        Incident.objects.filter(pipeline=OuterRef("pk"))
        .exclude(status=Incident.Status.RESOLVED)
        .order_by()
        .values("pipeline")
        .annotate(n=Count("pk"))
        .values("n")
    )
    pipelines = pipeline_list(
        connection_id=connection_id,
        search=search,
        by_failure_rate=sort == PipelineSort.FAILURE_RATE,
        strip_size=strip_size,
    ).annotate(open_incidents=Coalesce(Subquery(open_incidents), 0))
    if sort == PipelineSort.OPEN_INCIDENTS:
        return pipelines.order_by("-open_incidents", "name", "id")
    return pipelines


def pipeline_open_incidents(*, pipeline_id: int, limit: int = 50) -> QuerySet[Incident]:
    """A pipeline's open incidents, latest activity first."""
    return (
        Incident.objects.filter(pipeline_id=pipeline_id)
        .exclude(status=Incident.Status.RESOLVED)
        .order_by("-last_seen_at", "-id")[:limit]
    )
