"""The insights app in the admin: Admins tune how each series is watched; points, notes and schedules are written by
the system (notes through the series page, so they are applied and audited), and only read here."""

from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin
from insights.models import ExpectedSchedule, Series, SeriesNote


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["key", "subject", "metric", "granularity", "state", "enabled", "sensitivity", "last_point_at"]
    list_filter = ["subject", "metric", "granularity", "state", "enabled", "sensitivity"]
    search_fields = ["key", "table", "column", "pipeline__name", "contract__name"]
    list_select_related = ["pipeline", "contract"]
    fieldsets = [
        (None, {"fields": ["key", "subject", "metric", "pipeline", "contract", "table", "column", "granularity"]}),
        (
            "How it is watched",
            {
                "fields": [
                    "enabled",
                    "sensitivity",
                    "direction",
                    "min_change_percent",
                    "min_change_absolute",
                    "recover_after",
                ]
            },
        ),
        ("What the detector last said", {"fields": ["state", "season", "in_band_streak", "last_point_at"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "key",
        "subject",
        "metric",
        "pipeline",
        "contract",
        "table",
        "column",
        "granularity",
        "state",
        "season",
        "in_band_streak",
        "last_point_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # series are created by the points they hold

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its points and notes would go with it; switching it off keeps them


@admin.register(SeriesNote)
class SeriesNoteAdmin(ReadOnlyAdmin):
    list_display = ["series", "kind", "start", "end", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["series__key", "note"]
    list_select_related = ["series", "created_by"]


@admin.register(ExpectedSchedule)
class ExpectedScheduleAdmin(ReadOnlyAdmin):
    list_display = ["pipeline", "source", "name", "active", "description", "tolerance_minutes", "seen_at"]
    list_filter = ["source", "active"]
    search_fields = ["pipeline__name", "name", "description", "cron"]
    list_select_related = ["pipeline"]
