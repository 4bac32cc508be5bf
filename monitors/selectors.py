"""Reads for the monitors app."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, TextField, Value, When, Window
from django.db.models.functions import Cast, NullIf, RowNumber, StrIndex, Substr
from django.utils import timezone

from monitors.models import Connection, Pipeline, PipelineRun

WEBHOOK_TARGET_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class WebhookTarget:
    connection_id: int
    secret: str


_webhook_targets: dict[tuple[str, str], tuple[float, WebhookTarget | None]] = {}


def webhook_target_get(*, name: str, kind: str) -> WebhookTarget | None:
    """The enabled connection a webhook URL names, with its decrypted secret. Kept in memory for a few seconds:
    deliveries arrive in bursts and this runs on each. Edits in this process take effect at once
    (monitors.signals clears the cache); other processes see them within WEBHOOK_TARGET_TTL_SECONDS."""
    key = (name, kind)
    cached = _webhook_targets.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = Connection.objects.filter(name=name, kind=kind, enabled=True).values("id", "webhook_secret_encrypted").first()
    target = None
    if row is not None:
        secret = Connection(webhook_secret_encrypted=row["webhook_secret_encrypted"]).get_webhook_secret()
        target = WebhookTarget(connection_id=row["id"], secret=secret)
    _webhook_targets[key] = (time.monotonic() + WEBHOOK_TARGET_TTL_SECONDS, target)
    return target


def webhook_targets_forget() -> None:
    _webhook_targets.clear()


def pipeline_run_list(
    *,
    status: str = "",
    search: str = "",
    pipeline_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> QuerySet[PipelineRun]:
    """Newest runs first, optionally of one status and one pipeline, started within since–until, and matching a
    search over pipeline, run id and error."""
    runs = pipeline_run_matching(status=status, search=search, pipeline_id=pipeline_id, since=since, until=until)
    return runs.select_related("pipeline", "connection").defer("raw", "failure_detail", "error_trace")[
        offset : offset + limit
    ]


def pipeline_run_matching(
    *,
    status: str = "",
    search: str = "",
    pipeline_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[PipelineRun]:
    """The runs the runs page's filters select, newest first (unsliced: count it, or page it)."""
    runs = PipelineRun.objects.order_by("-started_at", "-id")
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    if until is not None:
        runs = runs.filter(started_at__lte=until)
    if pipeline_id is not None:
        runs = runs.filter(pipeline_id=pipeline_id)
    if status:
        runs = runs.filter(status=status)
    if search:
        runs = runs.filter(
            Q(pipeline__name__icontains=search)
            | Q(external_run_id__icontains=search)
            | Q(error_message__icontains=search)
            | Q(error_code__iexact=search)
        )
    return runs


# Runs that reached an end; the failure rate is failed / finished, so runs in flight never count against it.
FINISHED_STATUSES = (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED)
STATS_WINDOW = timedelta(days=7)
MAX_RUN_PAGE = 1000
# Newest first on every database (PostgreSQL already puts NULLs first in a descending order, so it keeps using
# the (pipeline, -started_at) index): a queued run without a start time counts as the newest.
NEWEST_FIRST = (F("started_at").desc(nulls_first=True), F("id").desc())


@dataclass(frozen=True)
class RunPage:
    """One page of the runs list, newest first, without counting the whole table."""

    runs: list[PipelineRun]
    number: int
    has_previous: bool
    has_next: bool


def pipeline_run_page(
    *,
    status: str = "",
    search: str = "",
    pipeline_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> RunPage:
    """A page of `pipeline_run_list`; reads one row more than it shows to know whether another page follows.
    Pages past MAX_RUN_PAGE are that page: deeper offsets cost more than anyone reads."""
    page = min(max(page, 1), MAX_RUN_PAGE)
    runs = list(
        pipeline_run_list(
            status=status,
            search=search,
            pipeline_id=pipeline_id,
            since=since,
            until=until,
            offset=(page - 1) * per_page,
            limit=per_page + 1,
        )
    )
    return RunPage(runs=runs[:per_page], number=page, has_previous=page > 1, has_next=len(runs) > per_page)


def connection_list() -> QuerySet[Connection]:
    """Connections by name, for choosing one."""
    return Connection.objects.only("id", "name", "kind").order_by("name")


def pipeline_get(*, pipeline_id: int) -> Pipeline | None:
    """One pipeline with its connection, or None."""
    return Pipeline.objects.select_related("connection").filter(pk=pipeline_id).first()


def _failure_rate(failed: int, finished: int) -> float | None:
    return failed / finished if finished else None


def pipeline_list(
    *, connection_id: int | None = None, search: str = "", by_failure_rate: bool = False, strip_size: int = 20
) -> QuerySet[Pipeline]:
    """Pipelines with their connection, by name, or worst 7-day failure rate first (pipelines without a finished run
    in the window last), each annotated with `strip_since`: the start of its `strip_size`-th newest run (None: it
    has fewer), which bounds its strip in `pipeline_run_strips`.

    Every read of runs is bounded through the pipeline-and-start index: the strips by each pipeline's own
    `strip_size`-th newest start, which this query looks up (so a weekly job still shows 20 runs and a busy one
    costs 20 rows, not a week of them). Only the failure-rate order reads the week of every pipeline, once."""
    # Only the start is wanted, so no tie-break on id: the order is then exactly the index's.
    strip_since = (
        PipelineRun.objects.filter(pipeline=OuterRef("pk"))
        .order_by(F("started_at").desc(nulls_first=True))
        .values("started_at")[strip_size - 1 : strip_size]
    )
    pipelines = Pipeline.objects.select_related("connection").annotate(strip_since=Subquery(strip_since))
    if connection_id is not None:
        pipelines = pipelines.filter(connection_id=connection_id)
    if search:
        pipelines = pipelines.filter(name__icontains=search)
    if by_failure_rate:
        since = timezone.now() - STATS_WINDOW
        week = _run_counts(PipelineRun.objects.filter(pipeline=OuterRef("pk"), started_at__gte=since))
        rate = week.annotate(rate=Cast("failed", FloatField()) / NullIf("finished", 0)).values("rate")
        return pipelines.annotate(failure_rate=Subquery(rate)).order_by(
            F("failure_rate").desc(nulls_last=True), "name", "id"
        )
    return pipelines.order_by("name", "connection__name", "id")


@dataclass(frozen=True)
class WeekCounts:
    """A pipeline's failed and finished runs of the last 7 days."""

    failed: int = 0
    finished: int = 0

    @property
    def failure_rate(self) -> float | None:
        return _failure_rate(self.failed, self.finished)


def pipeline_week_counts(*, pipeline_ids: list[int]) -> dict[int, WeekCounts]:
    """The failed and finished runs of the last 7 days of each of these pipelines (those without one left out),
    in one query."""
    since = timezone.now() - STATS_WINDOW
    return {
        row["pipeline"]: WeekCounts(failed=row["failed"], finished=row["finished"])
        for row in _run_counts(PipelineRun.objects.filter(pipeline_id__in=pipeline_ids, started_at__gte=since))
    }


def _run_counts(runs: QuerySet[PipelineRun]) -> QuerySet:
    """Failed and finished runs per pipeline, counted in one pass. Counting the status (never null), not the id,
    keeps every column read in the pipeline-and-start index, so PostgreSQL counts from the index alone."""
    return (
        runs.order_by()
        .values("pipeline")
        .annotate(
            failed=Count("status", filter=Q(status=PipelineRun.Status.FAILED)),
            finished=Count("status", filter=Q(status__in=FINISHED_STATUSES)),
        )
    )


def pipeline_run_strips(*, boundaries: dict[int, datetime | None], size: int) -> dict[int, list[PipelineRun]]:
    """The last `size` runs of each pipeline, oldest first, in one query: each pipeline's rows are bounded by its
    `size`-th newest start (`strip_since` of `pipeline_list`; None: it has fewer runs), and a row number trims ties
    on that start."""
    if not boundaries:
        return {}
    bounded = Q()
    for pipeline_id, since in boundaries.items():
        rows = Q(pipeline_id=pipeline_id)
        if since is not None:
            rows &= Q(started_at__gte=since) | Q(started_at__isnull=True)
        bounded |= rows
    runs = (
        PipelineRun.objects.filter(bounded)
        .annotate(position=Window(RowNumber(), partition_by=F("pipeline_id"), order_by=NEWEST_FIRST))
        .filter(position__lte=size)
        .only("id", "pipeline_id", "status", "started_at", "duration_ms")
        .order_by("pipeline_id", "-position")
    )
    strips: dict[int, list[PipelineRun]] = {}
    for run in runs:
        strips.setdefault(run.serializable_value("pipeline"), []).append(run)  # the id, without a query
    return strips


@dataclass(frozen=True)
class RunStats:
    """A pipeline's runs over a window: how many, how many failed, and the spread of finished runs' durations."""

    runs: int
    failed: int
    finished: int
    median_ms: int | None
    p95_ms: int | None

    @property
    def failure_rate(self) -> float | None:
        return _failure_rate(self.failed, self.finished)


@dataclass(frozen=True)
class PipelineDetail:
    """What the pipeline page shows besides the pipeline row."""

    stats: RunStats
    runs: list[PipelineRun]
    trend: list[PipelineRun]

    @property
    def strip(self) -> list[PipelineRun]:
        return self.runs[::-1]


def error_headline() -> Case:
    """A run's error message up to its first line break, as an annotation: pages list the headline, and computing it
    in the database lets them defer the full message."""
    newline = StrIndex("error_message", Value("\n"))
    return Case(
        When(error_message__contains="\n", then=Substr("error_message", 1, newline - 1)),
        default=F("error_message"),
        output_field=TextField(),
    )


def _percentile(ordered: list[int], fraction: float) -> int | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont) of sorted values, to the ms."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def pipeline_detail(*, pipeline: Pipeline, run_limit: int = 50, trend_limit: int = 50) -> PipelineDetail:
    """A pipeline's 7-day stats, its latest runs (newest first, with their errors, for the headline) and the
    durations of its latest finished runs (oldest first), in three queries."""
    since = timezone.now() - STATS_WINDOW
    window = list(
        PipelineRun.objects.filter(pipeline=pipeline, started_at__gte=since)
        .order_by()
        .values_list("status", "duration_ms")
    )
    durations = sorted(ms for status, ms in window if status in FINISHED_STATUSES and ms is not None)
    stats = RunStats(
        runs=len(window),
        failed=sum(status == PipelineRun.Status.FAILED for status, _ in window),
        finished=sum(status in FINISHED_STATUSES for status, _ in window),
        median_ms=_percentile(durations, 0.5),
        p95_ms=_percentile(durations, 0.95),
    )
    runs: list[PipelineRun] = list(
        PipelineRun.objects.filter(pipeline=pipeline)
        .defer("raw", "failure_detail", "error_trace")
        .order_by(*NEWEST_FIRST)[:run_limit]
    )
    trend = list(
        PipelineRun.objects.filter(pipeline=pipeline, status__in=FINISHED_STATUSES, duration_ms__isnull=False)
        .only("id", "status", "started_at", "duration_ms")
        .order_by(*NEWEST_FIRST)[:trend_limit]
    )
    return PipelineDetail(stats=stats, runs=runs, trend=trend[::-1])


def pipeline_run_get(*, run_id: int) -> PipelineRun | None:
    """One run with its pipeline, connection and the run it reruns (if any), or None."""
    return PipelineRun.objects.select_related("pipeline", "connection", "rerun_of").filter(pk=run_id).first()
