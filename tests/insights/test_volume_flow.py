"""A load with 40 % of the usual rows: on a Monday it opens an anomaly incident linked to the producing run, with
the series around the point and its band as evidence; on a Sunday, where the series has learnt that loads are that
small, it opens nothing. The check runs on the simulator's Databricks SQL warehouse through the SDK."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from contracts.models import CheckRun, ContractProducer
from incidents.models import Incident
from insights.models import Point, Series
from monitors import signals as monitors_signals
from monitors.models import PipelineRun
from tests.contracts.check_world import databricks_table, good_rows, producing_run

pytestmark = pytest.mark.django_db

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-volume
version: 1.0.0
status: active
schema:
  - name: orders
    physicalName: {table}
    properties:
      - name: order_id
        required: true
"""
WEEKDAY_ROWS, WEEKEND_ROWS = 100, 40
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday, not a public holiday


@pytest.fixture
def world():
    with databricks_table() as table:
        yield table


def _history(contract, *, until: datetime) -> Series:
    """Five weeks of daily loads before `until`: weekdays about 100 rows, weekends about 40."""
    series = Series.objects.create(
        key=f"table:{contract.name}/orders:row_count",
        subject=Series.Subject.TABLE,
        metric=Series.Metric.ROW_COUNT,
        contract=contract,
        table="orders",
    )
    days = [until - timedelta(days=n) for n in range(35, 0, -1)]
    wobble = [0, 2, -1, 3, -2, 1, 0]
    Point.objects.bulk_create(
        Point(series=series, t=day, value=(WEEKEND_ROWS if day.weekday() >= 5 else WEEKDAY_ROWS) + wobble[i % 7])
        for i, day in enumerate(days)
    )
    return series


def _load_and_succeed(world, day: datetime, rows: int, capture) -> PipelineRun:
    world.load(good_rows(rows))
    contract = world.contract(CONTRACT.format(table=world.table), name="orders-volume")
    _history(contract, until=day)
    run = producing_run(connection_name="adf-volume", run_id="run-load", started_at=day + timedelta(hours=2))
    connection = run.connection
    ContractProducer.objects.create(contract=contract, connection=connection, pipeline_pattern="pl_load_*")
    with capture(execute=True):
        monitors_signals.runs_succeeded.send(
            sender="monitors",
            connection_id=connection.pk,
            external_run_ids=[run.external_run_id],
            pipeline_ids=[run.pipeline_id],
        )
    assert CheckRun.objects.get(contract=contract).metrics["orders"]["row_count"] == rows
    return run


def test_monday_load_with_40_percent_of_the_rows_opens_an_incident_linked_to_its_run(
    world, django_capture_on_commit_callbacks
):
    run = _load_and_succeed(world, MONDAY, 40, django_capture_on_commit_callbacks)

    incident = Incident.objects.get(source="anomaly")
    occurrence = incident.latest_occurrence
    assert occurrence.run == run and incident.latest_run == run
    assert re.fullmatch(r"orders-volume / orders: rows (59|60|61) % below expected \(Mon 2026-11-30\)", incident.title)
    evidence = occurrence.evidence
    assert evidence["producing_run"] == "run-load" and evidence["value"] == 40
    assert evidence["low"] > 40 and evidence["expected"] == pytest.approx(WEEKDAY_ROWS, rel=0.05)
    assert evidence["season"] in ("day_of_week", "month_end")
    assert evidence["points"][-1] == {
        "t": MONDAY.isoformat(),
        "value": 40,
        "expected": evidence["expected"],
        "low": evidence["low"],
        "high": evidence["high"],
        "anomalous": True,
    }
    assert len(evidence["points"]) == 30
    assert Series.objects.get(metric="row_count").state == Series.State.ANOMALOUS


def test_sunday_load_of_the_same_size_opens_nothing_once_the_weekly_season_is_learnt(
    world, django_capture_on_commit_callbacks
):
    _load_and_succeed(world, MONDAY - timedelta(days=1), 40, django_capture_on_commit_callbacks)

    assert not Incident.objects.exists()
    point = Point.objects.get(series__metric="row_count", t=MONDAY - timedelta(days=1))
    assert (point.anomalous, point.state) == (False, Point.State.SCORED)
    assert point.low <= 40 <= point.high
