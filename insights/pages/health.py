"""The Health page: every pipeline and table with its score, the components it is made of, its trend and its open
incidents, worst first; filtered by kind, band and a name search; and the dashboard's health tiles."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone

from aimsweb.charts import sparkline
from aimsweb.querystring import positive_int, query_string
from incidents.models import Occurrence
from insights.health import (
    LABELS,
    TREND_DAYS,
    WEIGHTS,
    WINDOW_DAYS,
    Facts,
    pipeline_components,
    table_components,
)
from insights.models import Series
from insights.selectors import (
    MISSED_RUN,
    HealthFilters,
    SeriesLink,
    SubjectHealth,
    health_list,
    open_incident_counts_by_source,
)

SUBJECTS_PER_PAGE = 50
GOOD, FAIR = 90, 70  # a score at or above GOOD is good, at or above FAIR fair, below it poor
BANDS = {"poor": f"Poor (below {FAIR})", "fair": f"Fair ({FAIR} to {GOOD - 1})", "good": f"Good ({GOOD} or more)"}
BAND_NAMES = {"poor": "Poor", "fair": "Fair", "good": "Good", "none": "No score"}
TREND_WIDTH, TREND_HEIGHT = 112, 28
# The components each kind is scored on, as the formula computes them (it returns every one, None where it does not
# apply), and how a table's "success" reads.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PIPELINE_COMPONENTS = tuple(pipeline_components(Facts(), start=_EPOCH, end=_EPOCH))
TABLE_COMPONENTS = tuple(table_components(Facts(), start=_EPOCH, end=_EPOCH))
TABLE_LABELS = {**LABELS, "success": "Row counts in their band"}


def score_band(score: int | None) -> str:
    """ "good", "fair" or "poor"; "none" for a subject with nothing to score yet."""
    if score is None:
        return "none"
    return "good" if score >= GOOD else "fair" if score >= FAIR else "poor"


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    percent: int | None  # None: does not apply (nothing to measure)
    weight: int


@dataclass(frozen=True)
class HealthRow:
    kind: str
    kind_label: str
    name: str
    url: str
    score: int | None
    band: str
    band_label: str
    components: list[Component]
    trend_path: str
    trend_words: str
    open_incidents: int
    series: list[SeriesLink]


def _trend_words(trend: list[int | None]) -> str:
    known = [score for score in trend if score is not None]
    if not known:
        return f"No score in the last {TREND_DAYS} days."
    return (
        f"Score each day of the last {TREND_DAYS}: from {known[0]} to {known[-1]}, "
        f"lowest {min(known)}, highest {max(known)}."
    )


def _row(subject: SubjectHealth) -> HealthRow:
    assert subject.health is not None  # health_list scores every subject
    health = subject.health
    table = subject.kind == Series.Subject.TABLE
    labels = TABLE_LABELS if table else LABELS
    band = score_band(health.score)
    if table:
        url = reverse("contracts:detail", args=[subject.contract_id])
    else:
        url = reverse("monitors:pipeline-detail", args=[subject.pipeline_id])
    return HealthRow(
        kind=subject.kind,
        kind_label=Series.Subject(subject.kind).label,
        name=subject.name,
        url=url,
        score=health.score,
        band=band,
        band_label=BAND_NAMES[band],
        components=[
            Component(
                key=key,
                label=labels[key],
                percent=None if value is None else round(100 * value),
                weight=WEIGHTS[key],
            )
            for key, value in health.components.items()
        ],
        trend_path=sparkline(
            [None if s is None else float(s) for s in health.trend],
            width=TREND_WIDTH,
            height=TREND_HEIGHT,
            low=0,
            high=100,
        ),
        trend_words=_trend_words(health.trend),
        open_incidents=subject.open_incidents,
        series=subject.series,
    )


def _worst_first(row: HealthRow) -> tuple[bool, int, str]:
    return (row.score is None, row.score or 0, row.name.lower())


def health_filters(params: Mapping[str, Any]) -> tuple[HealthFilters, str]:
    """The page's filters from its query string, and the band asked for; unknown values are ignored."""
    kind = str(params.get("kind", "") or "")
    band = str(params.get("band", "") or "")
    filters = HealthFilters(
        kind=kind if kind in Series.Subject.values else "", search=str(params.get("q", "") or "").strip()[:200]
    )
    return filters, band if band in BANDS else ""


def weights_table() -> list[dict[str, Any]]:
    """The formula's components, their weights and which kinds they score, for the page's explanation."""
    return [
        {
            "label": LABELS[key],
            "weight": weight,
            "pipelines": key in PIPELINE_COMPONENTS,
            "tables": key in TABLE_COMPONENTS,
        }
        for key, weight in WEIGHTS.items()
    ]


def health_page(*, params: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """One page of subjects, worst score first (those without a score last), for these query-string params."""
    now = now or timezone.now()
    filters, band = health_filters(params)
    rows = sorted((_row(subject) for subject in health_list(filters=filters, now=now)), key=_worst_first)
    if band:
        rows = [row for row in rows if row.band == band]
    paginator = Paginator(rows, SUBJECTS_PER_PAGE)
    page = paginator.get_page(positive_int(params.get("page")) or 1)
    filters_query = query_string({"kind": filters.kind, "band": band, "q": filters.search})
    return {
        "rows": list(page.object_list),
        "page": page,
        "kind": filters.kind,
        "band": band,
        "search": filters.search,
        "kinds": Series.Subject.choices,
        "bands": list(BANDS.items()),
        "filtered": bool(filters.kind or filters.search or band),
        "filters": filters_query,
        "weights": weights_table(),
        "window_days": WINDOW_DAYS,
        "trend_days": TREND_DAYS,
        "good": GOOD,
        "fair": FAIR,
        "trend_width": TREND_WIDTH,
        "trend_height": TREND_HEIGHT,
    }


def health_tiles(*, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard's tiles: pipelines and tables scoring below FAIR, open anomaly and missed-run incidents."""
    now = now or timezone.now()
    subjects = health_list(filters=HealthFilters(), now=now)
    poor = [s for s in subjects if s.health is not None and s.health.score is not None and s.health.score < FAIR]
    counts = open_incident_counts_by_source(sources=[Occurrence.Source.ANOMALY, MISSED_RUN])
    return {
        "poor_pipelines": sum(s.kind == Series.Subject.PIPELINE for s in poor),
        "poor_tables": sum(s.kind == Series.Subject.TABLE for s in poor),
        "open_anomalies": counts[Occurrence.Source.ANOMALY],
        "open_missed_runs": counts[MISSED_RUN],
        "fair": FAIR,
    }
