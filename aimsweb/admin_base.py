"""Admin building blocks shared by the apps."""

from django.contrib import admin


class NoWritesMixin:
    """Listed, filtered, searched and viewed; never added, changed or deleted by hand, whatever the permissions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, admin.ModelAdmin):
    """For records the system writes: runs, attempts, analyses, timelines, contract versions and checks."""

    show_full_result_count = False  # counting every row of a large table on each page is slow on PostgreSQL


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields
