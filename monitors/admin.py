import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from aimsweb.admin_base import ReadOnlyAdmin
from aimsweb.redact import redact
from monitors.models import Connection, MaintenanceWindow, Monitor, Pipeline, PipelineRun, WebhookDelivery
from monitors.services import connection_check


def _url_fields_assume_https(db_field, **kwargs):
    """A URL typed without a scheme means https (Django 6's default)."""
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


# Where the secret goes and whose it is: a change to any of them must not carry the stored secret along.
SECRET_BOUND_FIELDS = ("host", "kind", "is_simulator", "auth_method", "tenant_id", "client_id")


class ConnectionAdminForm(forms.ModelForm):
    """The secret is write-only: it can be set, replaced or cleared, never read back."""

    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Client secret or access token, stored encrypted. Leave blank to keep the current one.",
    )
    clear_secret = forms.BooleanField(required=False, help_text="Remove the stored secret.")
    confirm_secret_env_var = forms.CharField(
        label="Variable name again",
        required=False,
        help_text="When the endpoint or identity changes and the secret comes from a variable: type its name again.",
    )
    webhook_secret = forms.CharField(
        required=False,
        strip=False,
        min_length=16,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Shared secret failure webhooks must present (at least 16 characters). Blank keeps the current one.",
    )
    clear_webhook_secret = forms.BooleanField(required=False, help_text="Refuse webhooks for this connection.")

    class Meta:
        model = Connection
        fields = ["secret_env_var"]  # the admin's fieldsets add the rest
        formfield_callback = _url_fields_assume_https

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        self._require_secret_again(cleaned)
        if cleaned.get("secret") and cleaned.get("secret_env_var"):
            self.add_error("secret", "Give either a stored secret or an environment variable name, not both.")
        if cleaned.get("secret") and cleaned.get("clear_secret"):
            self.add_error("clear_secret", "Cannot clear the secret and set a new one at once.")
        if cleaned.get("webhook_secret") and cleaned.get("clear_webhook_secret"):
            self.add_error("clear_webhook_secret", "Cannot clear the webhook secret and set a new one at once.")
        return cleaned

    def _require_secret_again(self, cleaned: dict) -> None:
        """A secret goes only where it was entered for: a new destination or identity needs it entered again."""
        changed = [field for field in SECRET_BOUND_FIELDS if field in self.changed_data]
        if not self.instance.pk or not changed:
            return
        field = Connection._meta.get_field(changed[0])
        assert isinstance(field, models.Field)  # the secret-bound fields are the connection's own columns
        what = field.verbose_name
        stored = self.initial.get("secret_env_var") == "" and bool(self.instance.secret_encrypted)
        if stored and not cleaned.get("secret") and not cleaned.get("clear_secret"):
            self.add_error("secret", f"Changing the {what} requires entering the secret again (or clearing it).")
        named = cleaned.get("secret_env_var")
        if named and named == self.initial.get("secret_env_var") and cleaned.get("confirm_secret_env_var") != named:
            self.add_error(
                "confirm_secret_env_var",
                f"Changing the {what} requires entering the secret again: type the variable name {named} here.",
            )

    def save(self, commit=True):
        connection = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            connection.set_secret(self.cleaned_data["secret"])
        elif self.cleaned_data.get("clear_secret") or connection.secret_env_var:
            connection.set_secret("")
        if self.cleaned_data.get("webhook_secret"):
            connection.set_webhook_secret(self.cleaned_data["webhook_secret"])
        elif self.cleaned_data.get("clear_webhook_secret"):
            connection.set_webhook_secret("")
        if commit:
            connection.save()
        return connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "kind", "is_simulator", "host", "factory_name", "auth_method", "secret_source", "enabled"]
    list_filter = ["kind", "is_simulator", "auth_method", "enabled"]
    search_fields = ["name", "host", "factory_name", "subscription_id", "resource_group"]
    readonly_fields = ["secret_source", "webhook_url", "created_at", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "is_simulator", "enabled"]}),
        ("Endpoint", {"fields": ["host", "subscription_id", "resource_group", "factory_name"]}),
        (
            "Authentication",
            {
                "fields": [
                    "auth_method",
                    "tenant_id",
                    "client_id",
                    "secret_env_var",
                    "confirm_secret_env_var",
                    "secret",
                    "clear_secret",
                ]
            },
        ),
        ("Failure webhooks", {"fields": ["webhook_url", "webhook_secret", "clear_webhook_secret"]}),
        ("Record", {"fields": ["secret_source", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Secret")
    def secret_source(self, obj: Connection) -> str:
        return obj.secret_source

    @admin.display(description="Webhook URL")
    def webhook_url(self, obj: Connection) -> str:
        if not obj.pk:
            return "Shown once the connection is saved."
        state = "secret set" if obj.webhook_secret_encrypted else "no secret set: deliveries are refused"
        if obj.kind == Connection.Kind.DATABRICKS:
            return f"{self._hook_url('hooks:databricks', obj)} ({state})"
        return (
            f"Azure Monitor alerts: {self._hook_url('hooks:azure-monitor', obj)}; "
            f"Web activity failure callbacks: {self._hook_url('hooks:adf', obj)} ({state})"
        )

    @staticmethod
    def _hook_url(route: str, obj: Connection) -> str:
        return f"{settings.AIMS_BASE_URL}{reverse(route, args=[obj.name])}"

    # Change, not view: the action makes AIMS call out with the stored secret.
    @admin.action(description="Test connection (calls the platform API)", permissions=["change"])
    def test_connection(self, request, queryset) -> None:
        for connection in queryset:
            check = connection_check(connection=connection)
            level = messages.SUCCESS if check.ok else messages.ERROR
            verdict = "OK" if check.ok else "FAILED"
            self.message_user(request, f"{connection.name}: {verdict} in {check.latency_ms} ms: {check.message}", level)


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "connection",
        "pipeline_pattern",
        "interval_seconds",
        "enabled",
        "watermark",
        "last_success_at",
    ]
    list_filter = ["enabled", "connection__kind", "connection"]
    search_fields = ["name", "connection__name", "pipeline_pattern"]
    list_select_related = ["connection"]
    readonly_fields = ["watermark", "last_polled_at", "last_success_at", "last_error", "created_at", "updated_at"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "connection", "external_id", "criticality", "owner"]
    list_filter = ["criticality", "connection__kind", "connection"]
    search_fields = ["name", "external_id", "owner"]
    list_select_related = ["connection"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(PipelineRun)
class PipelineRunAdmin(ReadOnlyAdmin):
    list_display = ["external_run_id", "pipeline", "connection", "status", "started_at", "duration_ms", "error_code"]
    list_filter = ["status", "connection__kind", "connection"]
    search_fields = ["external_run_id", "pipeline__name", "error_code", "error_message"]
    list_select_related = ["pipeline", "connection"]
    date_hierarchy = "started_at"
    inlines = []  # the layers above add the run's retry attempts and its analysis
    # The platform's own records quote messages as the platform wrote them: shown redacted, never raw.
    exclude = ["raw", "failure_detail"]
    readonly_fields = ["platform_record", "failure_record"]

    @admin.display(description="Run as the platform reported it (secrets redacted)")
    def platform_record(self, obj: PipelineRun) -> str:
        return _redacted_json(obj.raw)

    @admin.display(description="Failure detail as the platform reported it (secrets redacted)")
    def failure_record(self, obj: PipelineRun) -> str:
        return _redacted_json(obj.failure_detail)


def _redacted_json(value) -> str:
    return format_html("<pre>{}</pre>", redact(json.dumps(value, indent=2, sort_keys=True, default=str)))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "connection", "source", "status", "error", "processed_at"]
    list_filter = ["status", "source", "connection"]
    search_fields = ["body", "error"]
    list_select_related = ["connection"]
    date_hierarchy = "created_at"


class WindowStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active now"), ("upcoming", "Upcoming"), ("past", "Past")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["name", "connection", "pipeline_pattern", "starts_at", "ends_at", "suppresses", "active_now"]
    list_filter = [WindowStateFilter, "suppress_notifications", "suppress_retries", "connection"]
    search_fields = ["name", "pipeline_pattern", "reason"]
    list_select_related = ["connection"]
    date_hierarchy = "starts_at"
    readonly_fields = ["created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "reason"]}),
        ("What and when", {"fields": ["connection", "pipeline_pattern", "starts_at", "ends_at"]}),
        ("What it suppresses", {"fields": ["suppress_notifications", "suppress_retries"]}),
        ("Record", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def get_changeform_initial_data(self, request) -> dict:
        now = timezone.now().replace(second=0, microsecond=0)
        return {
            "starts_at": now,
            "ends_at": now + timedelta(hours=1),
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request, obj: MaintenanceWindow, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Suppresses")
    def suppresses(self, obj: MaintenanceWindow) -> str:
        parts = [("notifications", obj.suppress_notifications), ("retries", obj.suppress_retries)]
        return " and ".join(label for label, on in parts if on)

    @admin.display(description="Active now", boolean=True)
    def active_now(self, obj: MaintenanceWindow) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at
