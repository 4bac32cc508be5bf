"""Triage: incidents (one per real problem), their timeline, and the analysis of each failed run."""

import fnmatch

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.crypto import decrypt_secret, encrypt_secret
from aimsweb.models import TimeStampedModel
from aimsweb.outbound import OutboundPolicy, host_problem, origin_of, url_problem


def _choices_check(values, allowed: list[str], label: str) -> str:
    """An error message for a JSON list field that must hold distinct known choices (blank: any), else ''."""
    if not isinstance(values, list):
        return f"Give a list of {label}."
    unknown = [value for value in values if value not in allowed]
    if unknown:
        return f"Unknown {label[:-1] if label.endswith('s') else label} {unknown[0]!r}; use {', '.join(allowed)}."
    if len(set(values)) != len(values):
        return f"List each of the {label} once."
    return ""


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


class Occurrence(TimeStampedModel):
    """One thing that should page a person, from any source (a failed run, a contract check, an anomaly, the API),
    as the intake counted it into its incident: what and where, a fingerprint that groups it, and its evidence."""

    class Source(models.TextChoices):
        PIPELINE_RUN = "pipeline_run", "Pipeline run"
        CONTRACT_CHECK = "contract_check", "Contract check"
        ANOMALY = "anomaly", "Anomaly"
        API = "api", "API"

    source = models.CharField(max_length=20, help_text="Who reported it (a registered occurrence source).")
    dedup_key = models.CharField(max_length=200, unique=True, help_text="Counted once, however often reported.")
    fingerprint = models.CharField(max_length=64, help_text="Hash of the source's grouping key.")
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    category = models.CharField(max_length=20, choices=ErrorCategory.choices, default=ErrorCategory.UNKNOWN)
    connection = models.ForeignKey(
        "monitors.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    pipeline = models.ForeignKey(
        "monitors.Pipeline", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    subject = models.CharField(max_length=200, help_text="What it is about, e.g. pipeline_run:42.")
    subject_label = models.CharField(max_length=200, help_text="The subject in words, e.g. run 7f3a….")
    # A failed run's own row and analysis, when the subject is one (pages link to them).
    run = models.ForeignKey(
        "monitors.PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    analysis = models.ForeignKey(
        FailureAnalysis, null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    evidence = models.JSONField(default=dict, blank=True, help_text="Structured: error, step, summary, numbers.")
    detected_at = models.DateTimeField()
    incident = models.ForeignKey(
        "Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="occurrences"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["incident", "-detected_at"], name="occurrence_incident_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.subject_label}"

    def get_source_display(self) -> str:
        return dict(self.Source.choices).get(self.source, self.source.replace("_", " ").capitalize())


class Incident(TimeStampedModel):
    """One real problem: every occurrence with the same fingerprint while it is open is counted in it. `latest_run`
    and `analysis` repeat the latest occurrence's, for a failed run (pages show them)."""

    class Status(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        SILENCED = "silenced", "Silenced"

    fingerprint = models.CharField(max_length=64, help_text="Hash of its occurrences' grouping key.")
    source = models.CharField(max_length=20, default=Occurrence.Source.PIPELINE_RUN, help_text="Who reported it.")
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
    latest_occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_incidents"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    opened_at = models.DateTimeField(default=timezone.now, help_text="When it was opened, or last reopened.")
    occurrence_count = models.PositiveIntegerField(default=1)
    generation = models.PositiveIntegerField(
        default=1, help_text="1 when opened, +1 on each reopening: notifications are sent once per generation."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    paged_at = models.DateTimeField(
        null=True, blank=True, help_text="First page of this generation; escalation steps count from here."
    )
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
            # Triage: the open incident of a fingerprint, or the one resolved last (to reopen it).
            models.Index(fields=["fingerprint", "-resolved_at"], name="incident_fingerprint_idx"),
            models.Index(fields=["status", "-last_seen_at"], name="incident_status_recent_idx"),
            models.Index(fields=["-last_seen_at", "-id"], name="incident_recent_idx"),
            # The incident list's default view: open ones, newest activity first, whatever the number resolved.
            models.Index(
                fields=["-last_seen_at", "-id"], condition=~Q(status="resolved"), name="incident_open_recent_idx"
            ),
            # The dashboard reads each KPI from one of these alone (index-only scans on PostgreSQL, never the
            # table): incidents opened, acknowledged (MTTA) and resolved (MTTR, and joined to automatic recoveries)
            # in a window, and open incidents by severity and age. Unset timestamps are left out.
            models.Index(fields=["opened_at"], name="incident_opened_idx"),
            models.Index(
                fields=["acknowledged_at"],
                include=["opened_at"],
                condition=Q(acknowledged_at__isnull=False),
                name="incident_acked_idx",
            ),
            models.Index(
                fields=["resolved_at"],
                include=["opened_at", "id"],
                condition=Q(resolved_at__isnull=False),
                name="incident_resolved_idx",
            ),
            models.Index(
                fields=["severity", "opened_at"], condition=~Q(status="resolved"), name="incident_open_age_idx"
            ),
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

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("incidents:detail", args=[self.pk])


class IncidentEvent(TimeStampedModel):
    """One entry of an incident's timeline: who did what and when, stored as a kind and its parameters (plus a
    person's note), put into words when read."""

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
        RETRY_SKIPPED = "retry_skipped", "Not retried"
        NOTIFIED = "notified", "Notified"
        NOTIFY_FAILED = "notify_failed", "Notification failed"
        ESCALATED = "escalated", "Escalated"
        SUPPRESSED = "suppressed", "Suppressed"
        UNSILENCED = "unsilenced", "Silence ended"

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
    note = models.TextField(blank=True, help_text="What a person wrote: a comment, a resolve note, a silence reason.")
    params = models.JSONField(
        default=dict, blank=True, help_text="What happened, as data (ids, numbers, names); see incidents.timeline."
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="event_incident_time_idx"),
            # The dashboard counts automatic recoveries in a window from this small index alone.
            models.Index(
                fields=["created_at"],
                include=["incident"],
                condition=Q(kind="auto_resolved"),
                name="event_auto_resolved_time_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.incident_id}"

    @property
    def actor(self) -> str:
        if self.actor_user is not None:
            return self.actor_user.get_username()
        return self.actor_label or self.get_actor_type_display()

    @property
    def text(self) -> str:
        """The entry in words, written when read (see incidents.timeline)."""
        from incidents.timeline import event_text  # the words read remediation's reasons: imported when used

        return event_text(kind=self.kind, params=self.params, note=self.note, at=self.created_at)


class TicketLink(TimeStampedModel):
    """An issue in an external ticketing system that tracks an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tickets")
    system = models.CharField(max_length=50, help_text="e.g. Jira, ServiceNow, GitHub.")
    key = models.CharField(max_length=100, help_text="The ticket's key in that system, e.g. OPS-123.")
    url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_by_label = models.CharField(max_length=150, blank=True, help_text="API key name, when not a user.")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "system", "key"], name="ticket_unique_per_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.key}"


class NotificationChannel(TimeStampedModel):
    """A place notifications go: a Teams Workflows webhook, a Slack incoming webhook, email recipients or a signed
    generic webhook. Webhook URLs and signing secrets are stored encrypted and never shown again."""

    class Kind(models.TextChoices):
        TEAMS = "teams", "Microsoft Teams (Workflows webhook, Adaptive Card)"
        SLACK = "slack", "Slack (incoming webhook, Block Kit)"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Generic webhook (JSON, HMAC-SHA256 signed)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url_encrypted = models.TextField(blank=True, editable=False)
    url_host = models.CharField(max_length=300, blank=True, editable=False, help_text="Where it posts (no secrets).")
    signing_secret_encrypted = models.TextField(blank=True, editable=False)
    recipients = models.TextField(blank=True, help_text="Email addresses, one per line or comma-separated.")
    rate_limit_count = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="At most this many notifications per window; the rest wait for one digest.",
    )
    rate_limit_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().split(' (')[0]})"

    @property
    def recipient_list(self) -> list[str]:
        return [part.strip() for part in self.recipients.replace(",", "\n").splitlines() if part.strip()]

    def set_url(self, url: str) -> None:
        """Store a new webhook URL encrypted (it carries the receiver's credentials); the caller saves."""
        self.url_encrypted = encrypt_secret(url) if url else ""
        self.url_host = origin_of(url) if url else ""  # never the credentials, path or query, as the sender reads it

    def get_url(self) -> str:
        return decrypt_secret(self.url_encrypted) if self.url_encrypted else ""

    def set_signing_secret(self, secret: str) -> None:
        self.signing_secret_encrypted = encrypt_secret(secret) if secret else ""

    def get_signing_secret(self) -> str:
        return decrypt_secret(self.signing_secret_encrypted) if self.signing_secret_encrypted else ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.EMAIL:
            addresses = self.recipient_list
            if not addresses:
                errors["recipients"] = "Give at least one email address."
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    errors["recipients"] = f"Not an email address: {address!r}."
                    break
        if errors:
            raise ValidationError(errors)


def channel_url_problem(url: str) -> str:
    """Why a notification URL is unusable ('' when it is fine): an https URL to a public host, by the outbound rules
    (aimsweb.outbound); plain http or loopback only to an origin in AIMS_OUTBOUND_LOOPBACK_ORIGINS (the simulator).
    A name is resolved now to catch the obvious, and again, pinned, at every send."""
    policy = OutboundPolicy.for_channels()
    problem = url_problem(url, policy) or host_problem(url, policy)
    if not problem:
        return ""
    if problem.startswith("plain http"):
        return "Use an https URL (plain http is accepted only for the local simulator)."
    return f"This URL is refused: {problem}."


class NotificationRoute(TimeStampedModel):
    """Which incidents go to which channels, on which events, and who is told when nobody acknowledges."""

    name = models.CharField(max_length=100, unique=True)
    connection = models.ForeignKey(
        "monitors.Connection",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_routes",
        help_text="Blank: every connection.",
    )
    pipeline_pattern = models.CharField(max_length=260, default="*", help_text="Glob on pipeline names (* = all).")
    severities = models.JSONField(default=list, blank=True, help_text="Severities routed here (empty: all).")
    categories = models.JSONField(default=list, blank=True, help_text="Error classes routed here (empty: all).")
    channels = models.ManyToManyField(NotificationChannel, related_name="routes")
    notify_on_open = models.BooleanField(default=True, help_text="Page when an incident opens or reopens.")
    notify_on_resolve = models.BooleanField(default=True, help_text="Tell the channels that were paged.")
    notify_while_retrying = models.BooleanField(
        default=False,
        help_text="Page at once even when an automatic retry is scheduled (otherwise only if the retries fail).",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        problem = _choices_check(self.severities, Severity.values, "severities")
        if problem:
            errors["severities"] = problem
        problem = _choices_check(self.categories, ErrorCategory.values, "categories")
        if problem:
            errors["categories"] = problem
        if not (self.pipeline_pattern or "").strip():
            errors["pipeline_pattern"] = "Give a pattern; * matches every pipeline."
        if errors:
            raise ValidationError(errors)

    def matches(self, *, connection_id: int | None, pipeline_name: str, severity: str, category: str) -> bool:
        return (
            self.enabled
            and (self.connection_id is None or self.connection_id == connection_id)
            and fnmatch.fnmatchcase(pipeline_name, self.pipeline_pattern)
            and (not self.severities or severity in self.severities)
            and (not self.categories or category in self.categories)
        )


class EscalationStep(TimeStampedModel):
    """If a paged incident is still not acknowledged this many minutes after the page, notify these channels."""

    route = models.ForeignKey(NotificationRoute, on_delete=models.CASCADE, related_name="escalation_steps")
    after_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10_080)])
    channels = models.ManyToManyField(NotificationChannel, related_name="escalation_steps")

    class Meta:
        ordering = ["route", "after_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["route", "after_minutes"], name="escalation_step_unique_wait"),
        ]

    def __str__(self) -> str:
        return f"{self.route}: after {self.after_minutes} min"


class Notification(TimeStampedModel):
    """One message to one channel about one incident event (or a digest): the delivery log. Its unique key makes
    a second attempt to notify the same state change a no-op."""

    class Event(models.TextChoices):
        OPENED = "opened", "Opened"
        REOPENED = "reopened", "Reopened"
        ESCALATED = "escalated", "Escalated"
        RESOLVED = "resolved", "Resolved"
        DIGEST = "digest", "Digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed (gave up)"
        HELD = "held", "Held back by the rate limit"
        DIGESTED = "digested", "Sent in a digest"

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=10, choices=Event.choices)
    generation = models.PositiveIntegerField(default=0, help_text="The incident's generation it was about.")
    dedup_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    headline = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="held_items", help_text="Sent in."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            models.Index(fields=["channel", "created_at"], name="notification_channel_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} to {self.channel} ({self.status})"
