"""Rows of the insights app for tests: series with points, checks of a contract's table, and incidents opened by an
anomaly or a missed run."""

from datetime import datetime, timedelta
from itertools import count

from django.utils import timezone

from contracts.models import CheckRun, DataContract
from incidents.models import Incident, Occurrence
from incidents.services.occurrences import fingerprint_of
from insights.models import Point, Series
from insights.services.anomalies import evidence_of, group_key
from monitors.models import Pipeline, PipelineRun
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_run

_seq = count(1)


def make_series(**fields) -> Series:
    n = next(_seq)
    defaults = {"key": f"test:{n}", "subject": Series.Subject.PIPELINE, "metric": Series.Metric.DURATION}
    return Series.objects.create(**{**defaults, **fields})


def add_points(series: Series, values: list[float], *, end: datetime | None = None, anomalous=()) -> list[Point]:
    """Daily points ending on `end` (default: today), scored with a band of ±20 % around 100."""
    end = end or timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=len(values) - 1)
    return [
        Point.objects.create(
            series=series,
            t=start + timedelta(days=i),
            value=value,
            state=Point.State.SCORED,
            anomalous=i in anomalous,
            expected=100.0,
            low=80.0,
            high=120.0,
            season="day_of_week",
        )
        for i, value in enumerate(values)
    ]


def make_check(contract: DataContract, *, table: str, failed: bool, fresh: bool | None, at: datetime) -> CheckRun:
    """A completed check of one table: one rule, and a freshness rule when `fresh` is not None."""
    results = [{"object": table, "key": f"{table}.amount.range", "status": "failed" if failed else "passed"}]
    if fresh is not None:
        results.append(
            {"object": table, "key": f"{table}.loaded_at.freshness", "status": "passed" if fresh else "failed"}
        )
    return CheckRun.objects.create(
        contract=contract,
        version=contract.active_version,
        status=CheckRun.Status.FAILED if failed or fresh is False else CheckRun.Status.PASSED,
        started_at=at,
        finished_at=at,
        results=results,
    )


def make_anomaly_incident(series: Series, point: Point) -> Incident:
    """An open incident whose latest occurrence is the anomaly of `point`, with the evidence insights writes."""
    run = point.run or make_run(series.pipeline)
    fingerprint = fingerprint_of(group_key(series))
    incident = make_incident(
        run, source=Occurrence.Source.ANOMALY, title=f"{series.key} below expected", fingerprint=fingerprint
    )
    Occurrence.objects.filter(pk=incident.latest_occurrence_id).update(
        source=Occurrence.Source.ANOMALY,
        subject=f"series:{series.pk}",
        evidence=evidence_of(series, point),
        fingerprint=fingerprint,
    )
    incident.refresh_from_db()
    return incident


def make_missed_run_incident(pipeline: Pipeline, *, expected_at: datetime) -> Incident:
    incident = make_incident(make_run(pipeline), source="missed_run", title=f"{pipeline.name} did not run")
    Occurrence.objects.filter(pk=incident.latest_occurrence_id).update(
        source="missed_run",
        subject=f"pipeline:{pipeline.pk}",
        detected_at=expected_at,
        evidence={
            "expected_at": expected_at.isoformat(),
            "tolerance_minutes": 30,
            "schedule": "its trigger nightly schedules it (cron 0 2 * * * (UTC))",
            "schedule_source": "adf_trigger",
            "schedule_name": "nightly",
            "cron": "0 2 * * *",
            "timezone": "UTC",
        },
    )
    incident.refresh_from_db()
    return incident


def add_runs(pipeline: Pipeline, outcomes: str, *, now: datetime, days: int = 6) -> None:
    """One run six hours after the other from `days` ago, per letter: s(ucceeded), f(ailed), r(erun that
    succeeded)."""
    for index, letter in enumerate(outcomes):
        started = now - timedelta(days=days) + timedelta(hours=6 * index)
        make_run(
            pipeline,
            status=PipelineRun.Status.FAILED if letter == "f" else PipelineRun.Status.SUCCEEDED,
            started_at=started,
            ended_at=started + timedelta(minutes=5),
            duration_ms=300_000,
            rerun_of=PipelineRun.objects.filter(pipeline=pipeline).first() if letter == "r" else None,
        )
