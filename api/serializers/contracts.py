"""Data contracts and their violations as the API shows them."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import CheckRun, ContractVersion, DataContract, Violation
from contracts.pages.contract_list import spec_tables
from contracts.selectors import LIST_STATUSES, NEVER_CHECKED


class ContractVersionSerializer(serializers.ModelSerializer):
    published_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ContractVersion
        fields = ["id", "number", "checksum", "breaking", "published_at"]
        read_only_fields = fields


class WarehouseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    engine = serializers.CharField()


class ContractSerializer(serializers.ModelSerializer):
    """A contract with its current (published) version, the tables it names, and its last check."""

    current_version = ContractVersionSerializer(source="active_version", read_only=True, allow_null=True)
    warehouse = WarehouseRefSerializer(read_only=True, allow_null=True)
    tables = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    last_checked_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When it was last checked.")
    open_violations = serializers.IntegerField(
        read_only=True, help_text="The violations its latest completed check found."
    )
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = DataContract
        fields = [
            "id",
            "name",
            "owner",
            "description",
            "enabled",
            "warehouse",
            "current_version",
            "tables",
            "status",
            "last_checked_at",
            "open_violations",
            "check_every_minutes",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = fields

    def get_tables(self, contract: DataContract) -> list[str]:
        """The tables its current version names (physical names where given)."""
        return spec_tables(contract.active_version.spec if contract.active_version else None)

    @extend_schema_field(
        {"type": "string", "enum": list(LIST_STATUSES), "description": "The last check's status, or `never`."}
    )
    def get_status(self, contract: DataContract) -> str:
        return getattr(contract, "last_status", None) or NEVER_CHECKED  # annotated by contracts.selectors

    def get_web_url(self, contract: DataContract) -> str:
        return settings.AIMS_BASE_URL + reverse("contracts:detail", args=[contract.pk])


@extend_schema_field({"description": "Any JSON value, or null."})
class AnyJSONField(serializers.JSONField):
    """A JSON value of any type, null included (documented without a type, so null matches it once)."""


class ContractRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ViolationSerializer(serializers.ModelSerializer):
    """One broken rule (or schema change) a check found."""

    contract = ContractRefSerializer(source="check_run.contract", read_only=True)
    check_run = serializers.IntegerField(source="check_run_id", read_only=True, help_text="The check that found it.")
    checked_at = serializers.DateTimeField(source="check_run.started_at", read_only=True)
    check_status = serializers.ChoiceField(source="check_run.status", choices=CheckRun.Status.choices, read_only=True)
    table = serializers.CharField(source="object", read_only=True)
    expected = AnyJSONField(read_only=True, help_text="What the rule expected.")
    observed = AnyJSONField(read_only=True, help_text="What the check measured.")
    state = serializers.SerializerMethodField()

    class Meta:
        model = Violation
        fields = [
            "id",
            "contract",
            "check_run",
            "checked_at",
            "check_status",
            "table",
            "rule",
            "kind",
            "status",
            "severity",
            "column",
            "line",
            "message",
            "expected",
            "observed",
            "state",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "enum": ["open", "resolved"],
            "description": "open: found by the contract's latest completed check; resolved: not found since.",
        }
    )
    def get_state(self, violation: Violation) -> str:
        return "open" if getattr(violation, "is_open", False) else "resolved"
