"""Which incidents go where: routes, their escalation steps, and the log of deliveries."""

from django import forms
from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin
from aimsweb.choices import ErrorCategory, Severity
from incidents.models import EscalationStep, Notification, NotificationRoute, Occurrence


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

    sources = forms.MultipleChoiceField(
        required=False,
        choices=Occurrence.Source.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents reported by these sources are routed here. None ticked: every source.",
    )

    class Meta:
        model = NotificationRoute
        fields = ["severities", "categories", "sources"]  # the admin's fieldsets add the rest

    def clean_severities(self) -> list[str]:
        chosen = set(self.cleaned_data["severities"])
        return [value for value in Severity.values if value in chosen]  # most urgent first, whatever the order sent

    def clean_categories(self) -> list[str]:
        chosen = set(self.cleaned_data["categories"])
        return [value for value in ErrorCategory.values if value in chosen]

    def clean_sources(self) -> list[str]:
        chosen = set(self.cleaned_data["sources"])
        return [value for value in Occurrence.Source.values if value in chosen]


class EscalationStepFormSet(forms.BaseInlineFormSet):
    def get_unique_error_message(self, unique_check) -> str:
        if "after_minutes" in unique_check:
            return (
                "Two escalation steps wait the same number of minutes: give each step its own wait, "
                "or tick all their channels in one step."
            )
        return super().get_unique_error_message(unique_check)


class _ChannelCheckboxes(admin.options.BaseModelAdmin):
    """Channels as checkboxes: there are few, and a ticked list reads better than a multiple select."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "channels":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class EscalationStepInline(_ChannelCheckboxes, admin.TabularInline):
    model = EscalationStep
    formset = EscalationStepFormSet
    fields = ["after_minutes", "channels", "oncall_schedule"]
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
        (
            "Which incidents",
            {"fields": ["connection", "pipeline_pattern", "severities", "categories", "sources", "subject_pattern"]},
        ),
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

    list_display = ["route", "after_minutes", "channel_list", "oncall_schedule"]
    list_filter = ["route", "channels"]
    search_fields = ["route__name", "channels__name"]
    list_select_related = ["route", "oncall_schedule"]
    fields = ["route", "after_minutes", "channels", "oncall_schedule"]

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
        "recipient",
        "incident",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "sent_at",
    ]
    list_filter = ["status", "event", "channel"]
    search_fields = ["headline", "last_error", "incident__title"]
    list_select_related = ["channel", "incident", "recipient"]
    date_hierarchy = "created_at"
