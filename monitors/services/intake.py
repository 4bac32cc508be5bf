"""Webhook intake: store an authenticated delivery as received, with its verdict; replay marks."""

import contextlib
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from monitors.models import (
    WebhookDelivery,
)
from monitors.services.drains import _marks, webhook_drain_queue
from monitors.webhooks import (
    KEPT_HEADERS,
    SIGNATURE_TOLERANCE_SECONDS,
    PayloadError,
    payload_parse,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookOutcome:
    delivery: WebhookDelivery
    problem: str  # empty when accepted


def webhook_delivery_receive(
    *, connection_id: int, source: str, body: bytes, headers: Mapping[str, str]
) -> WebhookOutcome:
    """Store an authenticated delivery as received, with its verdict, and queue a drain of the accepted deliveries
    once stored when the payload has a known shape. A rejected delivery is stored too, with the reason. One INSERT,
    in autocommit: the task is queued only after the row is committed. NUL characters, which PostgreSQL text cannot
    hold, are stored as U+FFFD (a body with a raw one is not JSON anyway, so it is rejected)."""
    try:
        payload_parse(source, body)
        problem = ""
    except PayloadError as exc:
        problem = str(exc)
    delivery = WebhookDelivery.objects.create(
        connection_id=connection_id,
        source=source,
        status=WebhookDelivery.Status.REJECTED if problem else WebhookDelivery.Status.ACCEPTED,
        body=_storable(body.decode("utf-8", errors="replace")),
        headers={name: _storable(headers[name]) for name in KEPT_HEADERS if name in headers},
        error=_storable(problem),
    )
    if not problem:
        transaction.on_commit(webhook_drain_queue)
    return WebhookOutcome(delivery=delivery, problem=problem)


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    """Text any database column can hold: NUL and lone surrogates (which no UTF-8 encoding takes) become U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


def webhook_signature_first_seen(*, connection_id: int, signature: str) -> bool:
    """Mark a signed delivery's signature as seen for as long as its timestamp is accepted (either side of AIMS's
    clock); False when it was already: the same request again, replayed or resent. With the cache down, True (a
    replay within the window is then stored twice; the platform lookup makes that harmless)."""
    try:
        return _marks().add(_signature_mark(connection_id, signature), 1, timeout=2 * SIGNATURE_TOLERANCE_SECONDS)
    except Exception:  # any cache failure
        logger.warning("cache unavailable: a signed webhook is not checked for replay", exc_info=True)
        return True


def webhook_signature_forget(*, connection_id: int, signature: str) -> None:
    """Unmark a signature whose delivery could not be stored, so that sending it again is not a duplicate."""
    with contextlib.suppress(Exception):
        _marks().delete(_signature_mark(connection_id, signature))


def _signature_mark(connection_id: int, signature: str) -> str:
    return f"{SIGNATURE_MARK}:{connection_id}:{hashlib.sha256(signature.encode()).hexdigest()}"


SIGNATURE_MARK = "aims:webhook-signature"
