"""An incident's timeline as typed events, and the runs, analyses and retry attempts counted in it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.incidents import RefSerializer
from incidents.models import FailureAnalysis, IncidentEvent
from monitors.models import PipelineRun
from remediation.models import RetryAttempt

_FINISHED = (
    RetryAttempt.Status.SUCCEEDED,
    RetryAttempt.Status.FAILED,
    RetryAttempt.Status.CANCELLED,
    RetryAttempt.Status.ERROR,
)


class ActorSerializer(serializers.Serializer):
    """Who made the change: a user, an API key (with its user), AIMS, its retry engine or a ticket system."""

    type = serializers.ChoiceField(source="actor_type", choices=IncidentEvent.ActorType.choices)
    # Declared fields are taken off the class (DRF's metaclass), so this does not shadow Field.label.
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    username = serializers.SerializerMethodField()

    def get_label(self, event: IncidentEvent) -> str:
        return event.actor_label or event.actor

    @extend_schema_field({"type": ["string", "null"]})
    def get_username(self, event: IncidentEvent) -> str | None:
        return event.actor_user.get_username() if event.actor_user else None


class TimelineEventSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text="The entry in words, as the incident page shows it.")
    actor = ActorSerializer(source="*", read_only=True)
    params = serializers.DictField(read_only=True, help_text="What happened as data; each kind's keys are stable.")

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "text", "note", "actor", "params", "created_at"]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    pipeline = RefSerializer(read_only=True)
    platform_run_id = serializers.CharField(source="external_run_id", read_only=True)
    error_headline = serializers.CharField(read_only=True, help_text="The error message's first line.")
    retry_pending = serializers.BooleanField(read_only=True, help_text="A retry is scheduled or running.")

    class Meta:
        model = PipelineRun
        fields = [
            "id",
            "platform_run_id",
            "pipeline",
            "status",
            "platform_status",
            "started_at",
            "ended_at",
            "duration_ms",
            "failed_step",
            "error_code",
            "error_headline",
            "retry_pending",
        ]
        read_only_fields = fields


class AnalysisSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True)
    error_class = serializers.CharField(source="category", read_only=True)
    recommended_actions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = FailureAnalysis
        fields = [
            "id",
            "run",
            "error_class",
            "severity",
            "summary",
            "root_cause",
            "should_retry",
            "retry_delay_minutes",
            "confidence",
            "recommended_actions",
            "manual_intervention_required",
            "analyzer",
            "model",
            "cache_hit",
            "fallback_reason",
            "created_at",
        ]
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True)
    platform_run_id = serializers.CharField(source="run.external_run_id", read_only=True)
    state = serializers.ChoiceField(source="status", choices=RetryAttempt.Status.choices, read_only=True)
    outcome = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()

    class Meta:
        model = RetryAttempt
        fields = [
            "id",
            "run",
            "platform_run_id",
            "attempt_number",
            "trigger",
            "policy",
            "requested_by",
            "mode",
            "state",
            "scheduled_for",
            "started_at",
            "finished_at",
            "outcome",
            "external_rerun_id",
            "error_message",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": ["string", "null"],
            "enum": [*_FINISHED, None],
            "description": "How it ended; null until it has.",
        }
    )
    def get_outcome(self, attempt: RetryAttempt) -> str | None:
        return attempt.status if attempt.status in _FINISHED else None

    @extend_schema_field({"type": ["string", "null"], "description": "The retry policy's name; null by hand."})
    def get_policy(self, attempt: RetryAttempt) -> str | None:
        return attempt.policy.name if attempt.policy else None

    @extend_schema_field({"type": ["string", "null"], "description": "Who asked for it (by hand)."})
    def get_requested_by(self, attempt: RetryAttempt) -> str | None:
        return attempt.requested_by.get_username() if attempt.requested_by else None
