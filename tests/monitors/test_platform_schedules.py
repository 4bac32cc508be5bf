"""The platforms' own schedules read through the real SDK clients against the simulator, and the expected starts
they give checked against the runs the simulator actually starts."""

from datetime import UTC, datetime, timedelta

import pytest

from monitors.clients import SourceError, client_for
from monitors.schedule_times import expected_starts
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

CLOCK_START = "2025-03-14T00:00:00Z"
START = datetime(2025, 3, 14, tzinfo=UTC)
# The simulator starts each run after the first up to 30 s late, and an ADF run queues up to 5 s before it starts.
LATE = timedelta(seconds=35)
# A Databricks cron keeps minutes; the Quartz second (up to 59 s) comes on top.
DBX_LATE = timedelta(seconds=30 + 59)


@pytest.fixture
def default_sim():
    # A page of two triggers, so reading a factory's triggers follows nextLink.
    with run_simulator("default", clock_start=CLOCK_START, speed=0, adf_page_size=2) as sim:
        yield sim


def _schedules(connection):
    return {(s.name, s.pipeline_name): s for s in client_for(connection).schedules()}


def _run_starts(sim, source: str, name: str) -> list[datetime]:
    if source == "adf":
        rows = [r for r in sim.truth("adf") if r["origin"] == "schedule" and r["pipeline"] == name]
        return sorted(datetime.fromisoformat(r["run_start"].replace("Z", "+00:00")[:26] + "+00:00") for r in rows)
    rows = [r for r in sim.truth("databricks") if r["origin"] == "schedule" and r["job"] == name]
    return sorted(datetime.fromtimestamp(r["start_time"] / 1000, tz=UTC) for r in rows)


def _agree(expected: list[datetime], actual: list[datetime], late: timedelta, *, end: datetime) -> bool:
    """Every expected start has exactly one run starting up to `late` after it, and every run that started (before a
    due time near the end could still come) belongs to one."""
    matched = [[run for run in actual if timedelta(0) <= run - due <= late] for due in expected]
    claimed = {run for runs in matched for run in runs}
    return all(len(runs) == 1 for runs in matched) and all(run in claimed for run in actual if run < end - late)


@pytest.mark.django_db
def test_adf_schedules_every_trigger_pipeline_with_state_zone_and_kind(default_sim, flow_settings):
    connections = connect_to(default_sim)

    schedules = _schedules(connections["adf-sim"])

    orders = schedules[("tr_pl_daily_orders", "pl_daily_orders")]
    assert (orders.source, orders.active, orders.every, orders.cron, orders.timezone) == (
        "adf_trigger",
        True,
        timedelta(minutes=5),
        None,
        "UTC",
    )
    assert orders.pipeline_external_id == "pl_daily_orders" and orders.anchor >= START
    # A non-UTC trigger writes its startTime as local time: read in its zone, it is the same instant.
    customers = schedules[("tr_pl_customers_sync", "pl_customers_sync")]
    assert customers.timezone == "Europe/Berlin" and customers.anchor.utcoffset() == timedelta(hours=1)
    # One stopped trigger naming three pipelines gives three inactive cron schedules.
    legacy = [s for (name, _), s in schedules.items() if name == "tr_weekday_batch_legacy"]
    assert sorted(s.pipeline_name for s in legacy) == ["pl_customers_sync", "pl_daily_orders", "pl_finance_export"]
    assert {(s.active, s.cron, s.timezone) for s in legacy} == {(False, "30 2 * * 1,3,5", "Europe/Berlin")}
    # The storage event trigger has no time schedule.
    assert not [name for name, _ in schedules if name == "tr_finance_dropzone"]


@pytest.mark.django_db
def test_adf_schedules_expected_starts_match_the_runs_the_simulator_starts(default_sim, flow_settings):
    connections = connect_to(default_sim)
    by_pipeline = {
        s.pipeline_name: s
        for connection in (connections["adf-sim"], connections["adf-sim-analytics"])
        for s in client_for(connection).schedules()
        if s.active
    }
    default_sim.advance(3 * 3600)

    for pipeline in ("pl_daily_orders", "pl_inventory_snapshot", "pl_clickstream_ingest", "pl_gdpr_purge"):
        # Up to a run's lateness before now: a run due later may not have started yet.
        expected = expected_starts(by_pipeline[pipeline], start=START, end=START + timedelta(hours=3) - LATE)
        actual = _run_starts(default_sim, "adf", pipeline)
        assert _agree(expected, actual, LATE, end=START + timedelta(hours=3)), pipeline
    assert by_pipeline["pl_gdpr_purge"].name == "tw_pl_gdpr_purge"
    assert by_pipeline["pl_gdpr_purge"].every == timedelta(minutes=15)


@pytest.mark.django_db
def test_databricks_schedules_quartz_crons_paused_and_zone(default_sim, flow_settings):
    connections = connect_to(default_sim)

    schedules = {s.pipeline_name: s for s in client_for(connections["sim-databricks-1"]).schedules()}

    jobs = {job["name"]: job for job in default_sim.scenario()["workspaces"][0]["jobs"]}
    assert set(schedules) == set(jobs)
    assert schedules["legacy_reconcile"].active is False
    assert all(s.active for name, s in schedules.items() if name != "legacy_reconcile")
    sessions = schedules["clickstream_sessions"]
    assert (sessions.source, sessions.timezone, sessions.every) == ("databricks_job", "Europe/Amsterdam", None)
    assert (
        sessions.cron is not None and sessions.cron.endswith("/3 * * * *") and sessions.pipeline_external_id.isdigit()
    )


@pytest.mark.django_db
def test_databricks_schedules_expected_starts_match_the_runs_the_simulator_starts(default_sim, flow_settings):
    connections = connect_to(default_sim)
    schedules = {s.pipeline_name: s for s in client_for(connections["sim-databricks-1"]).schedules()}
    default_sim.advance(2 * 3600)

    for job in ("orders_daily", "clickstream_sessions", "ml_training"):
        expected = expected_starts(schedules[job], start=START, end=START + timedelta(hours=2) - DBX_LATE)
        actual = _run_starts(default_sim, "databricks", job)
        assert _agree(expected, actual, DBX_LATE, end=START + timedelta(hours=2)), job
    assert _run_starts(default_sim, "databricks", "legacy_reconcile") == []


@pytest.mark.django_db
def test_schedules_platform_errors_raise_source_error(default_sim, flow_settings):
    connections = connect_to(default_sim)
    default_sim.set_faults(rate=1.0, kinds=["503"])

    for name in ("adf-sim", "sim-databricks-1"):
        with pytest.raises(SourceError) as raised:
            client_for(connections[name]).schedules()
        assert raised.value.retryable and raised.value.status == 503
