"""The dashboard page: open incidents by severity and age, KPIs of a time window, and failures charted.

`dashboard_page` needs no request, so the websocket consumer re-renders the live part with it too. It runs a fixed
number of queries (eleven, one of them the open incidents' pending retries) whatever the data size: every number is
aggregated in the database (incidents.selectors).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.urls import reverse
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.durations import duration_text
from incidents.charts import BarItem, Bucket, HorizontalBarChart, Series, StackedBarChart, horizontal_bars, stacked_bars
from incidents.models import Incident
from incidents.pages.retries import retry_badges_attach
from incidents.selectors import incident_pending_attempts
from incidents.selectors.dashboard import (
    failed_run_counts_by_class,
    failed_run_counts_by_pipeline,
    open_incident_counts,
    open_incident_list_recent,
    window_figures,
)

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
# Error classes in the legend, unknown (not analysed yet) last.
ERROR_SERIES = tuple(Series(c.value, str(c.label)) for c in ErrorCategory if c != ErrorCategory.UNKNOWN) + (
    Series(ErrorCategory.UNKNOWN.value, str(ErrorCategory.UNKNOWN.label)),
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


Figure = TypeVar("Figure", int, float, Decimal, timedelta)


@dataclass(frozen=True)
class Kpi(Generic[Figure]):
    """One figure of the window and the same figure over the window before it (None: nothing to measure)."""

    key: str
    label: str
    value: Figure | None
    previous: Figure | None
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


def dashboard_page(*, window: str, now: datetime | None = None) -> dict[str, Any]:
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


def open_incident_matrix(*, now: datetime) -> OpenMatrix:
    """Open incidents counted by severity × time since opened."""
    by_severity = open_incident_counts(now=now, ages=[(newer, older) for _, newer, older in AGE_BUCKETS])
    # Info incidents are shown only when there are some: the matrix is about what needs attention.
    severities = [*MATRIX_SEVERITIES, *([Severity.INFO] if Severity.INFO in by_severity else [])]
    rows = []
    for severity in severities:
        cells = by_severity.get(severity.value, (0,) * len(AGE_BUCKETS))
        rows.append(MatrixRow(severity.value, str(severity.label), cells, sum(cells)))
    return OpenMatrix(
        ages=tuple(label for label, _, _ in AGE_BUCKETS), rows=tuple(rows), total=sum(r.total for r in rows)
    )


def recent_open_incidents(*, now: datetime, limit: int = RECENT_OPEN_LIMIT) -> list[OpenIncident]:
    """The most recently opened open incidents, with their pipeline and age."""
    incidents = list(open_incident_list_recent(limit=limit))
    retry_badges_attach(incidents, incident_pending_attempts(incident_ids=[incident.pk for incident in incidents]))
    return [OpenIncident(incident, now - incident.opened_at) for incident in incidents]


def dashboard_kpis(*, window: Window, now: datetime) -> list[Kpi[Any]]:
    """Failures, incidents opened, MTTA, MTTR, automatic recovery and LLM cost over the window and the one before."""
    figures = window_figures(start=now - window.length, now=now)
    rate = _share(figures.auto_resolved, figures.resolved)
    rate_before = _share(figures.auto_resolved_before, figures.resolved_before)
    return [
        _count_kpi("failures", "Failures", figures.failures, figures.failures_before, detail="failed runs"),
        _count_kpi("opened", "Incidents opened", figures.opened, figures.opened_before),
        Kpi(
            "mtta",
            "MTTA",
            figures.mtta,
            figures.mtta_before,
            duration_text(figures.mtta),
            duration_text(figures.mtta_before),
            detail="mean time to acknowledge",
        ),
        Kpi(
            "mttr",
            "MTTR",
            figures.mttr,
            figures.mttr_before,
            duration_text(figures.mttr),
            duration_text(figures.mttr_before),
            detail="mean time to resolve",
        ),
        Kpi(
            "auto_recovery",
            "Automatic recovery",
            rate,
            rate_before,
            percent_text(rate),
            percent_text(rate_before),
            detail=f"{figures.auto_resolved} of {figures.resolved} resolved without a person",
            lower_is_better=False,
        ),
        Kpi(
            "llm_cost",
            "LLM cost",
            figures.llm_cost,
            figures.llm_cost_before,
            money_text(figures.llm_cost),
            money_text(figures.llm_cost_before),
            detail=f"{figures.llm_calls} call{'' if figures.llm_calls == 1 else 's'}",
        ),
    ]


def failures_by_class_chart(*, window: Window, now: datetime) -> StackedBarChart:
    """Failed runs per hour (24h) or per local day (7d) by error class, the last bucket being the current one so far;
    a run not analysed yet counts as unknown."""
    starts = _bucket_starts(window=window, now=now)
    rows = failed_run_counts_by_class(since=starts[0], now=now, hourly=window.hourly)
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
    """The pipelines with the most failed runs in [start, now], most first, each linking to its page."""
    rows = failed_run_counts_by_pipeline(start=start, now=now, limit=limit)
    return horizontal_bars(
        items=[
            BarItem(
                row["pipeline__name"], row["failures"], reverse("monitors:pipeline-detail", args=[row["pipeline_id"]])
            )
            for row in rows
        ]
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


def _count_kpi(key: str, label: str, value: int, previous: int, *, detail: str = "") -> Kpi[int]:
    return Kpi(key, label, value, previous, str(value), str(previous), detail=detail)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def money_text(value: Decimal) -> str:
    if 0 < value < Decimal("0.01"):
        return "< $0.01"
    return f"${value:,.2f}"
