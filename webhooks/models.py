"""Outbound webhooks: the endpoints subscribers register, the outbox of messages owed to them (written in the same
transaction as the timeline entry they announce) and the log of every attempt to deliver one."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from aimsweb.choices import Severity
from aimsweb.crypto import decrypt_secret, encrypt_secret
from aimsweb.models import TimeStampedModel
from aimsweb.outbound import OutboundPolicy, host_problem, url_problem
from webhooks.types import EVENT_TYPES

SECRET_PREFIX = "whsec_"
MSG_ID_PREFIX = "msg_"


def endpoint_url_problem(url: str) -> str:
    """Why AIMS must not post to `url` ('' when it may): https to a public host by the outbound rules, plain http only
    to an origin in AIMS_OUTBOUND_LOOPBACK_ORIGINS (the simulator). The name is resolved now to catch the obvious and
    again, pinned, at every send."""
    policy = OutboundPolicy.for_channels()
    return url_problem(url, policy) or host_problem(url, policy)


def message_id_new() -> str:
    """A Standard Webhooks message id: "msg_" and 26 url-safe characters (never a ".", which the signature uses)."""
    return MSG_ID_PREFIX + secrets.token_urlsafe(20)[:26]


class Endpoint(TimeStampedModel):
    """A subscriber's receiver: where AIMS posts incident events, which ones, and the secret it signs them with."""

    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(
        max_length=2000, help_text="https to a public host (plain http only to the local simulator)."
    )
    description = models.TextField(blank=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types sent (e.g. incident.opened); empty: every type."
    )
    severities = models.JSONField(default=list, blank=True, help_text="Incident severities sent; empty: every one.")
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        problem = endpoint_url_problem(self.url)
        if problem:
            errors["url"] = f"This URL is refused: {problem}."
        if not isinstance(self.event_types, list) or not all(item in EVENT_TYPES for item in self.event_types):
            errors["event_types"] = f"A list of event types, each one of: {', '.join(EVENT_TYPES)}."
        if not isinstance(self.severities, list) or not all(item in Severity.values for item in self.severities):
            errors["severities"] = f"A list of severities, each one of: {', '.join(Severity.values)}."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        # Whatever writes the row (admin, shell, a service), an endpoint never points where AIMS may not post.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "url" in update_fields:
            problem = endpoint_url_problem(self.url)
            if problem:
                raise ValidationError({"url": f"This URL is refused: {problem}."})
        super().save(*args, **kwargs)

    def secret_set(self, secret: str) -> None:
        """Store a new signing secret encrypted; the caller saves."""
        self.secret_encrypted = encrypt_secret(secret)

    @property
    def secret(self) -> str:
        return decrypt_secret(self.secret_encrypted)

    @property
    def previous_secret(self) -> str:
        return decrypt_secret(self.previous_secret_encrypted) if self.previous_secret_encrypted else ""

    def wants(self, *, event_type: str, severity: str) -> bool:
        """Whether this endpoint's filters let an event of this type, on an incident of this severity, through."""
        return (not self.event_types or event_type in self.event_types) and (
            not self.severities or severity in self.severities
        )


class Message(TimeStampedModel):
    """One event owed to one endpoint (the outbox row): the exact body, sent unchanged on every attempt and replay
    under the same `msg_id` (the webhook-id receivers de-duplicate on)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead (retries exhausted)"

    msg_id = models.CharField(max_length=40, unique=True, default=message_id_new, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="messages")
    incident_id = models.BigIntegerField(null=True, blank=True, help_text="Messages of one incident go in order.")
    event_id = models.BigIntegerField(null=True, blank=True, help_text="The timeline entry it announces.")
    type = models.CharField(max_length=40)
    body = models.TextField(help_text="The JSON sent, byte for byte.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts since it was queued or last replayed.")
    replay_requested = models.BooleanField(default=False, help_text="The next attempt is a replay asked for.")
    replay_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed (redacted).")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A receiver running twice for one timeline entry (a retried transaction) inserts it once.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_message_once_per_event"),
        ]
        indexes = [
            # What is due: pending ones by time.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_message_due_idx"),
            # Whether an older message of the same incident is still owed to the endpoint.
            models.Index(
                fields=["endpoint", "incident_id", "event_id"],
                condition=Q(status="pending"),
                name="webhook_message_order_idx",
            ),
            models.Index(fields=["incident_id"], name="webhook_message_incident_idx"),
            models.Index(fields=["status", "delivered_at"], name="webhook_message_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.msg_id}"


class Attempt(models.Model):
    """One try at delivering a message: when, how long, what the receiver answered (an excerpt, redacted)."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        REPLAY = "replay", "Replay"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 1 KB of the answer, redacted.")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asked for the replay.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"
