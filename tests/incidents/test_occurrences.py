"""The occurrence intake: a source that is not a pipeline run opens, de-duplicates, notifies, shows live and resolves
through the same path as failed runs; unusable reports are refused naming the field."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Notification, NotificationChannel, NotificationRoute, Occurrence
from incidents.realtime import INCIDENT_LIST_GROUP
from incidents.services import (
    OccurrenceReport,
    failure_triage,
    occurrence_intake,
    occurrence_source_register,
    occurrences_recovered,
)
from tests.monitors.factories import make_pipeline, make_run

SECRET = "s" * 32


@pytest.fixture
def probe_source():
    """A second source of occurrences, registered as an app would register its own (say, a freshness probe)."""
    return occurrence_source_register(name="freshness_probe", label="Freshness probe")


def _report(n: int, *, table: str = "sales.orders", **changes) -> OccurrenceReport:
    fields = {
        "source": "freshness_probe",
        "group_key": f"freshness:{table}",
        "dedup_key": f"freshness:{table}:{n}",
        "title": f"{table} is stale",
        "severity": "high",
        "category": "data_quality",
        "subject": f"table:{table}",
        "subject_label": f"probe {n} of {table}",
        "detected_at": timezone.now() - timedelta(minutes=10 - n),
        "evidence": {"error": f"newest row is {3 + n} h old", "summary": "The load did not run.", "lag_hours": 3 + n},
    }
    return OccurrenceReport(**{**fields, **changes})


def _listen(group: str):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def drain() -> list[dict]:
        messages = []
        while True:
            try:
                async with asyncio.timeout(0.2):
                    messages.append(await layer.receive(channel))
            except TimeoutError:
                return messages

    return lambda: async_to_sync(drain)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_source_opens_dedups_notifies_shows_live_and_resolves_through_the_intake(
    probe_source, receiver, settings
):
    settings.AIMS_LLM_MODEL = ""
    channel = NotificationChannel(name="hook", kind="webhook")
    channel.set_url(f"{receiver.url}/aims-hook")
    channel.set_signing_secret(SECRET)
    channel.save()
    route = NotificationRoute.objects.create(name="everything")
    route.channels.add(channel)
    received = _listen(INCIDENT_LIST_GROUP)

    first = occurrence_intake(report=_report(1))
    again = occurrence_intake(report=_report(1))  # the same report twice counts once
    second = occurrence_intake(report=_report(2))

    incident = Incident.objects.get()
    assert first.incident.pk == again.incident.pk == second.incident.pk == incident.pk
    assert (first.change, again.change, second.change) == ("opened", None, "occurred")
    assert (incident.source, incident.occurrence_count, incident.category) == ("freshness_probe", 2, "data_quality")
    assert incident.title == "sales.orders is stale" and incident.latest_run is None
    assert incident.latest_occurrence.subject_label == "probe 2 of sales.orders"
    assert Occurrence.objects.filter(incident=incident).count() == 2
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds[:2] == [IncidentEvent.Kind.OPENED, IncidentEvent.Kind.NOTIFIED]
    assert IncidentEvent.Kind.OCCURRED in kinds
    # Paged once, with the source's own evidence in place of a run's error.
    payload = receiver.requests[0].json()
    assert payload["event"] == "opened" and payload["incident"]["id"] == incident.pk
    assert payload["error"] == "newest row is 4 h old"
    assert {message["ids"][0] for message in received() if message.get("event") == "incident.changed"} == {incident.pk}

    # A report of the problem gone resolves it on the same path as a later successful run, and tells who was paged.
    assert occurrences_recovered(
        group_key="freshness:sales.orders", recovered_at=timezone.now(), subject_label="probe 3 of sales.orders"
    )
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    resolved = incident.events.get(kind=IncidentEvent.Kind.AUTO_RESOLVED)
    assert resolved.text == "Resolved automatically: probe 3 of sales.orders succeeded."
    assert Notification.objects.filter(incident=incident, event="resolved").exists()
    assert [r.json()["event"] for r in receiver.requests] == ["opened", "resolved"]

    # Within the reopen window the same problem comes back as the same incident.
    reopened = occurrence_intake(report=_report(4))
    assert (reopened.incident.pk, reopened.change) == (incident.pk, "reopened")


@pytest.mark.django_db
def test_recovery_seen_before_the_latest_occurrence_leaves_the_incident_open(probe_source):
    intake = occurrence_intake(report=_report(1, detected_at=timezone.now()))

    assert not occurrences_recovered(
        group_key="freshness:sales.orders",
        recovered_at=timezone.now() - timedelta(minutes=5),
        subject_label="an older probe",
    )
    intake.incident.refresh_from_db()
    assert intake.incident.status == Incident.Status.TRIGGERED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source": "nobody_registered_this"}, "source"),
        ({"group_key": "  "}, "group_key"),
        ({"title": ""}, "title"),
        ({"category": "weird"}, "category"),
        ({"evidence": ["not", "an", "object"]}, "evidence"),
        ({"detected_at": timezone.now().replace(tzinfo=None)}, "detected_at"),
    ],
)
def test_unusable_report_is_refused_naming_the_field_and_nothing_is_saved(probe_source, changes, field):
    with pytest.raises(ValidationError) as refused:
        occurrence_intake(report=_report(1, **changes))

    assert field in refused.value.message_dict
    assert not Occurrence.objects.exists() and not Incident.objects.exists()


@pytest.mark.django_db
def test_failed_run_enters_as_an_occurrence_with_its_evidence(django_capture_on_commit_callbacks, settings):
    settings.AIMS_LLM_MODEL = ""
    pipeline = make_pipeline()
    with django_capture_on_commit_callbacks(execute=True):
        run = make_run(pipeline=pipeline, error_message="Operation timed out after 30 s", failed_step="copy_orders")
        incident = failure_triage(run_id=run.pk)

    occurrence = Occurrence.objects.get()
    assert (occurrence.source, occurrence.run_id, occurrence.incident_id) == ("pipeline_run", run.pk, incident.pk)
    assert occurrence.dedup_key == f"pipeline_run:{run.pk}" and occurrence.subject_label == f"run {run.external_run_id}"
    assert occurrence.evidence["failed_step"] == "copy_orders"
    assert occurrence.evidence["error"].startswith("Operation timed out")
    assert incident.latest_occurrence_id == occurrence.pk and incident.latest_run_id == run.pk
