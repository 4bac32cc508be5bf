"""The analysis of each failed run, and what AIMS learns per error signature."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.models import TimeStampedModel


class FailureAnalysis(TimeStampedModel):
    """The verdict on one failed run, in one schema whichever analyzer produced it."""

    class Analyzer(models.TextChoices):
        OFFLINE = "offline", "Offline classifier"
        LLM = "llm", "LLM"

    run = models.OneToOneField("monitors.PipelineRun", on_delete=models.CASCADE, related_name="analysis")
    signature = models.CharField(max_length=64, db_index=True, help_text="Hash of the normalised error.")
    signature_text = models.TextField(blank=True, help_text="The normalised error the hash is made from.")
    category = models.CharField(max_length=20, choices=ErrorCategory.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    should_retry = models.BooleanField()
    retry_delay_minutes = models.PositiveIntegerField(default=0)
    confidence = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    summary = models.TextField()
    root_cause = models.TextField(blank=True)
    recommended_actions = models.JSONField(default=list, blank=True)
    manual_intervention_required = models.BooleanField(default=False)
    analyzer = models.CharField(max_length=10, choices=Analyzer.choices)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cache_hit = models.BooleanField(default=False, help_text="Reused an earlier analysis of the same signature.")
    fallback_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the LLM answer was not used, when the offline classifier stood in."
    )
    learned = models.TextField(blank=True, help_text="How the history of this signature changed the verdict.")
    incident = models.ForeignKey(
        "Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analyses",
        help_text="The incident this failure was counted in (set once, so a repeated task never counts it twice).",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "failure analyses"
        indexes = [
            models.Index(fields=["signature", "-created_at"], name="analysis_signature_recent_idx"),
            # The dashboard's LLM cost and calls in a window, from this index alone (offline analyses cost nothing).
            models.Index(
                fields=["created_at"],
                include=["cost_usd", "cache_hit"],
                condition=Q(analyzer="llm"),
                name="analysis_llm_created_idx",
            ),
            # The error class of the failed runs charted on the dashboard: the analyses written since the chart's
            # start, hash-joined to the runs from this index alone.
            models.Index(fields=["created_at"], include=["run", "category"], name="analysis_recent_class_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.confidence}%) for {self.run_id}"


class SignatureStats(TimeStampedModel):
    """What AIMS has learnt about one error signature: how often it failed and was retried, how often a retry
    worked, and the LLM analysis reused for it within the cache window."""

    signature = models.CharField(max_length=64, unique=True)
    signature_text = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    retry_successes = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    llm_analysis = models.ForeignKey(
        FailureAnalysis, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Reused."
    )
    llm_analyzed_at = models.DateTimeField(null=True, blank=True)
    llm_claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is asking the LLM about this signature until then."
    )

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name_plural = "signature statistics"

    def __str__(self) -> str:
        return f"{self.signature[:12]} ({self.failures} failures)"

    @property
    def retry_success_rate(self) -> float | None:
        return self.retry_successes / self.retries if self.retries else None
