"""API keys (who calls the API, within which scopes) and the answers kept for Idempotency-Key retries."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from aimsweb.models import TimeStampedModel


class ApiKey(TimeStampedModel):
    """A key a user (or an Admin for them) created: shown once, stored as a peppered digest of the whole key, found
    by its public prefix. Its scopes narrow its user's role; it never grants more than the role has."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. 'Jira automation'.")
    prefix = models.CharField(max_length=20, unique=True, help_text="The key's public start, e.g. aims_k3f9x2qa.")
    digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the whole key with the server's pepper.")
    scopes = models.JSONField(default=list, help_text="What it may do, within its user's role (see api.scopes).")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def actor_label(self) -> str:
        """How the timeline names changes made with this key."""
        return f"API key {self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one caller: the request it was first used with (as a fingerprint) and, once that
    request finished, the answer to give every retry for a day."""

    owner = models.CharField(max_length=40, help_text="key:<id> or user:<id>: keys are scoped by caller.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Blank while it runs.")
    body = models.BinaryField(default=b"", blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="The answer's Location, ETag and Content-Type.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_per_owner")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
