"""Admin of remediation: retry policies (edited by Admins) and the attempts they made (read-only), also shown on
each run's page."""

from django import forms
from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from aimsweb.choices import ErrorCategory
from monitors import admin as monitors_admin
from monitors.models import PipelineRun
from remediation.models import RetryAttempt, RetryPolicy


class RetryAttemptInline(ReadOnlyInline):
    model = RetryAttempt
    fk_name = "run"
    fields = ["attempt_number", "trigger", "mode", "status", "scheduled_for", "external_rerun_id", "error_message"]


# A run's admin page (monitors) lists its attempts too: this layer adds them, the one below never reads them.
admin.site.unregister(PipelineRun)


@admin.register(PipelineRun)
class PipelineRunAdmin(monitors_admin.PipelineRunAdmin):
    inlines = [*monitors_admin.PipelineRunAdmin.inlines, RetryAttemptInline]


class RetryPolicyAdminForm(forms.ModelForm):
    error_classes = forms.MultipleChoiceField(
        choices=ErrorCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Failures of these classes may be retried under this policy.",
    )

    class Meta:
        model = RetryPolicy
        fields = ["error_classes"]  # the admin's fieldsets add the rest


@admin.register(RetryPolicy)
class RetryPolicyAdmin(admin.ModelAdmin):
    form = RetryPolicyAdminForm
    list_display = [
        "name",
        "enabled",
        "priority",
        "connection",
        "pipeline_pattern",
        "classes",
        "max_attempts",
        "backoff",
        "rerun_mode",
        "max_concurrent_reruns",
    ]
    list_filter = ["enabled", "rerun_mode", "connection"]
    search_fields = ["name", "pipeline_pattern"]
    list_select_related = ["connection"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "priority"]}),
        ("What it retries", {"fields": ["connection", "pipeline_pattern", "error_classes", "min_confidence"]}),
        (
            "How",
            {
                "fields": [
                    "rerun_mode",
                    "max_attempts",
                    "backoff_initial_seconds",
                    "backoff_multiplier",
                    "backoff_max_seconds",
                    "jitter",
                    "max_concurrent_reruns",
                    "auto_resolve",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Error classes")
    def classes(self, obj: RetryPolicy) -> str:
        return ", ".join(obj.error_classes)

    @admin.display(description="Backoff")
    def backoff(self, obj: RetryPolicy) -> str:
        return (
            f"{obj.backoff_initial_seconds}s ×{obj.backoff_multiplier:g} ≤ {obj.backoff_max_seconds}s ±{obj.jitter:.0%}"
        )


@admin.register(RetryAttempt)
class RetryAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "run",
        "attempt_number",
        "trigger",
        "mode",
        "status",
        "scheduled_for",
        "finished_at",
        "external_rerun_id",
    ]
    list_filter = ["status", "trigger", "mode"]
    search_fields = ["idempotency_key", "external_rerun_id", "run__external_run_id", "run__pipeline__name"]
    list_select_related = ["run__pipeline"]
