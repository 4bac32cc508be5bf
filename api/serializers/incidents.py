"""Incidents as the API shows them."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Incident, TicketLink


class RefSerializer(serializers.Serializer):
    """A related row by id and name."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class TicketLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketLink
        fields = [
            "id",
            "system",
            "key",
            "url",
            "external_id",
            "remote_status",
            "sync_state",
            "last_synced_at",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    connection = RefSerializer(read_only=True, allow_null=True)
    pipeline = RefSerializer(read_only=True, allow_null=True)
    assignee = serializers.SerializerMethodField()
    tickets = TicketLinkSerializer(many=True, read_only=True)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "status",
            "severity",
            "category",
            "source",
            "fingerprint",
            "connection",
            "pipeline",
            "assignee",
            "occurrence_count",
            "generation",
            "first_seen_at",
            "last_seen_at",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "silenced_until",
            "latest_run",
            "analysis",
            "tickets",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": ["string", "null"], "description": "The assignee's username."})
    def get_assignee(self, incident: Incident) -> str | None:
        return incident.assignee.get_username() if incident.assignee else None

    def get_web_url(self, incident: Incident) -> str:
        return settings.AIMS_BASE_URL + incident.get_absolute_url()
