from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from aimsweb.choices import ErrorCategory, Severity
from aimsweb.redact import redact
from incidents.models import (
    EscalationStep,
    FailureAnalysis,
    Incident,
    IncidentEvent,
    Notification,
    NotificationChannel,
    NotificationRoute,
    Occurrence,
    SignatureStats,
    TicketLink,
    channel_url_problem,
)
from incidents.notify.base import NotificationMessage, url_origin
from incidents.notify.channels import channel_config, channel_spec
from incidents.notify.http import sender_for
from incidents.notify.webhook import SIGNING_SECRET_MIN_CHARS
from monitors.models import PipelineRun

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


class NotificationRouteAdminForm(forms.ModelForm):
    severities = forms.MultipleChoiceField(
        required=False,
        choices=Severity.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents of these severities are routed here. None ticked: every severity.",
    )
    categories = forms.MultipleChoiceField(
        label="Error classes",
        required=False,
        choices=ErrorCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents of these error classes are routed here. None ticked: every class.",
    )

    class Meta:
        model = NotificationRoute
        fields = ["severities", "categories"]  # the admin's fieldsets add the rest

    def clean_severities(self) -> list[str]:
        chosen = set(self.cleaned_data["severities"])
        return [value for value in Severity.values if value in chosen]  # most urgent first, whatever the order sent

    def clean_categories(self) -> list[str]:
        chosen = set(self.cleaned_data["categories"])
        return [value for value in ErrorCategory.values if value in chosen]


class EscalationStepFormSet(forms.BaseInlineFormSet):
    def get_unique_error_message(self, unique_check) -> str:
        if "after_minutes" in unique_check:
            return (
                "Two escalation steps wait the same number of minutes: give each step its own wait, "
                "or tick all their channels in one step."
            )
        return super().get_unique_error_message(unique_check)


class _ChannelCheckboxes:
    """Channels as checkboxes: there are few, and a ticked list reads better than a multiple select."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "channels":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class EscalationStepInline(_ChannelCheckboxes, admin.TabularInline):
    model = EscalationStep
    formset = EscalationStepFormSet
    fields = ["after_minutes", "channels"]
    extra = 0
    verbose_name = "escalation step"
    verbose_name_plural = "escalation: if still not acknowledged this many minutes after the page, notify"


@admin.register(NotificationRoute)
class NotificationRouteAdmin(_ChannelCheckboxes, admin.ModelAdmin):
    form = NotificationRouteAdminForm
    list_display = [
        "name",
        "connection",
        "pipeline_pattern",
        "severity_list",
        "category_list",
        "channel_list",
        "escalation",
        "flags",
        "enabled",
    ]
    list_filter = ["enabled", "connection", "channels"]
    search_fields = ["name", "pipeline_pattern", "channels__name"]
    list_select_related = ["connection"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [EscalationStepInline]
    fieldsets = [
        (None, {"fields": ["name", "enabled"]}),
        ("Which incidents", {"fields": ["connection", "pipeline_pattern", "severities", "categories"]}),
        ("Where and when", {"fields": ["channels", "notify_on_open", "notify_on_resolve", "notify_while_retrying"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels", "escalation_steps")

    @admin.display(description="Severities")
    def severity_list(self, obj: NotificationRoute) -> str:
        return ", ".join(obj.severities) or "all"

    @admin.display(description="Error classes")
    def category_list(self, obj: NotificationRoute) -> str:
        return ", ".join(obj.categories) or "all"

    @admin.display(description="Channels")
    def channel_list(self, obj: NotificationRoute) -> str:
        return ", ".join(channel.name for channel in obj.channels.all())

    @admin.display(description="Escalates after")
    def escalation(self, obj: NotificationRoute) -> str:
        waits = [str(step.after_minutes) for step in obj.escalation_steps.all()]
        return f"{', '.join(waits)} min" if waits else "-"

    @admin.display(description="Notifies on")
    def flags(self, obj: NotificationRoute) -> str:
        flags = [
            ("open", obj.notify_on_open),
            ("resolve", obj.notify_on_resolve),
            ("while retrying", obj.notify_while_retrying),
        ]
        return ", ".join(label for label, on in flags if on) or "nothing"


@admin.register(EscalationStep)
class EscalationStepAdmin(_ChannelCheckboxes, admin.ModelAdmin):
    """Usually edited inline on their route; listed here to see every route's escalation at once."""

    list_display = ["route", "after_minutes", "channel_list"]
    list_filter = ["route", "channels"]
    search_fields = ["route__name", "channels__name"]
    list_select_related = ["route"]
    fields = ["route", "after_minutes", "channels"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    @admin.display(description="Channels")
    def channel_list(self, obj: EscalationStep) -> str:
        return ", ".join(channel.name for channel in obj.channels.all())


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The delivery log: written by the notification service only."""

    list_display = [
        "created_at",
        "channel",
        "incident",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "sent_at",
    ]
    list_filter = ["status", "event", "channel"]
    search_fields = ["headline", "last_error", "incident__title"]
    list_select_related = ["channel", "incident"]
    date_hierarchy = "created_at"


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
    fields = ["created_at", "kind", "actor_type", "actor_user", "actor_label", "message"]
    show_change_link = False


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
    search_fields = ["incident__title", "message", "actor_label", "actor_user__username"]
    list_select_related = ["incident", "actor_user"]


@admin.register(FailureAnalysis)
class FailureAnalysisAdmin(ReadOnlyAdmin):
    list_display = ["run", "category", "severity", "should_retry", "confidence", "analyzer", "cache_hit", "created_at"]
    list_filter = ["category", "severity", "should_retry", "analyzer", "cache_hit"]
    search_fields = ["signature", "summary", "root_cause", "run__external_run_id", "run__pipeline__name"]
    list_select_related = ["run__pipeline"]


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "source", "subject_label", "title", "severity", "category", "incident"]
    list_filter = ["source", "severity", "category"]
    search_fields = ["subject_label", "title", "dedup_key"]
    list_select_related = ["incident"]
    date_hierarchy = "detected_at"


@admin.register(SignatureStats)
class SignatureStatsAdmin(ReadOnlyAdmin):
    list_display = ["signature", "failures", "retries", "retry_successes", "last_seen_at", "llm_analyzed_at"]
    list_filter = ["last_seen_at", "llm_analyzed_at"]
    search_fields = ["signature", "signature_text"]


class FailureAnalysisInline(ReadOnlyInline):
    model = FailureAnalysis
    fields = ["category", "severity", "should_retry", "confidence", "summary", "analyzer", "cache_hit", "learned"]
    can_delete = False


# A run's admin page shows its analysis first; monitors cannot name analyses (a lower layer), so the run's admin is
# registered again from here, extending the one registered by then (monitors', and the layers' in between that add
# their own inlines: their admin modules load first, in INSTALLED_APPS order).
RegisteredPipelineRunAdmin = type(admin.site.get_model_admin(PipelineRun))
admin.site.unregister(PipelineRun)


@admin.register(PipelineRun)
class PipelineRunWithAnalysisAdmin(RegisteredPipelineRunAdmin):
    inlines = [FailureAnalysisInline, *RegisteredPipelineRunAdmin.inlines]
