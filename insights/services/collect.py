"""Where the points come from: each contract check's measurements of its tables, and each pipeline's runs summed
per day (duration, runs, success rate, reruns) once the day is over."""

import logging
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from contracts.models import CheckRun, DataContract
from insights.models import Point, Series
from insights.services.anomalies import series_verdict_report
from insights.services.series import bucket_start, points_extend, points_record
from monitors.clients import SourceError, client_for
from monitors.models import Pipeline, PipelineRun
from monitors.retention import delete_in_batches

logger = logging.getLogger(__name__)

# A contract checked at least this often is watched per hour; less often, per day.
HOURLY_CHECK_MINUTES = 60
# Days of runs summed when a pipeline's daily series is first built (the detector needs three weeks to learn).
BACKFILL_DAYS = 42
# Pipelines summed per call: a first backfill of many pipelines is spread over several ticks.
PIPELINES_PER_TICK = 20


def _table_series_key(contract: DataContract, table: str, metric: str) -> str:
    return f"table:{contract.name}/{table}:{metric}"


def table_series(contract: DataContract, table: str, metric: str, *, granularity: str) -> Series:
    """The series of one table metric (`row_count`, `null_ratio:<column>`...), created on first use."""
    return tables_series(contract, [(table, metric)], granularity=granularity)[(table, metric)]


def tables_series(
    contract: DataContract, measured: list[tuple[str, str]], *, granularity: str
) -> dict[tuple[str, str], Series]:
    """The series of several (table, metric) pairs of one contract, those missing created, in two queries."""
    keys = {_table_series_key(contract, table, metric): (table, metric) for table, metric in measured}
    missing = set(keys) - set(Series.objects.filter(key__in=keys).values_list("key", flat=True))
    if missing:
        Series.objects.bulk_create(
            [
                Series(
                    key=key,
                    subject=Series.Subject.TABLE,
                    metric=keys[key][1].partition(":")[0],
                    contract=contract,
                    table=keys[key][0],
                    column=keys[key][1].partition(":")[2],
                    granularity=granularity,
                )
                for key in missing
            ],
            ignore_conflicts=True,  # another worker created some meanwhile
        )
    return {keys[series.key]: series for series in Series.objects.filter(key__in=keys)}


def check_points_record(*, check_run_id: int) -> int:
    """Record a finished check's table measurements as points of their series (a bucket checked twice keeps the
    latest value) and act on each verdict. Returns how many points were recorded."""
    check = CheckRun.objects.select_related("contract", "triggered_by_run__connection").get(pk=check_run_id)
    contract = check.contract
    by_run = check.trigger == CheckRun.Trigger.RUN or check.triggered_by_run_id is not None
    hourly = not by_run and 0 < contract.check_every_minutes <= HOURLY_CHECK_MINUTES
    granularity = Series.Granularity.HOUR if hourly else Series.Granularity.DAY
    # A load is dated by its producing run; a scheduled check by when it ran.
    moment = (check.triggered_by_run.started_at if check.triggered_by_run else None) or check.started_at
    t = bucket_start(moment, granularity)
    measured = dict(check.metrics or {})
    written = _rows_written(check.triggered_by_run) if len(measured) == 1 else None
    if written is not None:
        table = next(iter(measured))
        measured[table] = {**measured[table], Series.Metric.ROWS_WRITTEN: float(written)}
    pairs = {
        (table, metric): value
        for table, metrics in measured.items()
        for metric, value in metrics.items()
        if metric.partition(":")[0] in Series.Metric.values
    }
    found = tables_series(contract, list(pairs), granularity=granularity)
    values = [(found[pair], value) for pair, value in pairs.items()]
    scored = points_record(values=values, t=t, run_id=check.triggered_by_run_id, check_run_id=check.pk)
    for (series, _), verdict in zip(values, scored, strict=True):
        series_verdict_report(verdict, series=series)
    return len(scored)


def _rows_written(run: PipelineRun | None) -> int | None:
    """What the producing run reports it wrote (ADF Copy activities), for a contract of one table: with several, the
    run's rows cannot be told apart by table. A platform that cannot be asked now costs the point, nothing else."""
    if run is None or run.started_at is None:
        return None
    try:
        client = client_for(run.connection)
        return client.rows_written(run.external_run_id, started_at=run.started_at, ended_at=run.ended_at)
    except SourceError as exc:
        logger.warning("rows written by run %s not read: %s", run.external_run_id, exc)
        return None


def pipeline_series(pipeline: Pipeline, metric: str) -> Series:
    series, _ = Series.objects.get_or_create(
        key=f"pipeline:{pipeline.pk}:{metric}",
        defaults={"subject": Series.Subject.PIPELINE, "metric": metric, "pipeline": pipeline},
    )
    return series


class RunRow(NamedTuple):
    started_at: datetime
    status: str
    duration_ms: int | None
    rerun_of_id: int | None


RUN_FIELDS = RunRow._fields


def day_metrics(runs: list[RunRow]) -> dict[str, float]:
    """One day of a pipeline's runs as metrics: runs started, the median duration of its successful runs, the share
    of finished runs that succeeded, and the reruns AIMS or a person started."""
    finished = [r for r in runs if r.status in (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED)]
    originals = [r for r in runs if r.rerun_of_id is None]
    metrics: dict[str, float] = {
        Series.Metric.RUNS: float(len(originals)),
        Series.Metric.RETRIES: float(len(runs) - len(originals)),
    }
    if finished:
        succeeded = sum(r.status == PipelineRun.Status.SUCCEEDED for r in finished)
        metrics[Series.Metric.SUCCESS_RATE] = round(succeeded / len(finished), 6)
    durations = [r.duration_ms / 1000 for r in finished if r.status == PipelineRun.Status.SUCCEEDED and r.duration_ms]
    if durations:
        metrics[Series.Metric.DURATION] = round(statistics.median(durations), 3)
    return metrics


def pipeline_days_record(*, now: datetime | None = None, pipeline_ids: list[int] | None = None) -> int:
    """Sum the runs of pipelines whose finished days are not yet recorded (up to BACKFILL_DAYS back, the least
    recently recorded first, at most PIPELINES_PER_TICK pipelines with runs a call) into their daily series, each
    series scored in one pass. Days before a pipeline's first run are not points. Returns points recorded."""
    now = now or timezone.now()
    today = bucket_start(now, Series.Granularity.DAY)
    recorded_until = dict(
        Series.objects.filter(subject=Series.Subject.PIPELINE, metric=Series.Metric.RUNS).values_list(
            "pipeline_id", "last_point_at"
        )
    )
    pipelines = Pipeline.objects.all() if pipeline_ids is None else Pipeline.objects.filter(pk__in=pipeline_ids)
    oldest = today - timedelta(days=BACKFILL_DAYS + 1)
    due = [
        pk
        for pk in pipelines.order_by("pk").values_list("pk", flat=True)
        if (recorded_until.get(pk) or oldest) + timedelta(days=1) < today
    ]
    due.sort(key=lambda pk: recorded_until.get(pk) or oldest)
    recorded = done = 0
    for pipeline_id in due:
        if done >= PIPELINES_PER_TICK:
            break
        last = recorded_until.get(pipeline_id)
        start = last + timedelta(days=1) if last else today - timedelta(days=BACKFILL_DAYS)
        points = _pipeline_days(pipeline_id, start=start, today=today)
        if points is not None:
            done += 1
            recorded += points
    return recorded


def _pipeline_days(pipeline_id: int, *, start: datetime, today: datetime) -> int | None:
    """Record one pipeline's days from `start` to yesterday; None when it has no run in that stretch or before."""
    runs = [
        RunRow(*row)
        for row in PipelineRun.objects.filter(
            pipeline_id=pipeline_id, started_at__gte=start, started_at__lt=today
        ).values_list(*RUN_FIELDS)
    ]
    ran_before = PipelineRun.objects.filter(pipeline_id=pipeline_id, started_at__lt=start).exists()
    if not runs and not ran_before:
        return None
    by_day: dict[datetime, list[RunRow]] = defaultdict(list)
    for run in runs:
        by_day[bucket_start(run.started_at, Series.Granularity.DAY)].append(run)
    values: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    day = start if ran_before else min(by_day)
    while day < today:
        for metric, value in day_metrics(by_day.get(day, [])).items():
            values[metric].append((day, value))
        day += timedelta(days=1)
    pipeline = Pipeline.objects.get(pk=pipeline_id)
    for metric, points in values.items():
        series = pipeline_series(pipeline, metric)
        series_verdict_report(points_extend(series=series, points=points), series=series)
    return sum(len(points) for points in values.values())


def points_prune(*, now: datetime | None = None) -> int:
    """Delete metric points older than AIMS_POINT_RETENTION_DAYS (never those a series' last year of health or
    detection reads, with the default), AIMS_PRUNE_BATCH rows per statement. Returns how many went."""
    now = now or timezone.now()
    old = Point.objects.filter(t__lt=now - timedelta(days=settings.AIMS_POINT_RETENTION_DAYS))
    return delete_in_batches(old, settings.AIMS_PRUNE_BATCH)
