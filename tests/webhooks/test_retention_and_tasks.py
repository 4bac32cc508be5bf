"""Old delivered messages are pruned with their attempts; the tasks are ones the scheduler may run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.schedules import scheduled_tasks, task_is_aims
from incidents.models import IncidentEvent
from incidents.services.events import incident_event_add
from webhooks.models import Attempt, Message
from webhooks.services.delivery import messages_deliver
from webhooks.services.retention import messages_prune
from webhooks.tasks import messages_deliver_task

pytestmark = pytest.mark.django_db


def test_messages_prune_deletes_old_delivered_with_attempts_only(make_endpoint, hook_receiver, incident, settings):
    settings.AIMS_OUTBOUND_WEBHOOK_RETENTION_DAYS = 30
    make_endpoint()
    for note in ("old", "recent", "dead", "pending"):
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, note=note)
    messages_deliver()
    old, recent, dead, pending = Message.objects.order_by("event_id")
    Message.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=31))
    Message.objects.filter(pk=dead.pk).update(status=Message.Status.DEAD, delivered_at=None)
    Message.objects.filter(pk=pending.pk).update(status=Message.Status.PENDING, delivered_at=None)

    assert messages_prune(batch=1) == 1

    assert set(Message.objects.values_list("pk", flat=True)) == {recent.pk, dead.pk, pending.pk}
    assert not Attempt.objects.filter(message_id=old.pk).exists()
    assert Attempt.objects.filter(message_id=recent.pk).exists()


def test_webhook_tasks_allowed_for_the_scheduler():
    assert task_is_aims("webhooks.tasks.messages_deliver_task")
    assert task_is_aims("webhooks.tasks.messages_prune_task")
    assert "webhooks.tasks.messages_deliver_task" in scheduled_tasks()


def test_messages_deliver_task_counts_delivered(make_endpoint, hook_receiver, incident):
    make_endpoint()
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)

    assert messages_deliver_task() == 1
    assert len(hook_receiver.requests) == 1


def test_event_committed_kicks_delivery(make_endpoint, hook_receiver, incident, django_capture_on_commit_callbacks):
    make_endpoint()

    with django_capture_on_commit_callbacks(execute=True):
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)

    assert Message.objects.get().status == Message.Status.DELIVERED  # the queued run (sync in tests) delivered it
    assert len(hook_receiver.requests) == 1
