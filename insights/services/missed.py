"""Missed runs: when a pipeline expected to start (by its platform schedule, or the cadence learnt from its runs)
has not started within the tolerance, that is an occurrence; the incident resolves when the next run starts.

Platform schedules are read through each connection's client (ADF triggers, Databricks job schedules) and kept as
ExpectedSchedule rows; a pipeline with an active platform schedule is judged by it alone, any other by its learnt
cadence, if it has a regular one."""

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from aimsweb.batch import apply_each
from aimsweb.choices import ErrorCategory, Severity
from incidents.models import Occurrence
from incidents.services import OccurrenceReport, occurrence_intake, occurrences_recovered
from insights.models import ExpectedSchedule
from insights.services.cadence import LEARN_WEEKS, RECENT_STARTS, learn_cadence
from monitors.clients import client_for
from monitors.clients.base import PlatformSchedule
from monitors.maintenance import maintenance_window_active
from monitors.models import Connection, Pipeline, PipelineRun
from monitors.schedule_times import expected_starts

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=26)  # expected starts older than this are history, never alerted on
PLATFORM_SOURCES = {
    "adf_trigger": ExpectedSchedule.Source.ADF_TRIGGER,
    "databricks_job": ExpectedSchedule.Source.DATABRICKS_JOB,
}


def group_key(pipeline_id: int) -> str:
    return f"missed_run:{pipeline_id}"


# --- What is expected ----------------------------------------------------------------------------------------------


def platform_schedules_refresh(*, connection_id: int, now: datetime | None = None) -> int:
    """Read a connection's schedules from its platform and keep them (those gone from the platform are dropped).
    Returns how many are kept."""
    now = now or timezone.now()
    connection = Connection.objects.get(pk=connection_id)
    found = client_for(connection).schedules()
    pipelines = {p.external_id: p for p in Pipeline.objects.filter(connection=connection)}
    kept: set[int] = set()
    with transaction.atomic():
        for schedule in found:
            pipeline = pipelines.get(schedule.pipeline_external_id)
            if pipeline is None:
                continue  # a pipeline AIMS has not seen run yet: it is expected once it exists here
            row, _ = ExpectedSchedule.objects.update_or_create(
                pipeline=pipeline,
                source=PLATFORM_SOURCES[schedule.source],
                name=schedule.name[:200],
                defaults=_platform_fields(schedule, now),
            )
            kept.add(row.pk)
        ExpectedSchedule.objects.filter(pipeline__connection=connection, source__in=PLATFORM_SOURCES.values()).exclude(
            pk__in=kept
        ).delete()
    return len(kept)


def _platform_fields(schedule: PlatformSchedule, now: datetime) -> dict:
    every = int(schedule.every.total_seconds()) if schedule.every else None
    return {
        "active": schedule.active,
        "cron": schedule.cron or "",
        "every_seconds": every,
        "anchor": schedule.anchor,
        "timezone": schedule.timezone or "UTC",
        "description": _platform_words(schedule)[:300],
        "tolerance_minutes": tolerance_minutes(schedule, now=now),
        "seen_at": now,
    }


def tolerance_minutes(schedule: PlatformSchedule, *, now: datetime) -> int:
    """How late a start may be before it counts as missed: half the shortest gap between expected starts (so one
    missed start is reported before the next is due), at least 2 and at most 60 minutes. A Databricks cron drops
    Quartz's seconds and the platforms start runs a little late: 2 minutes cover both."""
    starts = expected_starts(replace(schedule, active=True), start=now, end=now + timedelta(days=8))
    gaps = [(b - a).total_seconds() / 60 for a, b in zip(starts, starts[1:], strict=False)]
    shortest = min(gaps) if gaps else 24 * 60
    return int(max(2, min(60, shortest // 2)))


def _platform_words(schedule: PlatformSchedule) -> str:
    what = "its trigger" if schedule.source == "adf_trigger" else "its job schedule"
    when = f"cron {schedule.cron} ({schedule.timezone})" if schedule.cron else f"every {schedule.every}"
    return f"{what} {schedule.name} schedules it ({when})"


def cadences_learn(*, now: datetime | None = None) -> int:
    """Learn the cadence of every pipeline without an active platform schedule from its runs of the last weeks
    (reruns left out); forget it when it is no longer regular. Returns how many cadences are kept."""
    now = now or timezone.now()
    scheduled = set(
        ExpectedSchedule.objects.filter(active=True)
        .exclude(source=ExpectedSchedule.Source.LEARNED)
        .values_list("pipeline_id", flat=True)
    )
    since = now - timedelta(weeks=LEARN_WEEKS)
    originals = PipelineRun.objects.filter(started_at__gte=since, started_at__lte=now, rerun_of__isnull=True)
    # One row per pipeline and day (its first start), however many runs a day: bounded by pipelines x 42.
    first_of_day: dict[int, list[datetime]] = defaultdict(list)
    runs: dict[int, int] = defaultdict(int)
    days = originals.annotate(day=TruncDate("started_at", tzinfo=UTC)).values("pipeline_id", "day")
    for pipeline_id, first, count in days.annotate(first=Min("started_at"), runs=Count("pk")).values_list(
        "pipeline_id", "first", "runs"
    ):
        first_of_day[pipeline_id].append(first)
        runs[pipeline_id] += count
    kept = 0
    for pipeline_id, moments in first_of_day.items():
        if pipeline_id in scheduled:
            cadence = None
        else:
            # Several runs a day: maybe an interval, learnt from the latest starts (one bounded read).
            several = runs[pipeline_id] >= 2 * len(moments)
            recent = (
                originals.filter(pipeline_id=pipeline_id).order_by("-started_at").values_list("started_at", flat=True)
            )
            latest = [s for s in recent[:RECENT_STARTS] if s is not None] if several else []
            cadence = learn_cadence(moments, latest, now=now)
        if cadence is None:
            ExpectedSchedule.objects.filter(pipeline_id=pipeline_id, source=ExpectedSchedule.Source.LEARNED).delete()
            continue
        ExpectedSchedule.objects.update_or_create(
            pipeline_id=pipeline_id,
            source=ExpectedSchedule.Source.LEARNED,
            name="learnt cadence",
            defaults={
                "active": True,
                "cron": cadence.cron,
                "every_seconds": None,
                "anchor": None,
                "timezone": "UTC",
                "description": f"it has run {cadence.description}",
                "tolerance_minutes": int(cadence.tolerance.total_seconds() // 60),
                "seen_at": now,
            },
        )
        kept += 1
    ExpectedSchedule.objects.filter(source=ExpectedSchedule.Source.LEARNED).exclude(
        pipeline_id__in=first_of_day.keys()
    ).delete()
    return kept


def as_platform_schedule(row: ExpectedSchedule) -> PlatformSchedule:
    return PlatformSchedule(
        pipeline_external_id=row.pipeline.external_id,
        pipeline_name=row.pipeline.name,
        source=row.source,
        name=row.name,
        active=row.active,
        cron=row.cron or None,
        every=timedelta(seconds=row.every_seconds) if row.every_seconds else None,
        anchor=row.anchor,
        timezone=row.timezone,
        note="",
    )


# --- What is missing -----------------------------------------------------------------------------------------------


def missed_runs_check(*, now: datetime | None = None) -> int:
    """Report every expected start that passed its tolerance with no run of the pipeline, and resolve the missed
    run incidents of pipelines that have started since. Returns how many misses were reported."""
    now = now or timezone.now()
    rows = list(ExpectedSchedule.objects.filter(active=True).select_related("pipeline", "pipeline__connection"))
    by_pipeline: dict[int, list[ExpectedSchedule]] = {}
    for row in rows:
        by_pipeline.setdefault(row.pipeline_id, []).append(row)
    # A platform schedule decides alone where there is one.
    for pipeline_id, found in by_pipeline.items():
        platform = [r for r in found if r.source != ExpectedSchedule.Source.LEARNED]
        by_pipeline[pipeline_id] = platform or found
    latest = dict(
        PipelineRun.objects.filter(
            pipeline_id__in=by_pipeline.keys(), started_at__gte=now - LOOKBACK - timedelta(days=1)
        )
        .values("pipeline_id")
        .annotate(latest=Max("started_at"))
        .values_list("pipeline_id", "latest")
    )
    reported = 0

    def check(pipeline_id: int) -> None:
        nonlocal reported
        last_start = latest.get(pipeline_id)
        miss = _latest_miss(by_pipeline[pipeline_id], last_start, now=now)
        if miss is not None:
            row, expected_at = miss
            if _report(row, expected_at):
                reported += 1
        elif last_start is not None:
            occurrences_recovered(
                group_key=group_key(pipeline_id),
                recovered_at=last_start,
                subject_label=f"a run started at {last_start:%Y-%m-%d %H:%M %Z}",
            )

    apply_each(list(by_pipeline), check, label="missed-run check of pipeline")
    return reported


def _latest_miss(
    rows: list[ExpectedSchedule], last_start: datetime | None, *, now: datetime
) -> tuple[ExpectedSchedule, datetime] | None:
    """The latest expected start (within LOOKBACK, after AIMS knew the schedule) whose tolerance has passed with
    no run started since shortly before it."""
    worst: tuple[ExpectedSchedule, datetime] | None = None
    for row in rows:
        tolerance = timedelta(minutes=row.tolerance_minutes)
        start = max(now - LOOKBACK, row.created_at)
        for expected_at in expected_starts(as_platform_schedule(row), start=start, end=now - tolerance):
            if last_start is not None and last_start >= expected_at - tolerance:
                continue
            if worst is None or expected_at > worst[1]:
                worst = (row, expected_at)
    return worst


def _report(row: ExpectedSchedule, expected_at: datetime) -> bool:
    pipeline = row.pipeline
    if maintenance_window_active(
        connection_id=pipeline.connection_id, pipeline_name=pipeline.name, suppresses="notifications", at=expected_at
    ):
        return False
    local = timezone.localtime(expected_at)
    intake = occurrence_intake(
        report=OccurrenceReport(
            source=Occurrence.Source.MISSED_RUN,
            group_key=group_key(pipeline.pk),
            dedup_key=f"missed_run:{pipeline.pk}:{expected_at.isoformat()}",
            title=f"{pipeline.name} did not run at {local:%H:%M} as {row.description}",
            severity=Severity.HIGH,
            category=ErrorCategory.UNKNOWN,
            subject=f"pipeline:{pipeline.pk}",
            subject_label=pipeline.name,
            detected_at=expected_at,
            evidence={
                "expected_at": expected_at.isoformat(),
                "tolerance_minutes": row.tolerance_minutes,
                "schedule": row.description,
                "schedule_source": row.source,
                "schedule_name": row.name,
                "cron": row.cron,
                "timezone": row.timezone,
            },
            connection_id=pipeline.connection_id,
            pipeline_id=pipeline.pk,
            pipeline_criticality=pipeline.criticality,
        )
    )
    return intake.change is not None
