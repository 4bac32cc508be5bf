"""Endpoints: created with a new signing secret (shown once), rotated with a day's overlap, disabled and enabled."""

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from webhooks.models import SECRET_PREFIX, Endpoint, Message
from webhooks.services.outbox import body_text, delivery_soon
from webhooks.types import TEST_TYPE

SECRET_BYTES = 32
# After a rotation the previous secret signs too, so receivers can switch over without losing a delivery.
ROTATION_OVERLAP = timedelta(hours=24)


def endpoint_secret_new() -> str:
    """A Standard Webhooks signing secret: "whsec_" and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_create(
    *,
    name: str,
    url: str,
    description: str = "",
    event_types: Sequence[str] = (),
    severities: Sequence[str] = (),
    created_by: User | None = None,
) -> tuple[Endpoint, str]:
    """Validate and save a new endpoint with a new secret; returns it and the secret (to be shown once, only now)."""
    secret = endpoint_secret_new()
    endpoint = Endpoint(
        name=name,
        url=url,
        description=description,
        event_types=list(event_types),
        severities=list(severities),
        created_by=created_by,
    )
    endpoint.secret_set(secret)
    endpoint.full_clean()
    endpoint.save()
    return endpoint, secret


@transaction.atomic
def endpoint_secret_rotate(*, endpoint_id: int, now: datetime | None = None) -> str:
    """Give the endpoint a new secret, keeping the current one signing as well for 24 hours; returns the new one
    (to be shown once, only now)."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
    secret = endpoint_secret_new()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_set(secret)
    endpoint.save(update_fields=["previous_secret_encrypted", "previous_secret_expires_at", "secret_encrypted"])
    return secret


def signing_secrets(endpoint: Endpoint, *, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one during its overlap."""
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        keys.append(endpoint.previous_secret)
    return keys


def endpoint_disable(*, endpoint_id: int, reason: str, now: datetime | None = None) -> bool:
    """Stop deliveries to an endpoint (its messages wait); returns whether it was enabled until now."""
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, enabled=True).update(
            enabled=False, disabled_at=now or timezone.now(), disabled_reason=reason[:300]
        )
    )


def endpoint_enable(*, endpoint_id: int) -> bool:
    """Resume deliveries to an endpoint, its waiting messages first; returns whether it was disabled until now."""
    changed = Endpoint.objects.filter(pk=endpoint_id, enabled=False).update(
        enabled=True, disabled_at=None, disabled_reason=""
    )
    if changed:
        delivery_soon()
    return bool(changed)


def endpoint_test_send(*, endpoint_id: int, now: datetime | None = None) -> Message:
    """Queue a test message to the endpoint (type webhook.test, no incident), delivered like any other."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    payload = {
        "type": TEST_TYPE,
        "timestamp": now.isoformat(),
        "data": {"endpoint": endpoint.name, "text": "A test event from AIMS: this endpoint receives and verifies."},
    }
    message = Message.objects.create(endpoint=endpoint, type=TEST_TYPE, body=body_text(payload), next_attempt_at=now)
    delivery_soon()
    return message
