"""Ticket routes (Admins edit them; credentials are write-only, the inbound secret is shown once when made) and the
sync jobs (read-only, with a retry action)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from aimsweb.admin_base import ReadOnlyAdmin
from tickets.models import TicketRoute, TicketSyncJob, inbound_secret_new


class TicketRouteAdminForm(forms.ModelForm):
    """The API token / password can be set, replaced or cleared, never read back."""

    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Jira API token or ServiceNow password, stored encrypted. Leave blank to keep the current one.",
    )
    clear_secret = forms.BooleanField(required=False, help_text="Remove the stored secret.")
    base_url = forms.URLField(
        assume_scheme="https",
        max_length=TicketRoute._meta.get_field("base_url").max_length,
        help_text=TicketRoute._meta.get_field("base_url").help_text,
    )

    class Meta:
        model = TicketRoute
        fields = [
            "name",
            "system",
            "enabled",
            "base_url",
            "is_simulator",
            "username",
            "secret_env_var",
            "min_severity",
            "sources",
            "categories",
            "pipeline_pattern",
            "jira_project",
            "jira_issue_type",
            "jira_account_id",
            "servicenow_table",
            "field_mapping",
            "priority_map",
            "close_code",
            "close_notes_template",
            "comment_sync",
        ]

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("secret") and cleaned.get("secret_env_var"):
            self.add_error("secret", "Give either a stored secret or an environment variable name, not both.")
        if cleaned.get("secret") and cleaned.get("clear_secret"):
            self.add_error("clear_secret", "Cannot clear the secret and set a new one at once.")
        moved = {"base_url", "username", "system", "is_simulator"} & set(self.changed_data)
        kept = self.instance.secret_encrypted and not cleaned.get("secret") and not cleaned.get("clear_secret")
        if self.instance.pk and moved and kept:
            self.add_error("secret", f"Changing the {', '.join(sorted(moved))} requires entering the secret again.")
        return cleaned

    def save(self, commit=True):
        route = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            route.set_secret(self.cleaned_data["secret"])
        elif self.cleaned_data.get("clear_secret") or route.secret_env_var:
            route.set_secret("")
        if commit:
            route.save()
        return route


@admin.register(TicketRoute)
class TicketRouteAdmin(admin.ModelAdmin):
    form = TicketRouteAdminForm
    list_display = ["name", "system", "enabled", "is_simulator", "base_url", "min_severity", "comment_sync"]
    list_filter = ["system", "enabled"]
    search_fields = ["name", "base_url", "jira_project"]
    readonly_fields = ["secret_source", "inbound_url", "reconciled_until", "created_at", "updated_at"]
    actions = ["inbound_secret_renew"]
    fieldsets = [
        (None, {"fields": ["name", "system", "enabled"]}),
        ("Endpoint", {"fields": ["base_url", "is_simulator", "username", "secret_env_var", "secret", "clear_secret"]}),
        ("Which incidents", {"fields": ["min_severity", "sources", "categories", "pipeline_pattern"]}),
        (
            "Ticket",
            {
                "fields": [
                    "jira_project",
                    "jira_issue_type",
                    "jira_account_id",
                    "servicenow_table",
                    "field_mapping",
                    "priority_map",
                    "close_code",
                    "close_notes_template",
                    "comment_sync",
                ]
            },
        ),
        ("Inbound (webhooks, callbacks)", {"fields": ["inbound_url"]}),
        ("Record", {"fields": ["secret_source", "reconciled_until", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Secret")
    def secret_source(self, obj: TicketRoute) -> str:
        return obj.secret_source

    @admin.display(description="Inbound URL")
    def inbound_url(self, obj: TicketRoute) -> str:
        if not obj.pk:
            return "Shown once the route is saved; its inbound secret is shown once then."
        name = "tickets:jira" if obj.system == TicketRoute.System.JIRA else "tickets:servicenow"
        try:
            url = f"{settings.AIMS_BASE_URL}{reverse(name, args=[obj.pk])}"
        except NoReverseMatch:
            return "Inbound routes are not served (tickets.urls is not included)."
        how = "signed with the secret (X-Hub-Signature)" if obj.system == "jira" else "secret in header X-AIMS-Token"
        state = "secret set" if obj.inbound_secret_encrypted else "no secret: refused"
        return f"{url} ({how}; {state})"

    def save_model(self, request, obj: TicketRoute, form, change: bool) -> None:
        shown = ""
        if not obj.inbound_secret_encrypted:
            shown = inbound_secret_new()
            obj.set_inbound_secret(shown)
        super().save_model(request, obj, form, change)
        if shown:
            self._show_once(request, obj, shown)

    @staticmethod
    def _show_once(request, route: TicketRoute, secret: str) -> None:
        messages.warning(
            request,
            f"Inbound secret of {route.name} (shown this once; give it to the "
            f"{'Jira webhook' if route.system == 'jira' else 'ServiceNow business rule'}): {secret}",
        )

    @admin.action(description="Make a new inbound secret (shown once)", permissions=["change"])
    def inbound_secret_renew(self, request, queryset: QuerySet[TicketRoute]) -> None:
        for route in queryset:
            secret = inbound_secret_new()
            route.set_inbound_secret(secret)
            route.save(update_fields=["inbound_secret_encrypted", "updated_at"])
            self._show_once(request, route, secret)


@admin.register(TicketSyncJob)
class TicketSyncJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "incident_id", "route", "action", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "action", "route"]
    search_fields = ["incident__id"]
    list_select_related = ["route"]
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("tickets.change_ticketroute")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry(self, request, queryset: QuerySet[TicketSyncJob]) -> None:
        count = queryset.filter(status__in=[TicketSyncJob.Status.FAILED, TicketSyncJob.Status.PENDING]).update(
            status=TicketSyncJob.Status.PENDING, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"{count} job(s) will be tried on the next run (within a minute).")
