"""Who is told about incidents: channels, routes, escalation steps, and each notification sent."""

import fnmatch
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.crypto import decrypt_secret, encrypt_secret
from aimsweb.models import TimeStampedModel
from aimsweb.outbound import OutboundPolicy, host_problem, origin_of, url_problem
from incidents.models.incidents import Incident, Occurrence


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
    sources = models.JSONField(
        default=list,
        blank=True,
        help_text='Occurrence sources routed here, e.g. ["contract_check"] (empty: all).',
    )
    subject_pattern = models.CharField(
        max_length=260,
        default="*",
        help_text=(
            "Glob on what the incident is about: contract:<contract>/<table> for contract violations, "
            "pipeline_run:<id> for failed runs (* = all)."
        ),
    )
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
        problem = _choices_check(self.sources, Occurrence.Source.values, "sources")
        if problem:
            errors["sources"] = problem
        if not (self.pipeline_pattern or "").strip():
            errors["pipeline_pattern"] = "Give a pattern; * matches every pipeline."
        if errors:
            raise ValidationError(errors)

    def matches(
        self,
        *,
        connection_id: int | None,
        pipeline_name: str,
        severity: str,
        category: str,
        source: str = "",
        subject: Callable[[], str] = str,
    ) -> bool:
        """Whether an incident goes here; `subject` is asked only by a route that names one (it may cost a read)."""
        return (
            self.enabled
            and (self.connection_id is None or self.connection_id == connection_id)
            and fnmatch.fnmatchcase(pipeline_name, self.pipeline_pattern)
            and (not self.severities or severity in self.severities)
            and (not self.categories or category in self.categories)
            and (not self.sources or source in self.sources)
            and (self.subject_pattern in ("", "*") or fnmatch.fnmatchcase(subject(), self.subject_pattern))
        )


class EscalationStep(TimeStampedModel):
    """If a paged incident is still not acknowledged this many minutes after the page, notify these channels, and
    the person on call in a schedule through their own contact methods."""

    route = models.ForeignKey(NotificationRoute, on_delete=models.CASCADE, related_name="escalation_steps")
    after_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10_080)])
    channels = models.ManyToManyField(NotificationChannel, related_name="escalation_steps")
    oncall_schedule = models.ForeignKey(
        "oncall.Schedule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalation_steps",
        verbose_name="on-call of schedule",
        help_text=(
            "Also reach whoever is on call in this schedule when the step fires: an e-mail to them through an "
            "e-mail channel, a mention of them in a Slack or Teams channel (of this step, else of the route)."
        ),
    )

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
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The on-call person this message reached through their own contact (blank: the channel's audience).",
    )
    recipient_address = models.CharField(
        max_length=254, blank=True, help_text="Their e-mail address, Slack member id or Teams user it went to."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            models.Index(fields=["channel", "created_at"], name="notification_channel_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} to {self.channel} ({self.status})"
