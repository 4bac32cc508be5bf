"""The retry engine against the simulator: backoff, rerun modes, the per-connection cap, busy platforms, and
attempts that must not run any more."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.services import SYSTEM, incident_resolve
from monitors.models import Monitor, RerunMode
from monitors.services import monitor_poll
from remediation.models import RetryAttempt, RetryPolicy
from remediation.services import remediation_tick, retry_delay
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

ALWAYS_RECOVERS = {"transient": 1.0, "resource": 1.0, "other": 0.0}


@pytest.fixture
def sim():
    with run_simulator("quiet", rerun_success_rate=ALWAYS_RECOVERS, run_now_failure_rate=0.0) as sim:
        yield sim


def _policy(**fields) -> RetryPolicy:
    defaults = {"name": "transient", "error_classes": ["transient"], "max_attempts": 3, "backoff_initial_seconds": 60}
    return RetryPolicy.objects.create(**{**defaults, **fields})


def _fail_and_poll(capture, sim, connection, source: str, names: list[str], corpus_id: str) -> None:
    for name in names:
        sim.fail(source, name, corpus_id=corpus_id)
    with capture(execute=True):
        monitor_poll(monitor_id=Monitor.objects.get(connection=connection).pk)


def _tick(capture, minutes: float) -> dict:
    """A remediation tick this many minutes from now (the backoff of a first attempt is at most 30 min here)."""
    with capture(execute=True):
        return remediation_tick(now=timezone.now() + timedelta(minutes=minutes))


def test_retry_delay_grows_by_the_multiplier_up_to_the_maximum_with_bounded_jitter():
    policy = RetryPolicy(
        backoff_initial_seconds=60, backoff_multiplier=2.0, backoff_max_seconds=300, jitter=0.0, max_attempts=5
    )
    assert [retry_delay(policy=policy, attempt_number=n).total_seconds() for n in range(1, 6)] == [
        60,
        120,
        240,
        300,
        300,
    ]
    assert retry_delay(policy=policy, attempt_number=1, advised_minutes=3).total_seconds() == 180
    assert retry_delay(policy=policy, attempt_number=1, advised_minutes=60).total_seconds() == 300
    policy.jitter = 0.5
    delays = [retry_delay(policy=policy, attempt_number=1, rng=random.Random(n)).total_seconds() for n in range(50)]
    assert all(60 <= delay <= 90 for delay in delays) and len(set(delays)) > 1


@pytest.mark.django_db
def test_full_mode_adf_reruns_every_activity_in_the_same_group(sim, flow_settings, django_capture_on_commit_callbacks):
    _policy(rerun_mode=RerunMode.FULL)
    connection = connect_to(sim)["adf-sim"]
    pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "adf", [pipeline], "adf-0016")
    _tick(django_capture_on_commit_callbacks, minutes=35)

    (rerun,) = sim.reruns("adf")
    assert rerun["params"]["isRecovery"] is True and not rerun["params"]["startFromFailure"]
    assert rerun["start_activity"] == sim.scenario()["factories"][0]["pipelines"][0]["activities"][0]


@pytest.mark.django_db
def test_full_mode_databricks_starts_a_new_run_with_the_attempt_key_and_follows_it(
    sim, flow_settings, django_capture_on_commit_callbacks
):
    _policy(rerun_mode=RerunMode.FULL)
    connection = connect_to(sim)["sim-databricks-1"]
    job = sim.scenario()["workspaces"][0]["jobs"][0]["name"]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "databricks", [job], "dbx-0085")
    _tick(django_capture_on_commit_callbacks, minutes=35)
    sim.advance(3600)
    _tick(django_capture_on_commit_callbacks, minutes=36)

    (run_now,) = sim.reruns("databricks")
    attempt = RetryAttempt.objects.get()
    assert run_now["kind"] == "run-now" and run_now["params"]["idempotency_token"] == attempt.idempotency_key
    assert attempt.status == RetryAttempt.Status.SUCCEEDED
    assert attempt.external_rerun_id == str(run_now["new_run_id"])
    assert attempt.rerun.rerun_of_id == attempt.run_id
    assert Incident.objects.get().status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_concurrent_rerun_cap_per_connection_holds_the_rest_back(
    sim, flow_settings, django_capture_on_commit_callbacks
):
    _policy(max_concurrent_reruns=1)
    connection = connect_to(sim)["adf-sim"]
    pipelines = [p["name"] for p in sim.scenario()["factories"][0]["pipelines"][:3]]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "adf", pipelines, "adf-0016")
    assert RetryAttempt.objects.count() == 3

    _tick(django_capture_on_commit_callbacks, minutes=35)

    statuses = sorted(RetryAttempt.objects.values_list("status", flat=True))
    assert statuses == ["running", "scheduled", "scheduled"]
    assert len(sim.reruns("adf")) == 1
    waiting = RetryAttempt.objects.filter(status="scheduled")
    assert all(a.error_message.startswith("Waiting: 1 reruns already in flight") for a in waiting)

    for minutes in (36, 38, 40, 42, 44):  # each finishes before the next may start
        sim.advance(3600)
        _tick(django_capture_on_commit_callbacks, minutes=minutes)
    assert len(sim.reruns("adf")) == 3
    assert Incident.objects.filter(status="resolved").count() <= 3


@pytest.mark.django_db
def test_busy_platform_puts_the_attempt_back_on_the_schedule(sim, flow_settings, django_capture_on_commit_callbacks):
    _policy()
    connection = connect_to(sim)["adf-sim"]
    pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "adf", [pipeline], "adf-0016")
    sim.set_faults(rate=1.0, kinds=["429"], sources=["adf"], retry_after=120)

    _tick(django_capture_on_commit_callbacks, minutes=35)

    attempt = RetryAttempt.objects.get()
    assert attempt.status == RetryAttempt.Status.SCHEDULED
    assert "busy" in attempt.error_message and attempt.scheduled_for > timezone.now() + timedelta(seconds=100)
    assert sim.reruns("adf") == []


@pytest.mark.django_db
def test_attempt_is_cancelled_when_the_incident_is_resolved_first(
    sim, flow_settings, django_capture_on_commit_callbacks
):
    _policy()
    connection = connect_to(sim)["adf-sim"]
    pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "adf", [pipeline], "adf-0016")
    with django_capture_on_commit_callbacks(execute=True):
        incident_resolve(incident_id=Incident.objects.get().pk, actor=SYSTEM, note="fixed upstream")

    _tick(django_capture_on_commit_callbacks, minutes=35)

    attempt = RetryAttempt.objects.get()
    assert attempt.status == RetryAttempt.Status.CANCELLED and sim.reruns() == []
    assert any("resolved" in e.text for e in Incident.objects.get().events.filter(kind="retry_skipped"))


@pytest.mark.django_db
def test_attempt_is_cancelled_when_its_policy_was_disabled(sim, flow_settings, django_capture_on_commit_callbacks):
    policy = _policy()
    connection = connect_to(sim)["adf-sim"]
    pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
    _fail_and_poll(django_capture_on_commit_callbacks, sim, connection, "adf", [pipeline], "adf-0016")
    RetryPolicy.objects.filter(pk=policy.pk).update(enabled=False)

    _tick(django_capture_on_commit_callbacks, minutes=35)

    assert RetryAttempt.objects.get().status == RetryAttempt.Status.CANCELLED and sim.reruns() == []
