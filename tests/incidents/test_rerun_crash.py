"""At-least-once work, exactly-once reruns: a worker killed (SIGKILL, a real process) between claiming an attempt and
recording the platform's answer, then a restart, makes exactly one rerun reach the platform."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from monitors.models import Monitor
from monitors.services import monitor_poll
from remediation.models import RetryAttempt
from remediation.services import remediation_tick, retry_policy_defaults_ensure
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, time, django
django.setup()
from monitors.clients.adf import AdfClient
real = AdfClient.start_rerun
def stall_before(self, request):
    time.sleep(120)
    return real(self, request)
def stall_after(self, request):
    started = real(self, request)
    time.sleep(120)
    return started
AdfClient.start_rerun = {"before-the-call": stall_before, "after-the-call": stall_after}.get(sys.argv[2], real)
from remediation.services import retry_attempt_execute
retry_attempt_execute(attempt_id=int(sys.argv[1]))
"""


def _worker(attempt_id: int, how: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "AIMS_TEST_WORKER_DATABASE": str(connection.settings_dict["NAME"]),
    }
    return subprocess.Popen([sys.executable, "-c", WORKER, str(attempt_id), how], cwd=ROOT, env=env)


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("how", "adopted"),
    [("before-the-call", False), ("after-the-call", True), ("while-the-platform-answers", None)],
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_after_claiming_an_attempt_then_restarted_makes_exactly_one_rerun(how, adopted, flow_settings):
    retry_policy_defaults_ensure()
    with run_simulator("quiet", rerun_success_rate={"transient": 1.0, "other": 0.0}) as sim:
        adf = connect_to(sim)["adf-sim"]
        pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
        failed = sim.fail("adf", pipeline, corpus_id="adf-0016")
        monitor_poll(monitor_id=Monitor.objects.get(connection=adf).pk)
        attempt = RetryAttempt.objects.get()
        RetryAttempt.objects.filter(pk=attempt.pk).update(scheduled_for=timezone.now())
        if how == "while-the-platform-answers":
            sim.set_faults(rate=1.0, kinds=["slow"], slow_seconds=3, sources=["adf"])

        worker = _worker(attempt.pk, how)
        try:
            _wait_for(lambda: RetryAttempt.objects.get(pk=attempt.pk).status == RetryAttempt.Status.CLAIMED)
            if how == "while-the-platform-answers":
                _wait_for(lambda: sim.stats()["faults"].get("slow", 0) >= 1)  # the request is at the platform
            if how == "after-the-call":
                _wait_for(lambda: len(sim.reruns("adf")) == 1)  # the platform started it; the answer is not recorded
            time.sleep(0.3)
        finally:
            worker.kill()
            worker.wait(10)
        sim.set_faults(rate=0.0)
        time.sleep(3.5)  # whatever the platform was doing with the request has finished
        claimed = RetryAttempt.objects.get(pk=attempt.pk)

        remediation_tick(now=timezone.now() + timedelta(seconds=30))  # within the lease: hands off
        assert RetryAttempt.objects.get(pk=attempt.pk).status == RetryAttempt.Status.CLAIMED
        lease = timedelta(seconds=flow_settings.AIMS_RETRY_CLAIM_LEASE_SECONDS + 1)
        remediation_tick(now=timezone.now() + lease)  # the restarted worker reconciles
        remediation_tick(now=timezone.now() + lease)
        reruns = [r for r in sim.reruns("adf") if r["outcome"] == "accepted"]

    attempt.refresh_from_db()
    assert worker.returncode == -9 and claimed.status == RetryAttempt.Status.CLAIMED
    assert len(reruns) == 1, reruns
    assert reruns[0]["params"]["referencePipelineRunId"] == failed["run_id"]
    assert attempt.status in (RetryAttempt.Status.RUNNING, RetryAttempt.Status.SUCCEEDED)
    assert attempt.external_rerun_id == reruns[0]["new_run_id"]
    started = attempt.run.analysis.incident.events.filter(kind="retry_started").get()
    if adopted is not None:  # killed mid-request, either outcome is right as long as there is exactly one rerun
        assert ("adopted" in started.text) is adopted
