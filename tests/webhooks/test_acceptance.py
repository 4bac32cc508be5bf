"""Issue 18's acceptance: a receiver down for 6 hours of simulated time while events keep coming, then up: every
event delivered once per webhook-id, in order per incident, each verifying with the unmodified standardwebhooks."""

import random
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from standardwebhooks import Webhook

from incidents.models import IncidentEvent
from incidents.services.events import incident_event_add
from tests.incidents.factories import make_incident
from webhooks.models import Message
from webhooks.services.delivery import messages_deliver

KINDS = [IncidentEvent.Kind.COMMENTED, IncidentEvent.Kind.OCCURRED, IncidentEvent.Kind.ACKNOWLEDGED]


def _received_in_order(hook_receiver, secret: str) -> dict[int, list[int]]:
    """Event ids per incident in the order the receiver accepted them, each request verified as received."""
    per_incident: dict[int, list[int]] = defaultdict(list)
    for received in hook_receiver.delivered.values():
        payload = Webhook(secret).verify(received.body, received.headers)
        per_incident[payload["data"]["incident"]["id"]].append(payload["data"]["event"]["id"])
    return per_incident


@pytest.mark.django_db
def test_acceptance_receiver_down_six_hours_then_up_gets_everything_in_order(make_endpoint, hook_receiver):
    rng = random.Random(18)
    _, secret = make_endpoint()
    incidents = [make_incident() for _ in range(5)]
    start = now = timezone.now()
    announced: dict[int, list[int]] = defaultdict(list)

    # Down for 6 simulated hours: first answering 503 with Retry-After, then not answering at all.
    while now < start + timedelta(hours=6):
        hook_receiver.status = 503 if now < start + timedelta(hours=3) else 0
        hook_receiver.extra_headers = {"Retry-After": "60"} if hook_receiver.status else {}
        incident = rng.choice(incidents)
        event = incident_event_add(incident=incident, kind=rng.choice(KINDS), note=f"at {now - start}")
        announced[incident.pk].append(event.pk)
        messages_deliver(now=now)
        now += timedelta(minutes=rng.randint(2, 9))

    assert hook_receiver.requests and not hook_receiver.delivered  # it was tried, and nothing got through
    assert Message.objects.filter(status=Message.Status.PENDING).count() == sum(map(len, announced.values()))

    # Up again: the delivery task keeps running on its schedule until nothing is owed.
    hook_receiver.status, hook_receiver.extra_headers = 200, {}
    for _ in range(200):
        messages_deliver(now=now)
        owed = Message.objects.filter(status=Message.Status.PENDING)
        if not owed.exists():
            break
        # On to the next retry due (messages waiting behind one are due already; the ones retried are later).
        later = owed.filter(next_attempt_at__gt=now).order_by("next_attempt_at").first()
        now = later.next_attempt_at if later else now + timedelta(minutes=1)

    assert now - start < timedelta(hours=72)
    assert not Message.objects.exclude(status=Message.Status.DELIVERED).exists()
    assert set(hook_receiver.delivered) == set(Message.objects.values_list("msg_id", flat=True))
    assert hook_receiver.duplicates == 0
    assert _received_in_order(hook_receiver, secret) == announced


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims are a PostgreSQL matter")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_delivery_concurrent_workers_deliver_each_once_in_order(make_endpoint, hook_receiver):
    _, secret = make_endpoint()
    incidents = [make_incident() for _ in range(4)]
    announced: dict[int, list[int]] = defaultdict(list)
    for index in range(40):
        incident = incidents[index % 4]
        announced[incident.pk].append(
            incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, note=str(index)).pk
        )
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(20):
                messages_deliver()
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors
    assert hook_receiver.duplicates == 0 and len(hook_receiver.requests) == 40
    assert _received_in_order(hook_receiver, secret) == announced
