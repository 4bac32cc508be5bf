"""Notification channels in the admin: the webhook URL and signing secret write-only, what each kind needs as its
sender declares it (incidents.notify.channels), and a test send."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.redact import redact
from incidents.models import Incident, Notification, NotificationChannel, channel_url_problem
from incidents.notify.base import NotificationMessage, url_origin
from incidents.notify.channels import channel_config, channel_spec
from incidents.notify.http import sender_for
from incidents.notify.webhook import SIGNING_SECRET_MIN_CHARS

TEST_DELIVERY_PREFIX = "test-"


def _kind_label(kind: str) -> str:
    """'Microsoft Teams' rather than the full choice label with its explanation in brackets."""
    return NotificationChannel.Kind(kind).label.split(" (")[0]


class _WriteOnlyInput(forms.PasswordInput):
    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"})


class NotificationChannelAdminForm(forms.ModelForm):
    """The webhook URL (it carries the receiver's credentials) and the signing secret are write-only."""

    url = forms.CharField(
        label="Webhook URL",
        required=False,
        max_length=2000,
        widget=_WriteOnlyInput(),
        help_text=(
            "Teams, Slack and generic webhooks: where to post, stored encrypted and never shown again. "
            "https to a public host only (plain http only to the local simulator). Leave blank to keep the current one."
        ),
    )
    signing_secret = forms.CharField(
        required=False,
        strip=False,
        min_length=SIGNING_SECRET_MIN_CHARS,
        widget=_WriteOnlyInput(),
        help_text=(
            f"Generic webhooks only: the receiver checks X-AIMS-Signature with it. At least {SIGNING_SECRET_MIN_CHARS}"
            ' characters; generate one with python -c "import secrets; print(secrets.token_urlsafe(32))". '
            "Stored encrypted; leave blank to keep the current one."
        ),
    )

    class Meta:
        model = NotificationChannel
        fields = ["name", "kind", "recipients", "rate_limit_count", "rate_limit_minutes", "enabled"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read before the form copies the submitted values onto the instance.
        self.stored_kind = self.instance.kind if self.instance.pk else ""
        self.has_stored_url = bool(self.instance.url_encrypted)
        self.has_stored_secret = bool(self.instance.signing_secret_encrypted)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                raise ValidationError("Enter a valid URL, e.g. https://hooks.example.com/…") from None
            problem = channel_url_problem(url)
            if problem:
                raise ValidationError(problem)
        return url

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        spec, label = channel_spec(kind), _kind_label(kind)
        url, secret = cleaned.get("url"), cleaned.get("signing_secret")
        if spec.url:
            # A URL stored for another kind of channel belongs to another service: a new kind needs a new URL.
            keeps_url = self.has_stored_url and kind == self.stored_kind
            if not url and not keeps_url and "url" not in self.errors:
                self.add_error("url", f"Required for a {label} channel: paste its webhook URL.")
        elif url:
            self.add_error("url", f"A {label} channel has no URL; leave it blank.")
        if spec.signing_secret:
            keeps_secret = self.has_stored_secret  # only signed kinds keep one (save clears it otherwise)
            if not secret and not keeps_secret and "signing_secret" not in self.errors:
                self.add_error(
                    "signing_secret", "Required for a generic webhook: the receiver checks deliveries with it."
                )
        elif secret:
            self.add_error("signing_secret", f"Only generic webhooks are signed; a {label} channel takes no secret.")
        return cleaned

    def save(self, commit=True):
        channel = super().save(commit=False)
        spec = channel_spec(channel.kind)
        if self.cleaned_data.get("url"):
            channel.set_url(self.cleaned_data["url"])
        elif not spec.url:
            channel.set_url("")  # no credentials kept for a channel that no longer uses them
        if self.cleaned_data.get("signing_secret"):
            channel.set_signing_secret(self.cleaned_data["signing_secret"])
        elif not spec.signing_secret:
            channel.set_signing_secret("")
        if commit:
            channel.save()
        return channel


def _test_message() -> NotificationMessage:
    return NotificationMessage(
        event=Notification.Event.OPENED,
        headline="Test notification from AIMS",
        title="pl_sales_daily: cannot connect to sql-prod (sample incident)",
        severity=Severity.HIGH,
        status=Incident.Status.TRIGGERED.label,
        category=ErrorCategory.TRANSIENT.label,
        summary=(
            "This is a test sent from the AIMS admin to check that this channel receives notifications. "
            "No incident is open; the details below are a sample of what a real page looks like."
        ),
        root_cause="Sample: the SQL server did not answer the copy activity's login within 30 seconds.",
        error="ErrorCode=SqlFailedToConnect, Message=Cannot connect to SQL Database (sample error).",
        pipeline="pl_sales_daily",
        connection="adf-prod (sample)",
        failed_step="Copy_SalesOrders",
        occurrences=1,
        url=f"{settings.AIMS_BASE_URL}/incidents/",
        actions=("Nothing to do: this was only a test.",),
    )


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = NotificationChannelAdminForm
    list_display = ["name", "kind", "destination", "rate_limit", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "url_host", "recipients"]
    readonly_fields = ["stored_destination", "signing_secret_state", "created_at", "updated_at"]
    actions = ["send_test_notification"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled"]}),
        (
            "Where it delivers",
            {"fields": ["stored_destination", "url", "signing_secret_state", "signing_secret", "recipients"]},
        ),
        ("Rate limit", {"fields": ["rate_limit_count", "rate_limit_minutes"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Where")
    def destination(self, obj: NotificationChannel) -> str:
        if channel_spec(obj.kind).recipients:
            recipients = obj.recipient_list
            more = f" +{len(recipients) - 2} more" if len(recipients) > 2 else ""
            return ", ".join(recipients[:2]) + more
        return url_origin(obj.url_host) if obj.url_host else "no URL"

    @admin.display(description="Stored URL")
    def stored_destination(self, obj: NotificationChannel) -> str:
        if not obj.url_encrypted:
            return "none"
        return f"{url_origin(obj.url_host)}/… (stored encrypted; the full URL is never shown)"

    @admin.display(description="Stored signing secret")
    def signing_secret_state(self, obj: NotificationChannel) -> str:
        return "stored (encrypted)" if obj.signing_secret_encrypted else "none"

    @admin.display(description="Rate limit")
    def rate_limit(self, obj: NotificationChannel) -> str:
        return f"{obj.rate_limit_count} per {obj.rate_limit_minutes} min"

    @admin.action(description="Send a test notification", permissions=["change"])
    def send_test_notification(self, request, queryset) -> None:
        message = _test_message()
        for channel in queryset:
            result = sender_for(channel.kind).send(
                channel_config(channel), message, delivery_id=f"{TEST_DELIVERY_PREFIX}{channel.pk}"
            )
            if result.ok:
                self.message_user(request, f"{channel.name}: test notification delivered.", messages.SUCCESS)
            else:
                # The status or error class and the origin only (the senders never read a receiver's body).
                error = redact(result.error)
                self.message_user(request, f"{channel.name}: test notification FAILED: {error}", messages.ERROR)
