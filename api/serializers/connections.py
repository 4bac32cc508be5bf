"""Connections as the API shows them: what and whether it is polled, never how it authenticates."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitors.models import Connection

HEALTH_STATES = ["ok", "failing", "unknown", "disabled"]


class ConnectionSerializer(serializers.ModelSerializer):
    """No secret, no secret's variable name, no tenant/client/subscription ids: a key with admin:read learns what is
    watched and whether polling works, nothing that would help reach the platform."""

    monitors = serializers.IntegerField(source="monitor_count", read_only=True, help_text="How many monitors poll it.")
    last_polled_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Its latest poll's start.")
    last_success_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Its latest poll that succeeded."
    )
    health = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "kind",
            "enabled",
            "is_simulator",
            "monitors",
            "last_polled_at",
            "last_success_at",
            "health",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "enum": HEALTH_STATES,
            "description": "disabled; unknown (never polled); failing (a monitor's latest poll failed); ok.",
        }
    )
    def get_health(self, connection: Connection) -> str:
        annotated = vars(connection)  # annotations of api.views.connections
        if not connection.enabled:
            return "disabled"
        if annotated["last_polled_at"] is None:
            return "unknown"
        return "failing" if annotated["failing_monitors"] else "ok"
