"""Reads for the dashboard: open incidents by severity and age, KPIs of a time window, and failures charted.

`dashboard_context` needs no request, so the websocket consumer re-renders the live part with it too. It runs a
fixed number of queries (ten) whatever the data size: every number is aggregated in the database.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Aggregate, Avg, Count, F, FilteredRelation, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDay, TruncHour
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.charts import BarItem, Bucket, HorizontalBarChart, Series, StackedBarChart, horizontal_bars, stacked_bars
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from monitors.models import PipelineRun

DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class Window:
    key: str
    label: str  # as in "last 24 hours"
    short: str  # for the switch and comparisons
    length: timedelta
    hourly: bool  # chart per hour, else per day
    buckets: int

    @property
    def unit(self) -> str:
        return "hour" if self.hourly else "day"


WINDOWS = {
    "24h": Window("24h", "24 hours", "24 h", timedelta(hours=24), hourly=True, buckets=24),
    "7d": Window("7d", "7 days", "7 d", timedelta(days=7), hourly=False, buckets=7),
}

# Open incidents are counted by time since opened: (label, newer than, older than or as old as).
AGE_BUCKETS = (
    ("< 1 h", None, timedelta(hours=1)),
    ("1–4 h", timedelta(hours=1), timedelta(hours=4)),
    ("4–24 h", timedelta(hours=4), timedelta(hours=24)),
    ("> 24 h", timedelta(hours=24), None),
)
MATRIX_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
RECENT_OPEN_LIMIT = 10
TOP_PIPELINES_LIMIT = 10
# How much earlier than its run's start an analysis may be stamped (the platform's clock against ours).
ANALYSIS_CLOCK_MARGIN = timedelta(days=1)
# Error classes in the legend, unknown (not analysed yet) last.
ERROR_SERIES = tuple(Series(c.value, c.label) for c in ErrorCategory if c != ErrorCategory.UNKNOWN) + (
    Series(ErrorCategory.UNKNOWN.value, ErrorCategory.UNKNOWN.label),
)


@dataclass(frozen=True)
class MatrixRow:
    severity: str
    label: str
    counts: tuple[int, ...]  # one per AGE_BUCKETS
    total: int


@dataclass(frozen=True)
class OpenMatrix:
    ages: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    total: int


@dataclass(frozen=True)
class OpenIncident:
    incident: Incident
    age: timedelta  # since opened

    @property
    def age_text(self) -> str:
        return duration_text(self.age)


@dataclass(frozen=True)
class Kpi:
    """One figure of the window and the same figure over the window before it (None: nothing to measure)."""

    key: str
    label: str
    value: int | float | Decimal | timedelta | None
    previous: int | float | Decimal | timedelta | None
    display: str
    previous_display: str
    detail: str = ""
    lower_is_better: bool = True

    @property
    def trend(self) -> str:
        """'up', 'down' or 'same' against the previous window; '' when either side is unmeasured."""
        if self.value is None or self.previous is None:
            return ""
        if self.value == self.previous:
            return "same"
        return "up" if self.value > self.previous else "down"

    @property
    def improved(self) -> bool | None:
        if self.trend in ("", "same"):
            return None
        return (self.trend == "down") == self.lower_is_better


def dashboard_window(value: str | None) -> Window:
    """The window a query parameter names; anything unknown is the default."""
    return WINDOWS.get(value or "", WINDOWS[DEFAULT_WINDOW])


def dashboard_context(*, window: str, now: datetime | None = None) -> dict:
    """Everything the dashboard shows for `window` ('24h' or '7d'; anything else is '24h'), as of `now`."""
    now = now or timezone.now()
    chosen = dashboard_window(window)
    start = now - chosen.length
    return {
        "window": chosen.key,
        "window_label": chosen.label,
        "window_short": chosen.short,
        "chart_unit": chosen.unit,
        "windows": list(WINDOWS.values()),
        "open_matrix": open_incident_matrix(now=now),
        "recent_open": recent_open_incidents(now=now),
        "kpis": dashboard_kpis(window=chosen, now=now),
        "failures_chart": failures_by_class_chart(window=chosen, now=now),
        "top_pipelines_chart": top_failing_pipelines_chart(start=start, now=now),
    }


def _open_incidents() -> QuerySet[Incident]:
    # Spelt exactly like the predicate of the partial indexes on open incidents, so PostgreSQL can use them.
    return Incident.objects.exclude(status=Incident.Status.RESOLVED)


def open_incident_matrix(*, now: datetime) -> OpenMatrix:
    """Open incidents counted by severity × time since opened, in one grouped query."""
    counts = {}
    for index, (_, newer, older) in enumerate(AGE_BUCKETS):
        age = Q()
        if newer is not None:
            age &= Q(opened_at__lte=now - newer)
        if older is not None:
            age &= Q(opened_at__gt=now - older)
        counts[f"age_{index}"] = Count("opened_at", filter=age)
    by_severity = {row["severity"]: row for row in _open_incidents().values("severity").annotate(**counts).order_by()}
    # Info incidents are shown only when there are some: the matrix is about what needs attention.
    severities = [*MATRIX_SEVERITIES, *([Severity.INFO] if Severity.INFO in by_severity else [])]
    rows = []
    for severity in severities:
        row = by_severity.get(severity.value, {})
        cells = tuple(row.get(f"age_{index}", 0) for index in range(len(AGE_BUCKETS)))
        rows.append(MatrixRow(severity.value, severity.label, cells, sum(cells)))
    return OpenMatrix(
        ages=tuple(label for label, _, _ in AGE_BUCKETS), rows=tuple(rows), total=sum(r.total for r in rows)
    )


def recent_open_incidents(*, now: datetime, limit: int = RECENT_OPEN_LIMIT) -> list[OpenIncident]:
    """The most recently opened open incidents, with their pipeline and age."""
    incidents = _open_incidents().select_related("pipeline").order_by("-opened_at", "-id")[:limit]
    return [OpenIncident(incident, now - incident.opened_at) for incident in incidents]


def dashboard_kpis(*, window: Window, now: datetime) -> list[Kpi]:
    """Failures, incidents opened, MTTA, MTTR, automatic recovery and LLM cost over the window and the one before.

    One query per table and timestamp, each over a range of that timestamp, so that each reads one narrow index
    (see the models' Meta.indexes) and never the table; counts count the indexed timestamp, not the id, for that
    reason.
    """
    start = now - window.length
    before = start - window.length

    def both(name: str, field: str, aggregate: Callable[[Q], Aggregate]) -> dict[str, Aggregate]:
        """The aggregate over the window as `name` and over the window before as `name`_before, by `field`."""
        return {
            name: aggregate(Q(**{f"{field}__gte": start})),
            f"{name}_before": aggregate(Q(**{f"{field}__lt": start})),
        }

    def since_before(field: str) -> dict:
        return {f"{field}__gte": before, f"{field}__lte": now}

    failures = PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, **since_before("started_at")).aggregate(
        **both("n", "started_at", lambda when: Count("started_at", filter=when))
    )
    opened = Incident.objects.filter(**since_before("opened_at")).aggregate(
        **both("n", "opened_at", lambda when: Count("opened_at", filter=when))
    )
    acknowledged = Incident.objects.filter(**since_before("acknowledged_at")).aggregate(
        **both("mean", "acknowledged_at", lambda when: Avg(F("acknowledged_at") - F("opened_at"), filter=when))
    )
    resolved = Incident.objects.filter(**since_before("resolved_at")).aggregate(
        **both("n", "resolved_at", lambda when: Count("resolved_at", filter=when)),
        **both("mean", "resolved_at", lambda when: Avg(F("resolved_at") - F("opened_at"), filter=when)),
    )
    # An incident's resolution is the resolved/auto_resolved event written with its resolved_at (services set
    # resolved_at, then add the event), so the one created at or after resolved_at; an automatic recovery that was
    # then reopened and resolved by a person is older than that resolved_at and does not count. A join rather than
    # a "latest event" subquery per incident, which would cost a lookup for each of thousands of incidents.
    automatic = IncidentEvent.objects.filter(
        Q(created_at__gte=F("incident__resolved_at")),
        kind=IncidentEvent.Kind.AUTO_RESOLVED,
        created_at__gte=before,
        incident__resolved_at__gte=before,
        incident__resolved_at__lte=now,
    ).aggregate(**both("n", "incident__resolved_at", lambda when: Count("created_at", filter=when)))
    # Only LLM analyses cost anything; a cache hit reuses an earlier answer, so it is not a call.
    llm = FailureAnalysis.objects.filter(analyzer=FailureAnalysis.Analyzer.LLM, **since_before("created_at")).aggregate(
        **both("cost", "created_at", lambda when: Sum("cost_usd", filter=when)),
        **both("calls", "created_at", lambda when: Count("created_at", filter=when & Q(cache_hit=False))),
    )

    rate = _share(automatic["n"], resolved["n"])
    rate_before = _share(automatic["n_before"], resolved["n_before"])
    cost, cost_before = llm["cost"] or Decimal(0), llm["cost_before"] or Decimal(0)
    return [
        _count_kpi("failures", "Failures", failures["n"], failures["n_before"], detail="failed runs"),
        _count_kpi("opened", "Incidents opened", opened["n"], opened["n_before"]),
        Kpi(
            "mtta",
            "MTTA",
            acknowledged["mean"],
            acknowledged["mean_before"],
            duration_text(acknowledged["mean"]),
            duration_text(acknowledged["mean_before"]),
            detail="mean time to acknowledge",
        ),
        Kpi(
            "mttr",
            "MTTR",
            resolved["mean"],
            resolved["mean_before"],
            duration_text(resolved["mean"]),
            duration_text(resolved["mean_before"]),
            detail="mean time to resolve",
        ),
        Kpi(
            "auto_recovery",
            "Automatic recovery",
            rate,
            rate_before,
            percent_text(rate),
            percent_text(rate_before),
            detail=f"{automatic['n']} of {resolved['n']} resolved without a person",
            lower_is_better=False,
        ),
        Kpi(
            "llm_cost",
            "LLM cost",
            cost,
            cost_before,
            money_text(cost),
            money_text(cost_before),
            detail=f"{llm['calls']} call{'' if llm['calls'] == 1 else 's'}",
        ),
    ]


def failures_by_class_chart(*, window: Window, now: datetime) -> StackedBarChart:
    """Failed runs per hour (24h) or per local day (7d) by error class, the last bucket being the current one so far;
    a run not analysed yet counts as unknown."""
    starts = _bucket_starts(window=window, now=now)
    trunc = TruncHour if window.hourly else TruncDay
    # A run is analysed after it started, so only analyses written since the first bucket (less a margin for the
    # platform's clock) can be these runs'; saying so in the join lets PostgreSQL read just those from an index and
    # hash-join them instead of looking each run's analysis up.
    recent_analysis = FilteredRelation(
        "analysis", condition=Q(analysis__created_at__gte=starts[0] - ANALYSIS_CLOCK_MARGIN)
    )
    rows = (
        PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, started_at__gte=starts[0], started_at__lte=now)
        .annotate(recent_analysis=recent_analysis)
        .annotate(
            bucket=trunc("started_at"),
            error_class=Coalesce("recent_analysis__category", Value(ErrorCategory.UNKNOWN)),
        )
        .values("bucket", "error_class")
        .annotate(failures=Count("started_at"))
        .order_by()
    )
    counts: dict[datetime, dict[str, int]] = {start: {} for start in starts}
    known = {s.key for s in ERROR_SERIES}
    for row in rows:
        bucket = counts.get(row["bucket"].astimezone(UTC))
        if bucket is not None:
            error_class = row["error_class"] if row["error_class"] in known else ErrorCategory.UNKNOWN.value
            bucket[error_class] = bucket.get(error_class, 0) + row["failures"]
    buckets = []
    for index, start in enumerate(starts):
        local = timezone.localtime(start)
        if window.hourly:
            label = f"{local:%H:00}"
            axis_label = label if (len(starts) - 1 - index) % 4 == 0 else ""
        else:
            label = f"{local:%a} {local.day}"
            axis_label = label
        buckets.append(Bucket(label, axis_label, counts[start]))
    return stacked_bars(buckets=buckets, series=ERROR_SERIES)


def top_failing_pipelines_chart(
    *, start: datetime, now: datetime, limit: int = TOP_PIPELINES_LIMIT
) -> HorizontalBarChart:
    """The pipelines with the most failed runs in [start, now], most first."""
    rows = (
        PipelineRun.objects.filter(status=PipelineRun.Status.FAILED, started_at__gte=start, started_at__lte=now)
        .values("pipeline_id", "pipeline__name")
        .annotate(failures=Count("started_at"))
        .order_by("-failures", "pipeline__name", "pipeline_id")[:limit]
    )
    return horizontal_bars(
        items=[BarItem(row["pipeline__name"], row["failures"], f"/pipelines/{row['pipeline_id']}/") for row in rows]
    )


def _bucket_starts(*, window: Window, now: datetime) -> list[datetime]:
    """The starts (in UTC) of the window's chart buckets, oldest first, in the current time zone's hours or days."""
    local = timezone.localtime(now)
    if window.hourly:
        # Stepping in UTC keeps every start on a local hour boundary, across daylight saving changes too.
        current = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        return [current - timedelta(hours=back) for back in range(window.buckets - 1, -1, -1)]
    tz = timezone.get_current_timezone()
    return [
        timezone.make_aware(datetime.combine(local.date() - timedelta(days=back), time.min), tz).astimezone(UTC)
        for back in range(window.buckets - 1, -1, -1)
    ]


def _count_kpi(key: str, label: str, value: int, previous: int, *, detail: str = "") -> Kpi:
    return Kpi(key, label, value, previous, str(value), str(previous), detail=detail)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def duration_text(value: timedelta | None) -> str:
    """A mean duration for people: 42 s, 4 min, 1 h 20 min, 2 d 3 h; '—' when there is none."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def money_text(value: Decimal) -> str:
    if 0 < value < Decimal("0.01"):
        return "< $0.01"
    return f"${value:,.2f}"
