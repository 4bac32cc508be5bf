"""The outbox: a message per subscribed endpoint, written in the timeline entry's own transaction."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aimsweb.choices import Severity
from incidents.models import IncidentEvent
from incidents.services.events import SYSTEM, Actor, incident_event_add
from webhooks.models import Endpoint, Message
from webhooks.services.outbox import MAX_BODY_BYTES

pytestmark = pytest.mark.django_db


def test_outbox_event_recorded_writes_one_message_per_enabled_endpoint(make_endpoint, incident):
    first, _ = make_endpoint("first")
    second, _ = make_endpoint("second")
    make_endpoint("off")[0].__class__.objects.filter(name="off").update(enabled=False)

    event = incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)

    messages = Message.objects.filter(event_id=event.pk)
    assert {message.endpoint_id for message in messages} == {first.pk, second.pk}
    assert {message.type for message in messages} == {"incident.acknowledged"}
    assert all(message.incident_id == incident.pk and message.status == "pending" for message in messages)
    assert len({message.msg_id for message in messages}) == 2


def test_outbox_event_rolled_back_leaves_no_message(make_endpoint, incident):
    make_endpoint()

    with pytest.raises(RuntimeError), transaction.atomic():
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.RESOLVED, note="fixed")
        assert Message.objects.count() == 1  # written inside the transaction
        raise RuntimeError("the change fails after the entry was written")

    assert Message.objects.count() == 0
    assert not IncidentEvent.objects.filter(kind=IncidentEvent.Kind.RESOLVED).exists()


def test_outbox_filters_by_type_and_severity(make_endpoint, incident):
    resolved_only, _ = make_endpoint("resolved-only", event_types=["incident.resolved"])
    critical_only, _ = make_endpoint("critical-only", severities=[Severity.CRITICAL])
    everything, _ = make_endpoint("everything")

    incident_event_add(incident=incident, kind=IncidentEvent.Kind.AUTO_RESOLVED, params={"subject_label": "run 9"})
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, note="looking")

    sent = sorted(Message.objects.values_list("endpoint__name", "type"))
    assert sent == [
        ("everything", "incident.commented"),
        ("everything", "incident.resolved"),
        ("resolved-only", "incident.resolved"),
    ]
    assert not Message.objects.filter(endpoint=critical_only).exists()
    assert resolved_only.pk and everything.pk


@pytest.mark.parametrize("kind", ["notified", "notify_failed", "suppressed", "retry_scheduled", "retry_skipped"])
def test_outbox_bookkeeping_kind_sends_nothing(make_endpoint, incident, kind):
    make_endpoint()

    incident_event_add(incident=incident, kind=kind, params={"channel": "x", "event": "opened"})

    assert Message.objects.count() == 0


def test_outbox_payload_shape_and_exact_body(make_endpoint, incident, settings):
    make_endpoint()
    actor = Actor(type=IncidentEvent.ActorType.API_KEY, label="ci-bot")

    event = incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, actor=actor, note="on it")

    message = Message.objects.get()
    payload = json.loads(message.body)
    assert message.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    assert payload["type"] == "incident.commented"
    assert payload["timestamp"] == event.created_at.isoformat()
    data = payload["data"]
    assert data["incident"]["id"] == incident.pk and data["incident"]["title"] == incident.title
    assert data["incident"]["severity"] == incident.severity and data["incident"]["generation"] == 1
    assert data["incident"]["pipeline"] == incident.pipeline.name
    assert data["incident"]["url"] == f"{settings.AIMS_BASE_URL}/incidents/{incident.pk}/"
    assert data["event"] == {
        "id": event.pk,
        "kind": "commented",
        "text": "on it",
        "actor": {"type": "api_key", "label": "ci-bot"},
        "at": event.created_at.isoformat(),
        "params": {},
    }


def test_outbox_huge_event_clipped_under_20_kb(make_endpoint, incident):
    make_endpoint()

    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.RETRY_FAILED,
        params={"attempt_number": 1, "error": "x" * 100_000, "more": ["y" * 5_000] * 40},
        note="z" * 50_000,
    )

    message = Message.objects.get()
    assert len(message.body.encode()) < MAX_BODY_BYTES
    event = json.loads(message.body)["data"]["event"]
    assert len(event["text"]) <= 2_000 and event["params"]["attempt_number"] == 1


def test_outbox_no_subscriber_costs_one_query(db, incident):
    Endpoint.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED, actor=SYSTEM)

    webhook_queries = [query["sql"] for query in queries.captured_queries if "webhooks_" in query["sql"]]
    assert len(webhook_queries) == 1


def test_outbox_batch_reads_endpoints_once(make_endpoint, incident):
    from aimsweb.memo import memo_scope

    make_endpoint()

    with memo_scope(), CaptureQueriesContext(connection) as queries:
        for kind in (IncidentEvent.Kind.OCCURRED, IncidentEvent.Kind.ACKNOWLEDGED, IncidentEvent.Kind.COMMENTED):
            incident_event_add(incident=incident, kind=kind, actor=SYSTEM)

    endpoint_reads = [q["sql"] for q in queries.captured_queries if 'FROM "webhooks_endpoint"' in q["sql"]]
    assert len(endpoint_reads) == 1
    assert Message.objects.count() == 3


def test_outbox_same_event_announced_twice_inserts_once(make_endpoint, incident):
    from webhooks.services.outbox import messages_enqueue

    make_endpoint()
    event = incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)

    messages_enqueue(event=event, incident=incident)

    assert Message.objects.filter(event_id=event.pk).count() == 1


def test_outbox_queues_one_delivery_run_per_transaction(make_endpoint, incident, django_capture_on_commit_callbacks):
    make_endpoint()

    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(5):
            incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, note="again")

    assert Message.objects.count() == 5
    assert len([callback for callback in callbacks if callback.__module__ == "webhooks.services.outbox"]) == 1
