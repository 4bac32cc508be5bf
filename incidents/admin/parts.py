"""Storms' parts: each pipeline's share of a shared incident, read here (failures count them, successes recover them,
split and merge move them)."""

from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin
from incidents.models import IncidentPipeline


@admin.register(IncidentPipeline)
class IncidentPipelineAdmin(ReadOnlyAdmin):
    list_display = ["incident", "pipeline", "occurrence_count", "first_seen_at", "last_seen_at", "recovered_at"]
    list_filter = ["pipeline__connection"]
    search_fields = ["incident__title", "pipeline__name"]
    list_select_related = ["incident", "pipeline"]
    date_hierarchy = "last_seen_at"
