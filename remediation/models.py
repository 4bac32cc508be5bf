"""Remediation: the admin-edited retry policies and the reruns they allow (attempts), one row per rerun."""

import fnmatch

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aimsweb.choices import ErrorCategory
from aimsweb.models import TimeStampedModel
from monitors.models import Connection, PipelineRun, RerunMode


class RetryPolicy(TimeStampedModel):
    """Admin-edited bounds on automatic reruns: which failures, how often, how fast, how many at once.

    The failure analysis only advises; a run is retried only when an enabled policy matches it, and never more
    often than the policy allows.
    """

    name = models.CharField(max_length=100, unique=True)
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="retry_policies",
        help_text="Blank: any connection.",
    )
    pipeline_pattern = models.CharField(
        max_length=260, default="*", help_text="Glob on pipeline or job names, e.g. sales_* (* = all)."
    )
    error_classes = models.JSONField(default=list, help_text="Error classes this policy retries.")
    priority = models.PositiveIntegerField(default=100, help_text="Lower wins when several policies match.")
    max_attempts = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(10)])
    backoff_initial_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(86_400)]
    )
    backoff_multiplier = models.FloatField(default=2.0, validators=[MinValueValidator(1.0), MaxValueValidator(10.0)])
    backoff_max_seconds = models.PositiveIntegerField(
        default=1800, validators=[MinValueValidator(1), MaxValueValidator(86_400)]
    )
    jitter = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Random spread added to each delay, as a fraction of it (0 to 1).",
    )
    min_confidence = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(100)],
        help_text="Only retry when the analysis is at least this confident (0-100).",
    )
    rerun_mode = models.CharField(max_length=10, choices=RerunMode.choices, default=RerunMode.RECOVER)
    max_concurrent_reruns = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Cap on reruns in flight per connection (retry-storm guard).",
    )
    auto_resolve = models.BooleanField(
        default=True, help_text="Resolve the incident when a later run of the pipeline succeeds."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name_plural = "retry policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        classes = self.error_classes
        if not isinstance(classes, list) or not classes:
            errors["error_classes"] = "Choose at least one error class."
        else:
            unknown = [c for c in classes if c not in ErrorCategory.values]
            if unknown:
                errors["error_classes"] = (
                    f"Unknown error class {unknown[0]!r}; use one of {', '.join(ErrorCategory.values)}."
                )
            elif len(set(classes)) != len(classes):
                errors["error_classes"] = "List each error class once."
        if not self.pipeline_pattern.strip():
            errors["pipeline_pattern"] = "Give a pattern; * matches every pipeline."
        if (
            self.backoff_initial_seconds is not None
            and self.backoff_max_seconds is not None
            and self.backoff_max_seconds < self.backoff_initial_seconds
        ):
            errors["backoff_max_seconds"] = "Must be at least the initial delay."
        if errors:
            raise ValidationError(errors)

    def matches(self, *, connection_id: int, pipeline_name: str, category: str) -> bool:
        return (
            self.enabled
            and (self.connection_id is None or self.connection_id == connection_id)
            and fnmatch.fnmatchcase(pipeline_name, self.pipeline_pattern)
            and category in self.error_classes
        )


class RetryAttempt(TimeStampedModel):
    """One rerun of a failed run. The row (with its unique key) is claimed before the platform is called, so a
    worker that dies and restarts never reruns twice."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CLAIMED = "claimed", "Claimed (calling the platform)"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        ERROR = "error", "Error (rerun could not be started)"

    class Trigger(models.TextChoices):
        POLICY = "policy", "Retry policy"
        MANUAL = "manual", "By hand"

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="retry_attempts")
    policy = models.ForeignKey(RetryPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts")
    attempt_number = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.POLICY)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    mode = models.CharField(max_length=10, choices=RerunMode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_for = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    external_rerun_id = models.CharField(max_length=100, blank=True, help_text="ADF run id or Databricks repair id.")
    rerun = models.ForeignKey(
        PipelineRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The rerun."
    )
    error_message = models.TextField(blank=True)
    # The advice the attempt was made on (the engine never reads the analysis): the policy is matched again on
    # this error class before each attempt, and the next attempt waits at least the advised delay.
    category = models.CharField(max_length=20, choices=ErrorCategory.choices, default=ErrorCategory.UNKNOWN)
    advised_delay_minutes = models.PositiveIntegerField(default=0)
    outcome_announced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the layers above took the outcome in (until then it is announced again)."
    )

    class Meta:
        ordering = ["run", "attempt_number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "attempt_number"], name="attempt_unique_per_run"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="attempt_status_due_idx")]

    def __str__(self) -> str:
        return f"attempt {self.attempt_number} of {self.run}"
