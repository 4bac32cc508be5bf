"""Incidents (one per real problem), the occurrences counted in them, their timeline and linked tickets."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.models import TimeStampedModel
from incidents.models.analysis import FailureAnalysis


class Occurrence(TimeStampedModel):
    """One thing that should page a person, from any source (a failed run, a contract check, an anomaly, the API),
    as the intake counted it into its incident: what and where, a fingerprint that groups it, and its evidence."""

    class Source(models.TextChoices):
        PIPELINE_RUN = "pipeline_run", "Pipeline run"
        CONTRACT_CHECK = "contract_check", "Contract check"
        ANOMALY = "anomaly", "Anomaly"
        MISSED_RUN = "missed_run", "Missed run"
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
        UPDATED = "updated", "Updated"
        MERGED = "merged", "Merged"
        TICKET_UNLINKED = "ticket_unlinked", "Ticket unlinked"
        TICKET_OPENED = "ticket_opened", "Ticket opened"
        TICKET_CHANGED = "ticket_changed", "Ticket changed"
        TICKET_SYNC_FAILED = "ticket_sync_failed", "Ticket sync failed"
        PIPELINE_JOINED = "pipeline_joined", "Pipeline joined"
        PART_RECOVERED = "part_recovered", "Pipeline recovered"
        SPLIT = "split", "Split"

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"
        RETRY_ENGINE = "retry_engine", "Retry engine"
        TICKET = "ticket", "Ticket system"

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

    @property
    def sentence(self) -> str:
        """The entry in words without the person's note, which pages render apart (as markdown)."""
        from incidents.timeline import event_sentence

        return event_sentence(kind=self.kind, params=self.params, at=self.created_at)

    @property
    def shown_note(self) -> str:
        """The person's note as pages show it under the sentence (an entry of older versions has it in its text)."""
        return "" if self.params.get("legacy_text") else self.note


class TicketLink(TimeStampedModel):
    """An issue in an external ticketing system that tracks an incident: linked by hand, or opened and kept in step
    by a ticket route (the `tickets` app writes the sync fields)."""

    class SyncState(models.TextChoices):
        MANUAL = "manual", "Linked by hand"
        PENDING = "pending", "Waiting to sync"
        SYNCED = "synced", "In sync"
        FAILED = "failed", "Sync failing"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tickets")
    system = models.CharField(max_length=50, help_text="e.g. Jira, ServiceNow, GitHub.")
    key = models.CharField(max_length=100, help_text="The ticket's key in that system, e.g. OPS-123.")
    url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_by_label = models.CharField(max_length=150, blank=True, help_text="API key name, when not a user.")
    external_id = models.CharField(max_length=100, blank=True, help_text="The system's own id (a ServiceNow sys_id).")
    remote_status = models.CharField(max_length=100, blank=True, help_text="The ticket's status, as last read.")
    sync_state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.MANUAL)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why the last sync failed (redacted).")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "system", "key"], name="ticket_unique_per_incident"),
        ]
        indexes = [models.Index(fields=["system", "key"], name="ticket_system_key_idx")]

    def __str__(self) -> str:
        return f"{self.system} {self.key}"
