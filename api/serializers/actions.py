"""What callers send to change incidents: the update, each lifecycle action, merge and bulk actions; and the bulk
answer."""

from django.utils import timezone
from rest_framework import serializers

from aimsweb.choices import Severity
from api.problems import NEEDED_FOR_ACTION, OUT_OF_WINDOW
from api.serializers.fields import AssigneeField, IdField, TextField
from incidents.services.edits import MAX_TITLE, MERGE_MAX_SOURCES
from incidents.services.incidents import BULK_ACTIONS, INCIDENTS_BULK_MAX, MAX_COMMENT, MAX_SILENCE

BULK_MAX = INCIDENTS_BULK_MAX  # the service's limit, the same on the list page


class IncidentUpdateSerializer(serializers.Serializer):
    """Only the fields sent change."""

    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    assignee = AssigneeField(required=False)
    title = TextField(lines=False, max_length=MAX_TITLE, required=False, help_text="1-300 characters, one line.")


class ResolveSerializer(serializers.Serializer):
    note = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True, help_text="Why, or what fixed it.")


class SilenceSerializer(serializers.Serializer):
    until = serializers.DateTimeField(help_text="ISO 8601, in the future, at most 30 days ahead.")
    reason = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True)

    def validate_until(self, until):
        now = timezone.now()
        if until <= now:
            raise serializers.ValidationError("Must be in the future.", code=OUT_OF_WINDOW)
        if until > now + MAX_SILENCE:
            raise serializers.ValidationError(f"At most {MAX_SILENCE.days} days ahead.", code=OUT_OF_WINDOW)
        return until


class CommentSerializer(serializers.Serializer):
    text = TextField(max_length=MAX_COMMENT)


class MergeSerializer(serializers.Serializer):
    sources = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=MERGE_MAX_SOURCES,
        help_text=f"Ids of the incidents merged into this one (1-{MERGE_MAX_SOURCES}).",
    )
    note = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True)


class SplitSerializer(serializers.Serializer):
    pipeline = IdField(help_text="Id of the pipeline whose part moves out into an incident of its own.")
    note = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True)


class BulkParamsSerializer(serializers.Serializer):
    """The action's parameters: `note` (resolve), `until` and `reason` (silence), `assignee` (assign)."""

    note = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True)
    until = serializers.DateTimeField(required=False)
    reason = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True)
    assignee = AssigneeField(required=False)

    def validate_until(self, until):
        return SilenceSerializer().validate_until(until)


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(), min_length=1, max_length=BULK_MAX, help_text=f"1-{BULK_MAX} incident ids; more is a 413."
    )
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    params = BulkParamsSerializer(required=False)

    def validate(self, data: dict) -> dict:
        params = data.get("params") or {}
        if data["action"] == "silence" and "until" not in params:
            raise serializers.ValidationError(
                {"params": {"until": "Say until when to silence."}}, code=NEEDED_FOR_ACTION
            )
        if data["action"] == "assign" and "assignee" not in params:
            raise serializers.ValidationError(
                {"params": {"assignee": "Name the assignee (null for nobody)."}}, code=NEEDED_FOR_ACTION
            )
        return data


class BulkOutcomeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="incident_id")
    outcome = serializers.ChoiceField(choices=["done", "unchanged", "refused", "not_found"])
    code = serializers.CharField(help_text="Why it was not done (e.g. already_resolved); empty when done.")
    detail = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    done = serializers.IntegerField()
    results = BulkOutcomeSerializer(many=True, help_text="One per distinct id, in id order.")


class RunRetrySerializer(serializers.Serializer):
    """The body of "retry this run" (optional)."""

    force = serializers.BooleanField(
        default=False,
        help_text="Retry although the analysis advises against it (retry not advised, or a manual fix required). "
        "Without it such a retry is refused (422 needed_for_action naming force).",
    )
