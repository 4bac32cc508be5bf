"""What a scored point means for incidents: an anomalous point is an occurrence (one incident per series while the
problem lasts, each anomalous bucket counted once), and the incident resolves only after the metric has been back
inside its band for the series' `recover_after` buckets in a row."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import Occurrence
from incidents.services import OccurrenceReport, occurrence_intake, occurrences_recovered
from insights.models import Point, Series
from insights.services.series import Scored

EVIDENCE_POINTS = 30  # the stretch of the series an incident shows around its point
METRIC_WORDS: dict[str, str] = {
    Series.Metric.ROW_COUNT: "rows",
    Series.Metric.ROWS_WRITTEN: "rows written",
    Series.Metric.FRESHNESS_LAG: "freshness lag",
    Series.Metric.NULL_RATIO: "null ratio",
    Series.Metric.DISTINCT_RATIO: "distinct ratio",
    Series.Metric.DURATION: "run duration",
    Series.Metric.RUNS: "runs per day",
    Series.Metric.SUCCESS_RATE: "success rate",
    Series.Metric.RETRIES: "reruns",
}
SEASON_WORDS = {
    "none": "no season",
    "day_of_week": "same weekday",
    "day_type": "weekday or weekend",
    "month_end": "month end",
    "hour_of_day": "same hour of day",
    "hour_of_week": "same hour of the week",
}


def group_key(series: Series) -> str:
    return f"anomaly:{series.key}"


def subject_label(series: Series) -> str:
    """What the series watches, in words: "pl_daily_sales: run duration", "orders / orders: rows"."""
    if series.subject == Series.Subject.PIPELINE and series.pipeline is not None:
        where = series.pipeline.name
    else:
        where = f"{series.contract.name if series.contract else '?'} / {series.table}"
    column = f".{series.column}" if series.column else ""
    return f"{where}{column}: {METRIC_WORDS.get(series.metric, series.metric)}"


def _change(point: Point) -> str:
    if point.expected is None:
        return ""
    if point.expected > 0:
        percent = round((point.value - point.expected) / point.expected * 100)
        return f"{abs(percent)} % {'above' if percent > 0 else 'below'} expected"
    return "above expected" if point.value > point.expected else "below expected"


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evidence_of(series: Series, point: Point) -> dict:
    """The series around the point (value, band, verdict of each bucket), the season and the producing run."""
    stretch = list(Point.objects.filter(series=series, t__lte=point.t).order_by("-t")[:EVIDENCE_POINTS])
    run = point.run
    return {
        "series_id": series.pk,
        "series_key": series.key,
        "metric": series.metric,
        "granularity": series.granularity,
        "t": point.t.isoformat(),
        "value": _number(point.value),
        "expected": _number(point.expected),
        "low": _number(point.low),
        "high": _number(point.high),
        "score": _number(point.score),
        "season": point.season,
        "season_words": SEASON_WORDS.get(point.season, point.season),
        "producing_run": run.external_run_id if run else None,
        "check_run": point.check_run_id,
        "points": [
            {
                "t": p.t.isoformat(),
                "value": _number(p.value),
                "expected": _number(p.expected),
                "low": _number(p.low),
                "high": _number(p.high),
                "anomalous": p.anomalous,
            }
            for p in reversed(stretch)
        ],
    }


def _severity(series: Series, point: Point) -> str:
    if series.metric in (Series.Metric.ROW_COUNT, Series.Metric.ROWS_WRITTEN) and point.value == 0:
        return Severity.HIGH
    if series.metric in (Series.Metric.FRESHNESS_LAG, Series.Metric.SUCCESS_RATE):
        return Severity.HIGH
    return Severity.MEDIUM


def anomaly_report(series: Series, point: Point) -> OccurrenceReport:
    label = subject_label(series)
    change = _change(point)
    when = f"{point.t:%a %Y-%m-%d}" if series.granularity == Series.Granularity.DAY else f"{point.t:%a %H:00}"
    return OccurrenceReport(
        source=Occurrence.Source.ANOMALY,
        group_key=group_key(series),
        dedup_key=f"anomaly:{series.pk}:{point.t.isoformat()}",
        title=f"{label} {change or 'outside its usual band'} ({when})",
        severity=_severity(series, point),
        category=ErrorCategory.DATA_QUALITY,
        subject=f"series:{series.pk}",
        subject_label=label,
        detected_at=point.t,
        evidence=evidence_of(series, point),
        connection_id=series.pipeline.connection_id if series.pipeline else None,
        pipeline_id=series.pipeline_id,
        run_id=point.run_id,
    )


def series_verdict_report(scored: Scored, *, series: Series) -> None:
    """Act on a freshly scored latest point: count an anomaly in the series' incident, or count a bucket back in
    band and, after `recover_after` of them in a row, resolve that incident. Points scored while learning, and
    series switched off, never page."""
    point, detection = scored.point, scored.detection
    if series.last_point_at is not None and point.t < series.last_point_at:
        return  # a late correction of an older bucket: the latest verdict stands
    with transaction.atomic():
        locked = Series.objects.select_for_update().get(pk=series.pk)
        if detection.state == "learning":
            locked.state, locked.in_band_streak = Series.State.LEARNING, 0
        elif point.anomalous:
            locked.state, locked.in_band_streak = Series.State.ANOMALOUS, 0
        else:
            locked.in_band_streak += 1
            if locked.state != Series.State.ANOMALOUS or locked.in_band_streak >= locked.recover_after:
                locked.state = Series.State.NORMAL
        locked.save(update_fields=["state", "in_band_streak", "updated_at"])
        if point.anomalous and locked.enabled:
            occurrence_intake(report=anomaly_report(locked, point))
        elif locked.state == Series.State.NORMAL and detection.state != "learning":
            occurrences_recovered(
                group_key=group_key(locked),
                recovered_at=point.t if point.t > timezone.now() else timezone.now(),
                subject_label=f"{subject_label(locked)} back in its band for {locked.in_band_streak} bucket(s)",
            )


def series_back_to_normal(*, series: Series, at: datetime, why: str) -> bool:
    """A person said the anomaly was expected: the series is normal now and its incident resolves."""
    Series.objects.filter(pk=series.pk).update(state=Series.State.NORMAL, in_band_streak=0)
    return occurrences_recovered(group_key=group_key(series), recovered_at=at, subject_label=why)
