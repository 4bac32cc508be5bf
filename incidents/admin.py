from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from incidents.models import FailureAnalysis, Incident, IncidentEvent, SignatureStats


class IncidentEventInline(ReadOnlyInline):
    model = IncidentEvent
    fields = ["created_at", "kind", "actor_type", "actor_user", "actor_label", "message"]
    show_change_link = False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Incidents change through their actions (pages and API), which keep the timeline; here they are read."""

    list_display = [
        "title",
        "status",
        "severity",
        "category",
        "pipeline",
        "assignee",
        "occurrence_count",
        "last_seen_at",
    ]
    list_filter = ["status", "severity", "category", "connection"]
    search_fields = ["title", "fingerprint", "pipeline__name"]
    list_select_related = ["pipeline", "assignee"]
    date_hierarchy = "last_seen_at"
    inlines = [IncidentEventInline]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "incident", "kind", "actor_type", "actor_user", "actor_label"]
    list_filter = ["kind", "actor_type"]
    search_fields = ["incident__title", "message", "actor_label", "actor_user__username"]
    list_select_related = ["incident", "actor_user"]


@admin.register(FailureAnalysis)
class FailureAnalysisAdmin(ReadOnlyAdmin):
    list_display = ["run", "category", "severity", "should_retry", "confidence", "analyzer", "cache_hit", "created_at"]
    list_filter = ["category", "severity", "should_retry", "analyzer", "cache_hit"]
    search_fields = ["signature", "summary", "root_cause", "run__external_run_id", "run__pipeline__name"]
    list_select_related = ["run__pipeline"]


@admin.register(SignatureStats)
class SignatureStatsAdmin(ReadOnlyAdmin):
    list_display = ["signature", "failures", "retries", "retry_successes", "last_seen_at", "llm_analyzed_at"]
    list_filter = ["last_seen_at", "llm_analyzed_at"]
    search_fields = ["signature", "signature_text"]
