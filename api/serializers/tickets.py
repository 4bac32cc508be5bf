"""Ticket links as a resource: linking one by hand, and every link with its sync state."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.fields import TextField
from api.serializers.incidents import TicketLinkSerializer

# An https link to a host by name or address, then any path: what the pages show as the ticket's link (escaped).
TICKET_URL_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s\u0000-\u001f\u007f-\u009f]*)?$"


@extend_schema_field({"type": "string", "maxLength": 500, "pattern": f"{TICKET_URL_PATTERN}|^$"})
class TicketUrlField(TextField):
    pass


class TicketLinkCreateSerializer(serializers.Serializer):
    system = TextField(lines=False, max_length=50, help_text="e.g. Jira, ServiceNow.")
    key = TextField(lines=False, max_length=100, help_text="The ticket's key there, e.g. OPS-123.")
    url = TicketUrlField(lines=False, max_length=500, required=False, allow_blank=True, help_text="An https:// link.")

    def validate_url(self, url: str) -> str:
        if url and not re.match(TICKET_URL_PATTERN, url):
            raise serializers.ValidationError("An https:// link (or leave it out).")
        return url


class TicketSerializer(TicketLinkSerializer):
    incident = serializers.IntegerField(source="incident_id", read_only=True)

    class Meta(TicketLinkSerializer.Meta):
        fields = ["id", "incident", *TicketLinkSerializer.Meta.fields[1:]]
        read_only_fields = fields
