"""A pipeline that skips a scheduled run: AIMS reads its ADF trigger through the SDK, opens one "missed run"
incident once the start is past its tolerance (however often the check runs), and resolves it when the next run
starts. The simulator runs the schedule and skips the run; its clock is moved by hand."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from insights.models import ExpectedSchedule
from insights.services.missed import as_platform_schedule, missed_runs_check, platform_schedules_refresh
from monitors.models import Monitor, Pipeline
from monitors.schedule_times import expected_starts
from monitors.services.polling import monitor_poll
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PIPELINE = "pl_daily_orders"  # scheduled every 5 minutes by its trigger tr_pl_daily_orders


def _sim_now(sim) -> datetime:
    return datetime.fromisoformat(sim.clock()["now"].replace("Z", "+00:00"))


def _poll(connection) -> None:
    for monitor in Monitor.objects.filter(connection=connection):
        Monitor.objects.filter(pk=monitor.pk).update(poll_lease_until=None)
        monitor_poll(monitor_id=monitor.pk)


def test_a_skipped_scheduled_run_opens_one_missed_run_incident_resolved_by_the_next_run(flow_settings):
    start = timezone.now().astimezone(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with run_simulator("default", clock_start=start.isoformat().replace("+00:00", "Z"), speed=0) as sim:
        adf = connect_to(sim)["adf-sim"]
        sim.advance(600)
        _poll(adf)
        assert Pipeline.objects.filter(connection=adf, external_id=PIPELINE).exists()

        platform_schedules_refresh(connection_id=adf.pk, now=_sim_now(sim))
        row = ExpectedSchedule.objects.get(pipeline__external_id=PIPELINE, source="adf_trigger", active=True)
        assert row.name == "tr_pl_daily_orders" and row.every_seconds == 300 and row.tolerance_minutes == 2
        now = _sim_now(sim)
        skipped, following = expected_starts(as_platform_schedule(row), start=now, end=now + timedelta(minutes=11))[:2]

        sim.skip_runs("adf", PIPELINE)
        sim.advance((skipped - now).total_seconds() + 60)
        _poll(adf)
        assert missed_runs_check(now=_sim_now(sim)) == 0  # a minute late is within the tolerance
        sim.advance(90)
        _poll(adf)
        assert missed_runs_check(now=_sim_now(sim)) == 1
        assert missed_runs_check(now=_sim_now(sim)) == 0  # the same miss counts once

        incident = Incident.objects.get(source="missed_run")
        assert incident.status == Incident.Status.TRIGGERED and incident.occurrence_count == 1
        assert incident.title.startswith(
            f"{PIPELINE} did not run at {timezone.localtime(skipped):%H:%M} as its trigger"
        )
        assert incident.latest_occurrence.evidence["expected_at"] == skipped.isoformat()

        sim.advance((following - _sim_now(sim)).total_seconds() + 45)  # the next run has started
        _poll(adf)
        assert missed_runs_check(now=_sim_now(sim)) == 0
        incident.refresh_from_db()
        assert incident.status == Incident.Status.RESOLVED
        assert incident.events.filter(kind=IncidentEvent.Kind.AUTO_RESOLVED).count() == 1
        assert Incident.objects.filter(source="missed_run").count() == 1
