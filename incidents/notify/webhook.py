"""Signed JSON webhooks for any receiver (ticketing, chat-ops, scripts).

The body, version 1 (keys sorted, no spaces; new keys may be added within a version, none removed or retyped):

    {"version": 1, "delivery_id": str, "event": "opened|reopened|escalated|resolved|digest",
     "incident": {"id": int|null, "title", "status", "severity", "category", "pipeline", "connection",
                  "failed_step": str, "occurrences": int, "url": str},
     "analysis": {"summary": str, "root_cause": str, "recommended_actions": [str]},
     "error": str (at most 10,000 characters),
     "digest": [{"title", "event", "severity", "url"}]  (empty unless event is "digest"),
     "runbook": {"title": str, "url": str} | null  (the most specific runbook that applies)}

Headers: X-AIMS-Delivery (the delivery id, the same on every retry: receivers deduplicate on it), X-AIMS-Timestamp
(unix seconds) and X-AIMS-Signature: "sha256=" + hex HMAC-SHA256 over f"{timestamp}." + the raw body bytes, keyed
with the channel's signing secret. Receivers check it with `signature_verify`, which also refuses stale timestamps
so a captured request cannot be replayed later.

The same request also carries the Standard Webhooks headers (https://www.standardwebhooks.com/): `webhook-id` (the
delivery id), `webhook-timestamp` (the same unix seconds) and `webhook-signature` ("v1," + base64 HMAC-SHA256 over
f"{id}.{timestamp}." + the body), keyed with the UTF-8 bytes of the same signing secret. A receiver using the
`standardwebhooks` library verifies with `Webhook("whsec_" + base64(secret)).verify(body, headers)`, e.g.
`Webhook("whsec_" + base64.b64encode(secret.encode()).decode())`.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from incidents.notify.base import ChannelConfig, ChannelSpec, DeliveryResult, NotificationMessage, clip
from incidents.notify.http import post_json

BODY_VERSION = 1
MAX_ERROR_CHARS = 10_000
SIGNATURE_PREFIX = "sha256="
SIGNING_SECRET_MIN_CHARS = 16
CHANNEL = ChannelSpec(kind="webhook", url=True, signing_secret=True)


def webhook_body(message: NotificationMessage, *, delivery_id: str) -> dict:
    """The documented version-1 body (see the module docstring)."""
    return {
        "version": BODY_VERSION,
        "delivery_id": delivery_id,
        "event": message.event,
        "incident": {
            "id": message.incident_id,
            "title": message.title,
            "status": message.status,
            "severity": message.severity,
            "category": message.category,
            "pipeline": message.pipeline,
            "connection": message.connection,
            "failed_step": message.failed_step,
            "occurrences": message.occurrences,
            "url": message.url,
        },
        "analysis": {
            "summary": message.summary,
            "root_cause": message.root_cause,
            "recommended_actions": list(message.actions),
        },
        "error": clip(message.error, MAX_ERROR_CHARS),
        "digest": [
            {"title": item.title, "event": item.event, "severity": item.severity, "url": item.url}
            for item in message.digest_items
        ],
        "runbook": {"title": message.runbook_title, "url": message.runbook_url} if message.runbook_url else None,
    }


def aims_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-AIMS-Signature value for `body` sent at `timestamp` (unix seconds), keyed with `secret`'s UTF-8 bytes."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    header_value: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """Whether X-AIMS-Signature `header_value` signs `body` at `timestamp` with `secret`, within the tolerance."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    expected = aims_signature(secret, str(sent_at), body)
    return hmac.compare_digest(expected.encode(), header_value.encode())


class WebhookSender:
    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def send(self, channel: ChannelConfig, message: NotificationMessage, *, delivery_id: str) -> DeliveryResult:
        missing = CHANNEL.missing(channel)
        if missing:
            return DeliveryResult(ok=False, error=missing, retryable=False)
        # Serialised once: these exact bytes are both signed and sent.
        body = json.dumps(
            webhook_body(message, delivery_id=delivery_id), separators=(",", ":"), sort_keys=True
        ).encode()
        sent_at = int(time.time())
        timestamp = str(sent_at)
        standard = Webhook(channel.signing_secret.encode()).sign(
            delivery_id, datetime.fromtimestamp(sent_at, tz=UTC), body
        )
        headers = {
            "Content-Type": "application/json",
            "X-AIMS-Delivery": delivery_id,
            "X-AIMS-Timestamp": timestamp,
            "X-AIMS-Signature": aims_signature(channel.signing_secret, timestamp, body),
            "webhook-id": delivery_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": standard,
        }
        return post_json(channel.url, body, headers, timeout=self.timeout)
