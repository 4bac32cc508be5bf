"""Reads for the incidents app; each list fetches its relations up front so pages run a fixed number of queries."""

from datetime import timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from incidents.models import FailureAnalysis, Incident


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
