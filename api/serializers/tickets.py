"""Ticket links as a resource: linking one by hand, and every link with its sync state."""

from urllib.parse import urlsplit

from rest_framework import serializers

from api.serializers.fields import TextField
from api.serializers.incidents import TicketLinkSerializer


class TicketLinkCreateSerializer(serializers.Serializer):
    system = TextField(lines=False, max_length=50, help_text="e.g. Jira, ServiceNow.")
    key = TextField(lines=False, max_length=100, help_text="The ticket's key there, e.g. OPS-123.")
    url = TextField(lines=False, max_length=500, required=False, allow_blank=True, help_text="An https:// link.")

    def validate_url(self, url: str) -> str:
        if not url:
            return url
        serializers.URLField().run_validators(url)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise serializers.ValidationError("An https:// link (or leave it out).")
        return url


class TicketSerializer(TicketLinkSerializer):
    incident = serializers.IntegerField(source="incident_id", read_only=True)

    class Meta(TicketLinkSerializer.Meta):
        fields = ["id", "incident", *TicketLinkSerializer.Meta.fields[1:]]
        read_only_fields = fields
