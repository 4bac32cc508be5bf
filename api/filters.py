"""The incident list's filters, as query parameters (django-filter; invalid values are a 400 naming the parameter)."""

import django_filters
from django.db.models import Q, QuerySet

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import Incident


class IncidentFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Incident.Status.choices, help_text="Repeat for several.")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    category = django_filters.MultipleChoiceFilter(choices=ErrorCategory.choices)
    connection = django_filters.NumberFilter(field_name="connection_id", help_text="A connection's id.")
    pipeline = django_filters.NumberFilter(field_name="pipeline_id", help_text="A pipeline's id.")
    assignee = django_filters.CharFilter(method="_assignee", help_text="A username, or `none` for unassigned.")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    fingerprint = django_filters.CharFilter(field_name="fingerprint")
    ticket = django_filters.CharFilter(method="_ticket", help_text="A linked ticket as SYSTEM:KEY, e.g. JIRA:OPS-12.")

    class Meta:
        model = Incident
        fields: list[str] = []

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
