"""The outbox: one message per subscribed endpoint for each timeline entry, written in the entry's transaction."""

import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from aimsweb.memo import memoized
from incidents.models import Incident, IncidentEvent
from webhooks.models import Endpoint, Message
from webhooks.types import TYPE_OF_KIND

MAX_BODY_BYTES = 20_000
MAX_TEXT_CHARS = 2_000
MAX_PARAM_CHARS = 500


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clipped_values(value: Any) -> Any:
    if isinstance(value, str):
        return _clip(value, MAX_PARAM_CHARS)
    if isinstance(value, list):
        return [_clipped_values(item) for item in value[:20]]
    if isinstance(value, dict):
        return {key: _clipped_values(item) for key, item in list(value.items())[:20]}
    return value


def body_text(payload: dict) -> str:
    """The JSON sent for a payload: compact, keys in the order written, non-ASCII kept."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def event_payload(*, event: IncidentEvent, incident: Incident, event_type: str) -> dict:
    """The Standard Webhooks payload for a timeline entry: {type, timestamp, data: {incident, event}}, under 20 KB
    (long text clipped, then parameters clipped, then left out)."""
    event_data: dict[str, Any] = {
        "id": event.pk,
        "kind": event.kind,
        "text": _clip(event.text, MAX_TEXT_CHARS),
        "actor": {"type": event.actor_type, "label": event.actor},
        "at": event.created_at.isoformat(),
        "params": event.params,
    }
    payload = {
        "type": event_type,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "incident": {
                "id": incident.pk,
                "title": incident.title,
                "status": incident.status,
                "severity": incident.severity,
                "category": incident.category,
                "source": incident.source,
                "pipeline": incident.pipeline.name if incident.pipeline else None,
                "connection": incident.connection.name if incident.connection else None,
                "occurrences": incident.occurrence_count,
                "generation": incident.generation,
                "opened_at": incident.opened_at.isoformat(),
                "url": settings.AIMS_BASE_URL + incident.get_absolute_url(),
            },
            "event": event_data,
        },
    }
    if len(body_text(payload).encode()) > MAX_BODY_BYTES:
        event_data["params"] = _clipped_values(event.params)
    if len(body_text(payload).encode()) > MAX_BODY_BYTES:
        # Numbers, flags and ids stay; every text and list goes.
        scalars = {key: value for key, value in event.params.items() if isinstance(value, int | float | bool)}
        event_data["params"] = {**scalars, "clipped": True}
    return payload


@memoized
def _endpoints_enabled() -> tuple[Endpoint, ...]:
    """The enabled endpoints and their filters: read once per batch (a triage batch writes many timeline entries)."""
    return tuple(Endpoint.objects.filter(enabled=True).only("pk", "event_types", "severities"))


def messages_enqueue(*, event: IncidentEvent, incident: Incident) -> int:
    """Insert one pending message per enabled endpoint whose filters let this entry through (the endpoints read
    once per batch; no write when nobody subscribes), in the caller's transaction, and have them delivered after
    commit. Returns how many were written."""
    event_type = TYPE_OF_KIND.get(event.kind)
    if event_type is None:
        return 0
    endpoints = [
        endpoint
        for endpoint in _endpoints_enabled()
        if endpoint.wants(event_type=event_type, severity=incident.severity)
    ]
    if not endpoints:
        return 0
    body = body_text(event_payload(event=event, incident=incident, event_type=event_type))
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                endpoint_id=endpoint.pk,
                incident_id=incident.pk,
                event_id=event.pk,
                type=event_type,
                body=body,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,  # the same entry announced twice is owed once
    )
    delivery_soon()
    return len(endpoints)


def _deliver_now() -> None:
    from webhooks import tasks  # the tasks call the services that call this: imported when used

    async_task(tasks.messages_deliver_task, group="webhooks")


def delivery_soon() -> None:
    """Queue one delivery run after the current transaction commits (once, however many entries it wrote)."""
    pending = transaction.get_connection().run_on_commit
    if not any(callback is _deliver_now for _, callback, *_ in pending):
        transaction.on_commit(_deliver_now)
