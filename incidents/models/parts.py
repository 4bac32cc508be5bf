"""An incident's part per pipeline: a shared cause (an integration runtime offline, an expired service principal)
fails many pipelines at once and they count in one incident; each pipeline keeps its own part, recovered by its own
next success, and the incident resolves itself when every part has recovered."""

from django.db import models
from django.db.models import Q

from aimsweb.models import TimeStampedModel
from incidents.models.incidents import Incident


class IncidentPipeline(TimeStampedModel):
    """One pipeline's failures counted in an incident: when they began and were last seen, how many, and when a
    later success of the pipeline recovered it (null while it is failing)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="parts")
    pipeline = models.ForeignKey("monitors.Pipeline", on_delete=models.CASCADE, related_name="incident_parts")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_failed_at = models.DateTimeField(help_text="When its latest counted failure happened (the run's start).")
    occurrence_count = models.PositiveIntegerField(default=1)
    recovered_at = models.DateTimeField(null=True, blank=True, help_text="When a later success of it was seen.")

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            # One part per pipeline in an incident: concurrent failures of it count in the same row.
            models.UniqueConstraint(fields=["incident", "pipeline"], name="incident_part_one_per_pipeline"),
        ]
        indexes = [
            # Recovery: the open parts of a pipeline that just succeeded.
            models.Index(fields=["pipeline"], condition=Q(recovered_at__isnull=True), name="incident_part_failing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_id} in incident {self.incident_id}"

    @property
    def is_failing(self) -> bool:
        return self.recovered_at is None
