"""Outbound webhooks in the admin: endpoints (the secret shown once, after creation or rotation; a test event),
messages (read; replayed by Admins) and the attempt log (read)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from aimsweb.choices import Severity
from webhooks.models import Attempt, Endpoint, Message
from webhooks.services.delivery import message_replay
from webhooks.services.endpoints import endpoint_secret_new, endpoint_secret_rotate, endpoint_test_send
from webhooks.services.outbox import delivery_soon
from webhooks.types import EVENT_TYPES


class EndpointAdminForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(event_type, event_type) for event_type in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )
    severities = forms.MultipleChoiceField(
        choices=Severity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every severity.",
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "description", "event_types", "severities", "enabled"]


def _secret_page(request, endpoint: Endpoint, secret: str, why: str) -> TemplateResponse:
    """The one page that shows a secret: rendered in answer to the request that made it, never stored for later."""
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "why": why,
        "endpoint_url": reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
        "title": f"Signing secret of {endpoint.name}",
    }
    return TemplateResponse(request, "webhooks/secret_shown.html", context)  # the admin marks it no-store


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["name", "url", "enabled", "disabled_reason", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "url", "description"]
    readonly_fields = ["secret_state", "disabled_at", "disabled_reason", "created_by", "created_at", "updated_at"]
    actions = ["rotate_secret", "send_test_event"]
    fieldsets = [
        (None, {"fields": ["name", "url", "description", "enabled"]}),
        ("What it receives", {"fields": ["event_types", "severities"]}),
        ("Signing", {"fields": ["secret_state"]}),
        ("Record", {"fields": ["disabled_at", "disabled_reason", "created_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Signing secret")
    def secret_state(self, obj: Endpoint) -> str:
        if not obj.pk:
            return "A new secret is made when the endpoint is saved, and shown once."
        state = "Stored encrypted; never shown again (rotate it to get a new one)."
        expires = obj.previous_secret_expires_at
        if obj.previous_secret_encrypted and expires and expires > timezone.now():
            state += f" The previous secret also signs until {timezone.localtime(expires):%Y-%m-%d %H:%M %Z}."
        return state

    def save_model(self, request, obj: Endpoint, form, change: bool) -> None:
        if not change:
            secret = endpoint_secret_new()
            obj.secret_set(secret)
            obj.created_by = request.user
            request.webhook_secret_shown = secret  # for response_add, on this request only
        elif "enabled" in form.changed_data:
            if obj.enabled:
                obj.disabled_at, obj.disabled_reason = None, ""
                delivery_soon()  # its waiting messages go now
            else:
                obj.disabled_at = timezone.now()
                obj.disabled_reason = f"Disabled in the admin by {request.user.get_username()}."
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: Endpoint, post_url_continue=None):
        return _secret_page(request, obj, request.webhook_secret_shown, "Give it to the receiver's owner.")

    @admin.action(
        description="Rotate the signing secret (the old one keeps signing for 24 hours)", permissions=["change"]
    )
    def rotate_secret(self, request, queryset: QuerySet[Endpoint]):
        if queryset.count() != 1:
            self.message_user(request, "Rotate one endpoint at a time: its new secret is shown once.", messages.ERROR)
            return None
        endpoint = queryset.get()
        secret = endpoint_secret_rotate(endpoint_id=endpoint.pk)
        return _secret_page(
            request, endpoint, secret, "The previous secret also signs for 24 hours, until the receiver switches."
        )

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            message = endpoint_test_send(endpoint_id=endpoint.pk)
            self.message_user(
                request, f"{endpoint.name}: test event {message.msg_id} queued; see Messages for how it went."
            )


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = ["started_at", "trigger", "status_code", "duration_ms", "error", "response_excerpt", "requested_by"]
    show_change_link = False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["msg_id", "type", "endpoint", "incident_id", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "endpoint", "type"]
    search_fields = ["msg_id", "incident_id"]
    list_select_related = ["endpoint"]
    inlines = [AttemptInline]
    actions = ["replay"]
    fields = [
        "msg_id", "endpoint", "type", "incident_id", "event_id", "status", "attempts", "next_attempt_at",
        "last_attempt_at", "delivered_at", "last_status_code", "last_error", "body", "created_at",
    ]  # fmt: skip

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_endpoint")

    @admin.action(description="Replay (send again with the same webhook-id)", permissions=["replay"])
    def replay(self, request, queryset: QuerySet[Message]) -> None:
        replayed = skipped = 0
        for message in queryset.exclude(status=Message.Status.PENDING):
            message_replay(message_id=message.pk, actor_user=request.user)
            replayed += 1
        skipped = queryset.filter(status=Message.Status.PENDING).count()
        self.message_user(request, f"{replayed} message(s) queued again; {skipped} still pending left as they are.")


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["message", "started_at", "trigger", "status_code", "duration_ms", "error"]
    list_filter = ["trigger", "status_code"]
    search_fields = ["message__msg_id"]
    list_select_related = ["message"]
