"""A series' page: its band chart, season and state, how it is watched, its open incident, what people said about
it, and (for those who may) the form to say more."""

from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.urls import reverse

from aimsweb.charts import band_chart
from insights.forms import SeriesNoteForm
from insights.models import Point, Series
from insights.selectors import series_notes, series_open_incident, series_points
from insights.services.anomalies import SEASON_WORDS, subject_label

CHART_POINTS = 90
ANNOTATE_PERMISSION = "insights.annotate_series"


def _as_chart_point(point: Point) -> dict[str, Any]:
    return {
        "t": point.t,
        "value": point.value,
        "expected": point.expected,
        "low": point.low,
        "high": point.high,
        "anomalous": point.anomalous,
    }


def series_subject_url(series: Series) -> str:
    """The page of what the series watches: its pipeline's, or its contract's."""
    if series.pipeline_id is not None:
        return reverse("monitors:pipeline-detail", args=[series.pipeline_id])
    if series.contract_id is not None:
        return reverse("contracts:detail", args=[series.contract_id])
    return ""


def series_page(
    *, series: Series, user: AbstractUser | AnonymousUser, form: SeriesNoteForm | None = None
) -> dict[str, Any]:
    """What the series page shows; `form` is the bound note form of a post that failed."""
    points = series_points(series_id=series.pk, limit=CHART_POINTS)
    can_annotate = user.has_perm(ANNOTATE_PERMISSION)
    return {
        "series": series,
        "label": subject_label(series),
        "subject_url": series_subject_url(series),
        "season_words": SEASON_WORDS.get(series.season, series.season) or "not chosen yet",
        "chart": band_chart([_as_chart_point(p) for p in points]),
        "latest": points[-1] if points else None,
        "open_incident": series_open_incident(series=series),
        "notes": list(series_notes(series_id=series.pk)),
        "admin_url": reverse("admin:insights_series_change", args=[series.pk])
        if user.has_perm("insights.change_series")
        else "",
        "can_annotate": can_annotate,
        "note_form": (form or SeriesNoteForm()) if can_annotate else None,
    }
