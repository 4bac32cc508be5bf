"""Triage: incidents (one per real problem), their timeline, and the analysis of each failed run."""

from django.conf import settings
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

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "failure analyses"
        indexes = [models.Index(fields=["signature", "-created_at"], name="analysis_signature_recent_idx")]

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


class Incident(TimeStampedModel):
    """One real problem: every failure with the same fingerprint while it is open adds an occurrence."""

    class Status(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        SILENCED = "silenced", "Silenced"

    fingerprint = models.CharField(max_length=64, help_text="Hash of connection × pipeline × signature.")
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TRIGGERED)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    category = models.CharField(max_length=20, choices=ErrorCategory.choices, default=ErrorCategory.UNKNOWN)
    connection = models.ForeignKey(
        "monitors.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    pipeline = models.ForeignKey(
        "monitors.Pipeline", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    latest_run = models.ForeignKey(
        "monitors.PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    analysis = models.ForeignKey(FailureAnalysis, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_incidents"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    occurrence_count = models.PositiveIntegerField(default=1)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    silenced_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            # At most one open incident per fingerprint: concurrent failures cannot open two.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(status="resolved"), name="incident_one_open_per_fingerprint"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-last_seen_at"], name="incident_status_recent_idx"),
            models.Index(fields=["-last_seen_at", "-id"], name="incident_recent_idx"),
        ]
        permissions = [
            ("acknowledge_incident", "Can acknowledge an incident"),
            ("resolve_incident", "Can resolve or reopen an incident"),
            ("assign_incident", "Can assign an incident"),
            ("comment_incident", "Can comment on an incident"),
            ("silence_incident", "Can silence an incident"),
            ("link_ticket_incident", "Can link an external ticket to an incident"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class IncidentEvent(TimeStampedModel):
    """One entry of an incident's timeline: who did what, when, with details."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        OCCURRED = "occurred", "Occurred again"
        REOPENED = "reopened", "Reopened"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        AUTO_RESOLVED = "auto_resolved", "Resolved automatically"
        SILENCED = "silenced", "Silenced"
        ASSIGNED = "assigned", "Assigned"
        COMMENTED = "commented", "Commented"
        TICKET_LINKED = "ticket_linked", "Ticket linked"
        RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
        RETRY_STARTED = "retry_started", "Retry started"
        RETRY_SUCCEEDED = "retry_succeeded", "Retry succeeded"
        RETRY_FAILED = "retry_failed", "Retry failed"
        NOTIFIED = "notified", "Notified"
        ESCALATED = "escalated", "Escalated"
        SUPPRESSED = "suppressed", "Suppressed"

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"
        RETRY_ENGINE = "retry_engine", "Retry engine"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor_type = models.CharField(max_length=20, choices=ActorType.choices, default=ActorType.SYSTEM)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, blank=True, help_text="API key name or system component.")
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="event_incident_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.incident_id}"

    @property
    def actor(self) -> str:
        if self.actor_user_id:
            return self.actor_user.get_username()
        return self.actor_label or self.get_actor_type_display()
