"""The caller as the API sees them: who, in which role, with which permissions, and through which key."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aimsweb.roles import Role
from api.models import ApiKey
from api.scopes import SCOPES


@extend_schema_field({"type": "string", "description": f"A scope: one of {', '.join(SCOPES)}."})
class ScopeField(serializers.CharField):
    """A scope's name (documented without an enum: several lists share it)."""


class CallerKeySerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=ScopeField())

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=[role.value for role in Role], allow_null=True)
    authentication = serializers.ChoiceField(
        choices=["api_key", "session"], help_text="How this request was authenticated."
    )
    scopes = serializers.ListField(
        child=ScopeField(),
        help_text="The scopes this request carries: the key's, or every scope for a browser session.",
    )
    scopes_allowed = serializers.ListField(child=ScopeField(), help_text="The scopes a key of this user may hold.")
    permissions = serializers.ListField(
        child=serializers.CharField(), help_text="The user's permissions that API operations check (by the role)."
    )
    key = CallerKeySerializer(allow_null=True, help_text="The API key of this request (null for a session).")
