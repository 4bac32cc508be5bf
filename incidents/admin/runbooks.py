"""Runbooks: a title and a link per pipeline pattern, error class and connection."""

from django.contrib import admin

from incidents.models import Runbook


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["title", "pipeline_pattern", "category", "connection", "enabled", "updated_at"]
    list_filter = ["enabled", "category", "connection"]
    search_fields = ["title", "pipeline_pattern", "url"]
    fieldsets = [
        (None, {"fields": ["title", "url", "enabled"]}),
        (
            "Applies to incidents matching every criterion set (the most specific runbook is shown first)",
            {"fields": ["pipeline_pattern", "category", "connection"]},
        ),
    ]
