"""Incidents, their timeline, tickets and occurrences: read here, changed through their actions."""

from django.contrib import admin
from django.db import models

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from incidents.models import Incident, IncidentEvent, Notification, Occurrence, TicketLink


@admin.register(TicketLink)
class TicketLinkAdmin(ReadOnlyAdmin):
    """Tickets are linked from the incident page and the API, which keep the timeline."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    list_display = ["key", "system", "incident", "created_by", "created_by_label", "created_at"]
    list_filter = ["system"]
    search_fields = ["key", "incident__title", "url"]
    list_select_related = ["incident", "created_by"]


class IncidentEventInline(ReadOnlyInline):
    model = IncidentEvent
    fields = ["created_at", "kind", "actor_type", "actor_user", "actor_label", "text"]
    show_change_link = False

    @admin.display(description="what happened")
    def text(self, event: IncidentEvent) -> str:
        return event.text


class TicketLinkInline(ReadOnlyInline):
    model = TicketLink
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["system", "key", "url", "created_by", "created_by_label", "created_at"]
    show_change_link = False


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = ["created_at", "channel", "event", "status", "attempts", "last_status_code", "sent_at", "last_error"]


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
    inlines = [IncidentEventInline, TicketLinkInline, NotificationInline]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "incident", "kind", "actor_type", "actor_user", "actor_label"]
    list_filter = ["kind", "actor_type"]
    search_fields = ["incident__title", "note", "actor_label", "actor_user__username"]
    list_select_related = ["incident", "actor_user"]
    readonly_fields = [
        "created_at",
        "incident",
        "kind",
        "actor_type",
        "actor_user",
        "actor_label",
        "text",
        "note",
        "params",
    ]
    fields = ["created_at", "incident", "kind", "actor_type", "actor_user", "actor_label", "text", "note", "params"]

    @admin.display(description="what happened")
    def text(self, event: IncidentEvent) -> str:
        return event.text


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "source", "subject_label", "title", "severity", "category", "incident"]
    list_filter = ["source", "severity", "category"]
    search_fields = ["subject_label", "title", "dedup_key"]
    list_select_related = ["incident"]
    date_hierarchy = "detected_at"
