"""Pipelines, their runs and their health as the API shows them."""

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from insights.health import LABELS, TREND_DAYS, WEIGHTS, WINDOW_DAYS, Health
from monitors.models import Connection, Pipeline, PipelineRun


class ConnectionRefSerializer(serializers.Serializer):
    """The connection a row belongs to, by id, name and platform."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Connection.Kind.choices)


class PipelineSerializer(serializers.ModelSerializer):
    connection = ConnectionRefSerializer(read_only=True)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = Pipeline
        fields = [
            "id",
            "name",
            "external_id",
            "criticality",
            "owner",
            "connection",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = fields

    def get_web_url(self, pipeline: Pipeline) -> str:
        return settings.AIMS_BASE_URL + reverse("monitors:pipeline-detail", args=[pipeline.pk])


class PipelineRunSerializer(serializers.ModelSerializer):
    error_headline = serializers.CharField(read_only=True, help_text="The error message's first line.")
    rerun_of: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The run this reran."
    )

    class Meta:
        model = PipelineRun
        fields = [
            "id",
            "external_run_id",
            "status",
            "platform_status",
            "started_at",
            "ended_at",
            "duration_ms",
            "failed_step",
            "error_code",
            "error_headline",
            "rerun_of",
            "created_at",
        ]
        read_only_fields = fields


class HealthComponentSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(WEIGHTS))
    title = serializers.CharField(help_text="What it measures, in words.")
    weight = serializers.IntegerField(help_text="Its weight in the score (the weights of the components that apply).")
    value = serializers.FloatField(
        allow_null=True, min_value=0, max_value=1, help_text="0 (bad) to 1 (good); null when it does not apply."
    )


class PipelineHealthSerializer(serializers.Serializer):
    """A pipeline's health: the weighted mean of its components over the last `window_days`, and a daily trend."""

    pipeline = serializers.IntegerField()
    score = serializers.IntegerField(
        allow_null=True, min_value=0, max_value=100, help_text="0-100; null when no component applies."
    )
    components = HealthComponentSerializer(many=True)
    trend = serializers.ListField(
        child=serializers.IntegerField(allow_null=True, min_value=0, max_value=100),
        help_text="The score on each of the last `trend_days` days, oldest first, today last.",
    )
    window_days = serializers.IntegerField()
    trend_days = serializers.IntegerField()
    open_incidents = serializers.IntegerField()


def health_data(*, pipeline_id: int, health: Health | None, open_incidents: int) -> dict:
    """The health answer of a pipeline (without runs in the window: no score, every component null)."""
    components = health.components if health is not None else {}
    return {
        "pipeline": pipeline_id,
        "score": health.score if health is not None else None,
        "components": [
            {"name": name, "title": LABELS[name], "weight": weight, "value": components.get(name)}
            for name, weight in WEIGHTS.items()
        ],
        "trend": health.trend if health is not None else [None] * TREND_DAYS,
        "window_days": WINDOW_DAYS,
        "trend_days": TREND_DAYS,
        "open_incidents": open_incidents,
    }
