"""Reads of the insights app: the health of every pipeline and table (their facts loaded in a fixed number of
queries whatever the number of runs, checks and points), and a series with its points, notes and open incident."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet

from contracts.models import CheckRun
from incidents.models import Incident, Occurrence
from incidents.services.occurrences import fingerprint_of
from insights.health import TREND_DAYS, WINDOW_DAYS, CheckFact, Facts, Health, RunFact, health_of
from insights.models import ExpectedSchedule, Point, Series, SeriesNote
from insights.services.anomalies import group_key
from monitors.models import Pipeline, PipelineRun

# The occurrence source of missed runs (insights.services.missed reports them; registered in insights.apps).
MISSED_RUN = Occurrence.Source.MISSED_RUN
# A check that ran to the end says something about the data; one that errored or still runs says nothing.
COMPLETED_CHECKS = (CheckRun.Status.PASSED, CheckRun.Status.WARNING, CheckRun.Status.FAILED)
FINISHED_RUNS: dict[str, bool] = {PipelineRun.Status.SUCCEEDED: True, PipelineRun.Status.FAILED: False}


@dataclass(frozen=True)
class HealthFilters:
    kind: str = ""  # a Series.Subject, or "" for pipelines and tables
    search: str = ""  # part of the pipeline's name, or of the contract's or table's


@dataclass(frozen=True)
class SeriesLink:
    series_id: int
    metric: str  # the Series.Metric's label
    column: str
    state: str


@dataclass
class SubjectHealth:
    """A pipeline or a contract's table, its health and what the Health page shows beside it."""

    kind: str  # Series.Subject
    name: str
    pipeline_id: int | None = None
    contract_id: int | None = None
    contract_name: str = ""
    table: str = ""
    facts: Facts = field(default_factory=Facts)
    health: Health | None = None
    open_incidents: int = 0
    series: list[SeriesLink] = field(default_factory=list)


def _check_facts(results: list, *, at: datetime) -> dict[str, CheckFact]:
    """Schema object -> what one check said about it: a rule failed, and whether its freshness rules held (None
    without one, or when none could be measured)."""
    failed: dict[str, bool] = defaultdict(bool)
    fresh: dict[str, list[bool]] = defaultdict(list)
    for entry in results if isinstance(results, list) else []:
        if not isinstance(entry, dict):
            continue
        obj, status = str(entry.get("object", "")), entry.get("status")
        failed[obj] |= status == "failed"
        if str(entry.get("key", "")).endswith(".freshness") and status in ("passed", "warning", "failed"):
            fresh[obj].append(status != "failed")
    return {
        obj: CheckFact(at=at, failed=failed[obj], freshness_held=all(fresh[obj]) if fresh[obj] else None)
        for obj in failed
    }


def _merged(facts: dict[str, CheckFact], *, at: datetime) -> CheckFact:
    """One check of a pipeline's run over all the tables it checked."""
    held = [f.freshness_held for f in facts.values() if f.freshness_held is not None]
    return CheckFact(at=at, failed=any(f.failed for f in facts.values()), freshness_held=all(held) if held else None)


def _pipeline_subjects(search: str, since: datetime) -> dict[int, SubjectHealth]:
    pipelines = Pipeline.objects.all()
    if search:
        pipelines = pipelines.filter(name__icontains=search)
    subjects = {
        pk: SubjectHealth(kind=Series.Subject.PIPELINE, name=name, pipeline_id=pk)
        for pk, name in pipelines.values_list("pk", "name")
    }
    runs = PipelineRun.objects.filter(pipeline__in=pipelines, started_at__gte=since).values_list(
        "pipeline_id", "started_at", "status", "rerun_of_id", "duration_ms"
    )
    for pipeline_id, started_at, status, rerun_of_id, duration_ms in runs:
        assert started_at is not None  # filtered on
        subjects[pipeline_id].facts.runs.append(
            RunFact(
                started_at=started_at,
                succeeded=FINISHED_RUNS.get(status),
                rerun=rerun_of_id is not None,
                duration_seconds=duration_ms / 1000 if duration_ms else None,
            )
        )
    missed = Occurrence.objects.filter(source=MISSED_RUN, pipeline__in=pipelines, detected_at__gte=since)
    for pipeline_id, detected_at in missed.values_list("pipeline_id", "detected_at"):
        subjects[pipeline_id].facts.missed.append(detected_at)
    scheduled = ExpectedSchedule.objects.filter(active=True, pipeline__in=pipelines).values_list("pipeline_id")
    for (pipeline_id,) in scheduled.distinct():
        subjects[pipeline_id].facts.scheduled = True
    checks = CheckRun.objects.filter(
        triggered_by_run__pipeline__in=pipelines, started_at__gte=since, status__in=COMPLETED_CHECKS
    ).values_list("triggered_by_run__pipeline_id", "started_at", "results")
    for pipeline_id, started_at, results in checks:
        subjects[pipeline_id].facts.checks.append(_merged(_check_facts(results, at=started_at), at=started_at))
    return subjects


TableKey = tuple[int, str]  # (contract id, schema object)


def _table_subjects(search: str, since: datetime) -> dict[TableKey, SubjectHealth]:
    subjects: dict[TableKey, SubjectHealth] = {}

    def subject(contract_id: int, contract_name: str, table: str) -> SubjectHealth:
        key = (contract_id, table)
        if key not in subjects:
            subjects[key] = SubjectHealth(
                kind=Series.Subject.TABLE,
                name=f"{contract_name} / {table}",
                contract_id=contract_id,
                contract_name=contract_name,
                table=table,
            )
        return subjects[key]

    checks = CheckRun.objects.filter(started_at__gte=since, status__in=COMPLETED_CHECKS).values_list(
        "contract_id", "contract__name", "started_at", "results"
    )
    for contract_id, contract_name, started_at, results in checks:
        for table, fact in _check_facts(results, at=started_at).items():
            subject(contract_id, contract_name, table).facts.checks.append(fact)
    measured = Series.objects.filter(subject=Series.Subject.TABLE, contract__isnull=False).values_list(
        "contract_id", "contract__name", "table"
    )
    for contract_id, contract_name, table in measured.distinct():
        subject(contract_id, contract_name, table)
    points = Point.objects.filter(
        series__subject=Series.Subject.TABLE,
        series__metric=Series.Metric.ROW_COUNT,
        state=Point.State.SCORED,
        t__gte=since,
    ).values_list("series__contract_id", "series__table", "t", "anomalous")
    for contract_id, table, t, anomalous in points:
        if (contract_id, table) in subjects:
            subjects[(contract_id, table)].facts.points.append((t, anomalous))
    if search:
        needle = search.lower()
        subjects = {key: s for key, s in subjects.items() if needle in s.name.lower()}
    return subjects


def _attach_series_and_incidents(pipelines: dict[int, SubjectHealth], tables: dict[TableKey, SubjectHealth]) -> None:
    """Each subject's series (for links to their pages) and its open incidents: a pipeline's are those about it
    (failed runs, missed runs, anomalies of its series), a table's those its checks or its series reported."""
    labels = dict(Series.Metric.choices)
    by_series: dict[int, SubjectHealth] = {}
    series = Series.objects.values_list("pk", "metric", "column", "state", "pipeline_id", "contract_id", "table")
    for pk, metric, column, state, pipeline_id, contract_id, table in series.order_by("metric", "column"):
        owner = pipelines.get(pipeline_id) if pipeline_id else tables.get((contract_id, table))
        if owner is not None:
            owner.series.append(SeriesLink(pk, labels.get(metric, metric), column, state))
            by_series[pk] = owner
    by_subject = {f"contract:{s.contract_name}/{s.table}": s for s in tables.values()}
    open_incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED).values_list(
        "pipeline_id", "latest_occurrence__subject"
    )
    for pipeline_id, subject in open_incidents:
        about, _, rest = (subject or "").partition(":")
        owner = pipelines.get(pipeline_id) if pipeline_id else None
        if owner is None and about == "series" and rest.isdigit():
            owner = by_series.get(int(rest))
        owner = owner or by_subject.get(subject or "")
        if owner is not None:
            owner.open_incidents += 1


def health_list(*, filters: HealthFilters, now: datetime) -> list[SubjectHealth]:
    """Every pipeline and contract table (of the kind asked, whose name holds the search) with its health at `now`,
    from the runs, missed runs, checks and row-count points of the last WINDOW_DAYS + TREND_DAYS days, in ten
    queries whatever their number."""
    since = now - timedelta(days=WINDOW_DAYS + TREND_DAYS)
    pipelines = _pipeline_subjects(filters.search, since) if filters.kind != Series.Subject.TABLE else {}
    tables = _table_subjects(filters.search, since) if filters.kind != Series.Subject.PIPELINE else {}
    _attach_series_and_incidents(pipelines, tables)
    subjects = [*pipelines.values(), *tables.values()]
    for subject in subjects:
        subject.health = health_of(subject.facts, now=now, table=subject.kind == Series.Subject.TABLE)
    return subjects


def open_incident_counts_by_source(*, sources: list[str]) -> dict[str, int]:
    """Source -> how many incidents it reported are open."""
    counts = (
        Incident.objects.filter(source__in=sources)
        .exclude(status=Incident.Status.RESOLVED)
        .values("source")
        .annotate(count=Count("pk"))
        .values_list("source", "count")
    )
    return dict.fromkeys(sources, 0) | dict(counts)


def series_get(*, series_id: int) -> Series | None:
    return Series.objects.select_related("pipeline", "contract").filter(pk=series_id).first()


def series_points(*, series_id: int, limit: int) -> list[Point]:
    """The series' latest `limit` points, oldest first."""
    latest = Point.objects.filter(series_id=series_id).order_by("-t")[:limit]
    return list(reversed(latest))


def series_notes(*, series_id: int) -> QuerySet[SeriesNote]:
    """What people said about the series, newest first, with who said it."""
    return SeriesNote.objects.filter(series_id=series_id).select_related("created_by").order_by("-created_at", "-id")


def series_open_incident(*, series: Series) -> Incident | None:
    return (
        Incident.objects.filter(fingerprint=fingerprint_of(group_key(series)))
        .exclude(status=Incident.Status.RESOLVED)
        .first()
    )
