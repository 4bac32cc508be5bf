"""Storms: the same failure on many pipelines of a connection is one incident with a part per pipeline (recovered
by each pipeline's own success), paged once per channel; split and merge move parts by hand."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.utils import timezone

from incidents.models import (
    FailureAnalysis,
    Incident,
    IncidentPipeline,
    Notification,
    NotificationChannel,
    NotificationRoute,
    Occurrence,
)
from incidents.services import (
    Actor,
    attempt_outcome_take,
    failure_triage,
    incident_merge,
    incident_split,
    runs_succeeded,
)
from incidents.services.events import SYSTEM
from incidents.services.retries import recovery_awaited
from monitors.models import PipelineRun
from remediation.models import RetryAttempt
from tests.monitors.factories import make_connection, make_pipeline, make_retry_attempt, make_run

SHIR_OFFLINE = (
    "Operation on target Copy_{n} failed: ErrorCode=UserErrorSelfHostedIntegrationRuntimeOffline, "
    "'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=The self-hosted integration "
    "runtime 'shir-prod-01' is offline.'"
)
OTHER = "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders` cannot be found."


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AIMS_STORM_WINDOW_MINUTES = 30


def _paged_by_mail() -> NotificationChannel:
    channel = NotificationChannel.objects.create(name="oncall", kind="email", recipients="oncall@example.org")
    route = NotificationRoute.objects.create(name="all")
    route.channels.add(channel)
    return channel


def _fail(pipeline, n: int = 1, message: str = SHIR_OFFLINE, **fields) -> Incident:
    incident = failure_triage(run_id=make_run(pipeline=pipeline, error_message=message.format(n=n), **fields).pk)
    assert incident is not None
    return incident


def _succeed(pipeline) -> int:
    ok = make_run(pipeline=pipeline, status=PipelineRun.Status.SUCCEEDED, started_at=timezone.now(), error_message="")
    return runs_succeeded(connection_id=pipeline.connection_id, external_run_ids=[ok.external_run_id])


def _kinds(incident: Incident) -> list[str]:
    return list(incident.events.values_list("kind", flat=True))


@pytest.mark.django_db
def test_storm_same_failure_on_three_pipelines_counts_in_one_incident_paged_once(django_capture_on_commit_callbacks):
    _paged_by_mail()
    connection = make_connection()
    pipelines = [make_pipeline(connection) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        incidents = {_fail(pipeline, n).pk for n, pipeline in enumerate(pipelines)}

    incident = Incident.objects.get()
    assert incidents == {incident.pk} and incident.occurrence_count == 3
    parts = IncidentPipeline.objects.filter(incident=incident)
    assert sorted(parts.values_list("pipeline_id", flat=True)) == sorted(p.pk for p in pipelines)
    assert _kinds(incident).count("pipeline_joined") == 2
    joined = incident.events.filter(kind="pipeline_joined").last()
    assert f"{pipelines[2].name} failed the same way" in joined.text and "3 pipelines affected" in joined.text
    assert list(Notification.objects.values_list("event", flat=True)) == ["opened"] and len(mail.outbox) == 1
    assert f"{pipelines[0].name} and 2 more (3 pipelines affected)" in mail.outbox[0].body


@pytest.mark.django_db
def test_storm_other_connection_or_other_error_is_another_incident():
    connection = make_connection()
    first = _fail(make_pipeline(connection))
    assert _fail(make_pipeline()).pk != first.pk  # another connection
    assert _fail(make_pipeline(connection), message=OTHER).pk != first.pk
    assert Incident.objects.count() == 3


@pytest.mark.django_db
def test_storm_grouping_off_opens_one_incident_per_pipeline(settings):
    settings.AIMS_STORM_WINDOW_MINUTES = 0
    connection = make_connection()
    assert _fail(make_pipeline(connection)).pk != _fail(make_pipeline(connection)).pk


@pytest.mark.django_db
def test_storm_pipeline_failing_after_the_window_opens_its_own_incident_a_part_keeps_joining():
    connection = make_connection()
    early, late = make_pipeline(connection), make_pipeline(connection)
    storm = _fail(early)
    Incident.objects.filter(pk=storm.pk).update(last_seen_at=timezone.now() - timedelta(minutes=31))

    assert _fail(late).pk != storm.pk  # quiet longer than the window: a new problem of its own
    assert _fail(early, 2).pk == storm.pk  # already part of the storm: still counted there
    assert _fail(late, 3).pk != storm.pk  # and the late one stays in its own


@pytest.mark.django_db
def test_storm_each_success_recovers_its_part_the_last_resolves(django_capture_on_commit_callbacks):
    connection = make_connection()
    first, second = make_pipeline(connection), make_pipeline(connection)
    with django_capture_on_commit_callbacks(execute=True):
        incident = _fail(first)
        _fail(second)

        assert _succeed(first) == 0
        incident.refresh_from_db()
        assert incident.status == Incident.Status.TRIGGERED
        recovered = incident.events.get(kind="part_recovered")
        assert (
            recovered.text.startswith(f"{first.name} recovered") and "1 of 2 pipelines still failing" in recovered.text
        )
        part = IncidentPipeline.objects.get(incident=incident, pipeline=first)
        assert part.recovered_at is not None

        assert _succeed(second) == 1
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert "auto_resolved" in _kinds(incident)


@pytest.mark.django_db
def test_storm_success_of_a_joined_pipeline_is_awaited():
    connection = make_connection()
    first, second, bystander = (make_pipeline(connection) for _ in range(3))
    _fail(first)
    _fail(second)

    assert recovery_awaited(connection_id=connection.pk, pipeline_ids=[second.pk])
    assert not recovery_awaited(connection_id=connection.pk, pipeline_ids=[bystander.pk])
    _succeed(second)
    assert not recovery_awaited(connection_id=connection.pk, pipeline_ids=[second.pk])


@pytest.mark.django_db
def test_storm_retry_success_recovers_its_part_only_until_the_last():
    connection = make_connection()
    first, second = make_pipeline(connection), make_pipeline(connection)
    incident = _fail(first)
    _fail(second)
    attempts = [
        make_retry_attempt(
            FailureAnalysis.objects.get(incident=incident, run__pipeline=pipeline).run,
            status=RetryAttempt.Status.SUCCEEDED,
            finished_at=timezone.now(),
        )
        for pipeline in (first, second)
    ]

    attempt_outcome_take(attempt_id=attempts[0].pk)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
    assert IncidentPipeline.objects.get(incident=incident, pipeline=first).recovered_at is not None

    attempt_outcome_take(attempt_id=attempts[1].pk)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_storm_recovered_part_failing_again_fails_again():
    connection = make_connection()
    first, second = make_pipeline(connection), make_pipeline(connection)
    incident = _fail(first)
    _fail(second)
    _succeed(first)

    assert _fail(first, 2, started_at=timezone.now()).pk == incident.pk
    assert IncidentPipeline.objects.get(incident=incident, pipeline=first).recovered_at is None
    assert _succeed(second) == 0  # the first is failing again: the incident stays open


@pytest.mark.django_db
def test_incident_split_moves_one_pipelines_part_out(django_capture_on_commit_callbacks):
    _paged_by_mail()
    connection = make_connection()
    first, second, third = (make_pipeline(connection) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        incident = _fail(first)
        _fail(second)
        _fail(third)
        _fail(second, 2)
        new = incident_split(incident_id=incident.pk, pipeline_id=second.pk, actor=SYSTEM, note="own disk full")

    incident.refresh_from_db()
    assert (incident.occurrence_count, new.occurrence_count) == (2, 2)
    assert set(Occurrence.objects.filter(incident=new).values_list("pipeline_id", flat=True)) == {second.pk}
    assert set(FailureAnalysis.objects.filter(incident=new).values_list("run__pipeline_id", flat=True)) == {second.pk}
    assert IncidentPipeline.objects.get(pipeline=second).incident_id == new.pk
    assert incident.events.get(kind="split").text == f"Split {second.name} out into incident #{new.pk}: own disk full"
    assert new.events.get(kind="split").text.startswith(f"Split out of incident #{incident.pk}")
    assert new.pipeline_id == second.pk and new.status == Incident.Status.TRIGGERED
    assert sorted(Notification.objects.values_list("incident_id", flat=True)) == sorted([incident.pk, new.pk])
    # Its next failure counts in its own incident, not the storm's.
    assert _fail(second, 3).pk == new.pk


@pytest.mark.django_db
def test_incident_split_refuses_a_single_pipeline_a_foreign_one_and_a_resolved_incident():
    connection = make_connection()
    first, second = make_pipeline(connection), make_pipeline(connection)
    incident = _fail(first)
    with pytest.raises(ValidationError) as single:
        incident_split(incident_id=incident.pk, pipeline_id=first.pk, actor=SYSTEM)
    assert single.value.code == "split_single_pipeline"
    _fail(second)
    with pytest.raises(ValidationError) as foreign:
        incident_split(incident_id=incident.pk, pipeline_id=make_pipeline().pk, actor=SYSTEM)
    assert "pipeline" in foreign.value.message_dict
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.RESOLVED, resolved_at=timezone.now())
    with pytest.raises(ValidationError) as resolved:
        incident_split(incident_id=incident.pk, pipeline_id=second.pk, actor=SYSTEM)
    assert resolved.value.code == "already_resolved"
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_incident_merge_moves_parts_and_joins_a_shared_pipeline():
    connection = make_connection()
    first, second = make_pipeline(connection), make_pipeline(connection)
    target = _fail(first)
    source = _fail(second, message=OTHER)
    _fail(first, message=OTHER)  # the first pipeline is in both

    incident_merge(incident_id=target.pk, actor=Actor(type="system", label="test"), source_ids=[source.pk])

    parts = {part.pipeline_id: part for part in IncidentPipeline.objects.filter(incident=target)}
    assert set(parts) == {first.pk, second.pk} and parts[first.pk].occurrence_count == 2
    assert not IncidentPipeline.objects.filter(incident=source).exists()
    assert _succeed(first) == 0 and _succeed(second) == 1


def _triage_in_thread(run_id: int) -> int:
    try:
        incident = failure_triage(run_id=run_id)
        assert incident is not None
        return incident.pk
    finally:
        db_connection.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_storm_40_pipelines_failing_concurrently_make_one_incident_and_one_page():
    _paged_by_mail()
    connection = make_connection()
    runs = [make_run(pipeline=make_pipeline(connection), error_message=SHIR_OFFLINE.format(n=n)) for n in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        incident_ids = set(pool.map(_triage_in_thread, [run.pk for run in runs]))

    incident = Incident.objects.get()
    assert incident_ids == {incident.pk} and incident.occurrence_count == 40
    assert IncidentPipeline.objects.filter(incident=incident).count() == 40
    assert incident.events.filter(kind="opened").count() == 1
    assert incident.events.filter(kind="pipeline_joined").count() == 39
    assert list(Notification.objects.values_list("event", flat=True)) == ["opened"]
    assert len(mail.outbox) == 1
