"""The lists' filters, as query parameters (django-filter; invalid values are a 400 naming the parameter)."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from aimsweb.choices import ErrorCategory, Severity
from api.serializers.fields import MAX_ID
from contracts.models import DataContract, Violation
from contracts.selectors import LIST_STATUSES, NEVER_CHECKED
from incidents.models import Incident, IncidentEvent, TicketLink
from monitors.models import Connection, Pipeline, PipelineRun


class EmptyRefusingForm(forms.Form):
    """A parameter sent empty (`?status=`, `?opened_after=`) is a mistake, not "no filter": refused, naming it.
    Free text (a name, a search) may be empty."""

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        for name, field in self.fields.items():
            if type(field) is forms.CharField or name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if any(value == "" for value in values) and name not in self.errors:
                self.add_error(name, "Give a value, or leave the parameter out.")
        return cleaned


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned to UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO allows."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("This moment is out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number within what the database holds."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class IncidentFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Incident.Status.choices, help_text="Repeat for several.")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    category = django_filters.MultipleChoiceFilter(choices=ErrorCategory.choices)
    connection = IdFilter(field_name="connection_id", help_text="A connection's id.")
    pipeline = IdFilter(field_name="pipeline_id", help_text="A pipeline's id.")
    assignee = django_filters.CharFilter(method="_assignee", help_text="A username, or `none` for unassigned.")
    opened_after = UtcDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = UtcDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = UtcDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    fingerprint = django_filters.CharFilter(field_name="fingerprint")
    ticket = django_filters.CharFilter(method="_ticket", help_text="A linked ticket as SYSTEM:KEY, e.g. JIRA:OPS-12.")

    class Meta:
        model = Incident
        fields: list[str] = []
        form = EmptyRefusingForm

    def _assignee(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        if value.lower() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee__username=value)

    def _ticket(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        system, separator, key = value.partition(":")
        if not separator or not system or not key:
            return queryset.none()
        linked = Q(tickets__system__iexact=system, tickets__key__iexact=key)
        return queryset.filter(pk__in=Incident.objects.filter(linked).values("pk"))


class IncidentEventFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=IncidentEvent.Kind.choices, help_text="Repeat for several.")

    class Meta:
        model = IncidentEvent
        fields: list[str] = []


class TicketLinkFilterSet(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="system", lookup_expr="iexact", help_text="e.g. Jira.")
    key = django_filters.CharFilter(field_name="key", lookup_expr="iexact", help_text="e.g. OPS-12.")
    sync_state = django_filters.MultipleChoiceFilter(choices=TicketLink.SyncState.choices)
    incident = IdFilter(field_name="incident_id", help_text="An incident's id.")

    class Meta:
        model = TicketLink
        fields: list[str] = []


class PipelineFilterSet(django_filters.FilterSet):
    connection = IdFilter(field_name="connection_id", help_text="A connection's id.")
    kind = django_filters.ChoiceFilter(
        field_name="connection__kind", choices=Connection.Kind.choices, help_text="The platform (its connection's)."
    )
    criticality = django_filters.MultipleChoiceFilter(choices=Pipeline.Criticality.choices, help_text="Repeatable.")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Pipeline
        fields: list[str] = []
        form = EmptyRefusingForm


class PipelineRunFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PipelineRun.Status.choices, help_text="Repeatable.")
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = PipelineRun
        fields: list[str] = []
        form = EmptyRefusingForm


class ContractFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(status, status) for status in LIST_STATUSES],
        method="_status",
        help_text="The last check's status, or `never` for a contract not checked yet.",
    )
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = DataContract
        fields: list[str] = []
        form = EmptyRefusingForm

    def _status(self, queryset: QuerySet[DataContract], name: str, value: str) -> QuerySet[DataContract]:
        if value == NEVER_CHECKED:
            return queryset.filter(Q(last_status__isnull=True))  # annotated by contracts.selectors.contract_list
        return queryset.filter(Q(last_status=value))


class ViolationFilterSet(django_filters.FilterSet):
    """A contract's violations."""

    table = django_filters.CharFilter(field_name="object", help_text="The contract's schema object (table).")
    state = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("resolved", "Resolved")],
        method="_state",
        help_text="open: found by the contract's latest completed check; resolved: a later check no longer found it.",
    )
    checked_after = UtcDateTimeFilter(field_name="check_run__started_at", lookup_expr="gte")
    checked_before = UtcDateTimeFilter(field_name="check_run__started_at", lookup_expr="lt")

    class Meta:
        model = Violation
        fields: list[str] = []
        form = EmptyRefusingForm

    def _state(self, queryset: QuerySet[Violation], name: str, value: str) -> QuerySet[Violation]:
        return queryset.filter(Q(is_open=value == "open"))  # annotated by api.views.contracts


class AllViolationsFilterSet(ViolationFilterSet):
    """Every contract's violations."""

    contract = IdFilter(field_name="check_run__contract_id", help_text="A contract's id.")
