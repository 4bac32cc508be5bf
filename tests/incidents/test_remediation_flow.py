"""Flow tests of remediation: the real ADF and Databricks SDKs against the simulator, the real database, the
offline analyzer; from a failure on the platform to a rerun there and the incident resolving itself."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.models import (
    Incident,
    IncidentEvent,
    Notification,
    NotificationChannel,
    NotificationRoute,
    SignatureStats,
)
from monitors.models import Monitor, PipelineRun
from monitors.services import monitor_poll
from remediation.models import RetryAttempt
from remediation.services import remediation_tick, retry_policy_defaults_ensure
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

ALWAYS_RECOVERS = {"transient": 1.0, "resource": 1.0, "other": 0.0}
NEVER_RECOVERS = {"transient": 0.0, "resource": 0.0, "other": 0.0}


@pytest.fixture
def sim():
    with run_simulator("quiet", rerun_success_rate=ALWAYS_RECOVERS) as sim:
        yield sim


def _poll(capture, connection) -> None:
    for monitor in Monitor.objects.filter(connection=connection):
        with capture(execute=True):
            monitor_poll(monitor_id=monitor.pk)


def _tick(capture, minutes: float) -> dict:
    with capture(execute=True):
        return remediation_tick(now=timezone.now() + timedelta(minutes=minutes))


def _pipeline(sim, source: str) -> str:
    scenario = sim.scenario()
    if source == "adf":
        return scenario["factories"][0]["pipelines"][0]["name"]
    return scenario["workspaces"][0]["jobs"][0]["name"]


def _kinds(incident: Incident) -> list[str]:
    return list(incident.events.order_by("created_at", "id").values_list("kind", flat=True))


@pytest.mark.django_db
def test_flow_transient_adf_failure_is_recovered_from_the_failed_activity_and_resolves_itself(
    sim, flow_settings, django_capture_on_commit_callbacks
):
    retry_policy_defaults_ensure()
    connections = connect_to(sim)
    connection = connections["adf-sim"]
    failed = sim.fail("adf", _pipeline(sim, "adf"), corpus_id="adf-0016")

    _poll(django_capture_on_commit_callbacks, connection)
    incident = Incident.objects.get()
    attempt = RetryAttempt.objects.get()
    assert incident.status == Incident.Status.TRIGGERED
    assert attempt.run.external_run_id == failed["run_id"] and attempt.status == RetryAttempt.Status.SCHEDULED
    assert sim.reruns("adf") == []  # not before its backoff time

    _tick(django_capture_on_commit_callbacks, minutes=20)
    reruns = sim.reruns("adf")
    assert len(reruns) == 1
    assert reruns[0]["params"]["referencePipelineRunId"] == failed["run_id"]
    assert reruns[0]["params"]["isRecovery"] is True and reruns[0]["params"]["startFromFailure"] is True
    assert reruns[0]["start_activity"] == failed["failed_step"]

    sim.advance(3600)
    _tick(django_capture_on_commit_callbacks, minutes=21)

    incident.refresh_from_db()
    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.SUCCEEDED
    assert attempt.rerun.external_run_id == reruns[0]["new_run_id"]
    assert attempt.rerun.rerun_of_id == attempt.run_id
    assert incident.status == Incident.Status.RESOLVED
    assert _kinds(incident) == ["opened", "retry_scheduled", "retry_started", "retry_succeeded", "auto_resolved"]
    resolved = incident.events.get(kind=IncidentEvent.Kind.AUTO_RESOLVED)
    assert resolved.text == "Recovered by retry 1 of 3." and resolved.actor_type == "retry_engine"
    assert len(sim.reruns("adf")) == 1
    stats = SignatureStats.objects.get(signature=attempt.run.analysis.signature)
    assert (stats.retries, stats.retry_successes) == (1, 1)  # what the analysis learns from


@pytest.mark.django_db
def test_flow_transient_databricks_failure_is_repaired_in_place_and_resolves_itself(
    sim, flow_settings, django_capture_on_commit_callbacks
):
    retry_policy_defaults_ensure()
    connection = connect_to(sim)["sim-databricks-1"]
    failed = sim.fail("databricks", _pipeline(sim, "databricks"), corpus_id="dbx-0085")

    _poll(django_capture_on_commit_callbacks, connection)
    _tick(django_capture_on_commit_callbacks, minutes=20)
    repairs = sim.reruns("databricks")
    assert [r["kind"] for r in repairs] == ["repair"]
    assert str(repairs[0]["run_id"]) == str(failed["run_id"])
    assert repairs[0]["params"].get("rerun_all_failed_tasks") is True
    assert repairs[0]["rerun_task_keys"][0] == failed["failed_step"]

    sim.advance(3600)
    _tick(django_capture_on_commit_callbacks, minutes=21)

    attempt = RetryAttempt.objects.get()
    incident = Incident.objects.get()
    assert attempt.status == RetryAttempt.Status.SUCCEEDED
    assert attempt.external_rerun_id == str(repairs[0]["repair_id"])
    assert incident.status == Incident.Status.RESOLVED
    assert _kinds(incident) == ["opened", "retry_scheduled", "retry_started", "retry_succeeded", "auto_resolved"]
    assert PipelineRun.objects.get(external_run_id=str(failed["run_id"])).status == PipelineRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_flow_retries_that_keep_failing_stop_at_the_policy_maximum_and_escalate(
    flow_settings, django_capture_on_commit_callbacks
):
    retry_policy_defaults_ensure()
    with run_simulator("quiet", rerun_success_rate=NEVER_RECOVERS) as sim:
        connection = connect_to(sim)["adf-sim"]
        sim.fail("adf", _pipeline(sim, "adf"), corpus_id="adf-0016")
        _poll(django_capture_on_commit_callbacks, connection)
        for round_number in range(1, 6):
            _tick(django_capture_on_commit_callbacks, minutes=40 * round_number)
            sim.advance(3600)
            _poll(django_capture_on_commit_callbacks, connection)
            _tick(django_capture_on_commit_callbacks, minutes=40 * round_number + 1)
        reruns = sim.reruns("adf")

    incident = Incident.objects.get()
    attempts = list(RetryAttempt.objects.order_by("attempt_number").values_list("attempt_number", "status"))
    assert len(reruns) == 3
    assert attempts == [(1, "failed"), (2, "failed"), (3, "failed")]
    stats = SignatureStats.objects.get(signature=RetryAttempt.objects.first().run.analysis.signature)
    assert (stats.retries, stats.retry_successes) == (3, 0)
    assert incident.status == Incident.Status.TRIGGERED
    kinds = _kinds(incident)
    assert kinds.count("retry_failed") == 3 and kinds[-1] in {"escalated", "occurred"}
    assert [e.text for e in incident.events.filter(kind="escalated")] == [
        "Escalated: all 3 retries failed; a person needs to look at it."
    ]


@pytest.mark.django_db
def test_flow_configuration_error_is_not_rerun_and_pages_once(
    sim, flow_settings, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retry_policy_defaults_ensure()
    channel = NotificationChannel.objects.create(name="oncall mail", kind="email", recipients="oncall@example.org")
    route = NotificationRoute.objects.create(name="everything")
    route.channels.add(channel)
    connection = connect_to(sim)["adf-sim"]
    pipeline = _pipeline(sim, "adf")

    sim.fail("adf", pipeline, corpus_id="adf-0032")
    _poll(django_capture_on_commit_callbacks, connection)
    sim.advance(120)
    sim.fail("adf", pipeline, corpus_id="adf-0032")
    _poll(django_capture_on_commit_callbacks, connection)
    _tick(django_capture_on_commit_callbacks, minutes=60)

    incident = Incident.objects.get()
    assert incident.occurrence_count == 2
    assert incident.category == "configuration"
    assert RetryAttempt.objects.count() == 0 and sim.reruns() == []
    assert incident.events.filter(kind="retry_skipped").count() == 2
    assert list(Notification.objects.values_list("event", "status", "last_error")) == [("opened", "sent", "")]
    assert len(mail.outbox) == 1 and incident.title[:80] in mail.outbox[0].subject
