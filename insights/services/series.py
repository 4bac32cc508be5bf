"""Recording metric points and scoring them: each point is judged from itself and the points before it (the
detector), people's notes ("expected", "excluded") apply at once, and the verdict becomes an occurrence, kept open
until the metric is back inside its band for the series' `recover_after` buckets."""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db import transaction

from insights.anomalies.detector import RULES, Detection, KindRule, detect
from insights.anomalies.rules import Direction
from insights.models import Point, Series, SeriesNote

# Buckets of history scored with each new point: the detector's training window and season backtest, and more.
HISTORY: dict[str, int] = {Series.Granularity.DAY: 120, Series.Granularity.HOUR: 24 * 7 * 6}
# The detector's kind for each metric, by granularity (day, hour).
KIND: dict[str, tuple[str, str]] = {
    Series.Metric.ROW_COUNT: ("volume_daily", "volume_hourly"),
    Series.Metric.ROWS_WRITTEN: ("volume_daily", "volume_hourly"),
    Series.Metric.FRESHNESS_LAG: ("freshness_lag_minutes", "freshness_lag_minutes"),
    Series.Metric.DURATION: ("duration_seconds", "duration_seconds"),
    Series.Metric.RUNS: ("runs_per_day", "runs_per_day"),
    Series.Metric.NULL_RATIO: ("ratio", "ratio"),
    Series.Metric.DISTINCT_RATIO: ("ratio", "ratio"),
    Series.Metric.SUCCESS_RATE: ("ratio", "ratio"),
    Series.Metric.RETRIES: ("count", "count"),
}
DIRECTIONS: dict[str, Direction] = {"both": "both", "spike": "spike", "drop": "drop"}
# Metrics whose change matters one way only, unless the series says otherwise.
DEFAULT_DIRECTION: dict[str, Direction] = {
    Series.Metric.NULL_RATIO: "spike",
    Series.Metric.SUCCESS_RATE: "drop",
    Series.Metric.FRESHNESS_LAG: "spike",
    Series.Metric.RETRIES: "spike",
}


def series_kind(series: Series) -> str:
    day, hour = KIND[series.metric]
    return day if series.granularity == Series.Granularity.DAY else hour


def series_rule(series: Series) -> KindRule:
    """The detector's rule for the kind, with the series' direction and minimum change."""
    rule = RULES[series_kind(series)]
    direction: Direction = DIRECTIONS.get(series.direction) or DEFAULT_DIRECTION.get(series.metric, rule.direction)
    rule = replace(rule, direction=direction)
    if series.min_change_percent is not None and rule.relative:
        change = series.min_change_percent / 100
        rule = replace(rule, min_spike=change, min_drop=min(change, 0.95))
    if series.min_change_absolute is not None and not rule.relative:
        rule = replace(rule, min_spike=series.min_change_absolute, min_drop=series.min_change_absolute)
    return rule


def _too_small(series: Series, value: float, detection: Detection) -> bool:
    """A change under the series' absolute minimum is no anomaly, whatever the band (the detector judges counts by
    ratio: a drop from 12 rows to 3 is large to it and may not matter to anyone)."""
    minimum = series.min_change_absolute
    return minimum is not None and abs(value - detection.expected) < minimum


@dataclass(frozen=True)
class Scored:
    point: Point
    detection: Detection


def overrides_of(series: Series, times: list[datetime]) -> dict[int, str]:
    """Point index -> "expected" / "excluded" from the series' notes (an exclusion wins over an expectation)."""
    notes = list(SeriesNote.objects.filter(series=series, end__gte=times[0], start__lte=times[-1])) if times else []
    return _overrides(notes, times)


def series_detect(series: Series, points: list[Point]) -> list[Detection]:
    """The detector's verdicts on these points (in time order), with the series' rule and the people's notes."""
    times = [p.t for p in points]
    return detect(
        [(p.t, p.value) for p in points],
        series_kind(series),
        series.granularity,
        series.sensitivity,
        overrides=overrides_of(series, times),
        rule=series_rule(series),
    )


def _history(series: Series, until: datetime) -> list[Point]:
    recent = Point.objects.filter(series=series, t__lte=until).order_by("-t")[: HISTORY[series.granularity]]
    return list(reversed(recent))


def _store(point: Point, detection: Detection, series: Series) -> None:
    point.state = detection.state
    point.anomalous = detection.anomalous and not _too_small(series, point.value, detection)
    point.expected, point.low, point.high = detection.expected, detection.low, detection.high
    point.score = detection.score if math.isfinite(detection.score) else None
    point.season = detection.season


def point_record(
    *, series: Series, t: datetime, value: float, run_id: int | None = None, check_run_id: int | None = None
) -> Scored:
    """Record (or correct) the value of a bucket and score it at once. Scoring happens in the caller's transaction;
    what it means for incidents is left to the caller (see anomalies.series_verdict_report)."""
    with transaction.atomic():
        point, _ = Point.objects.update_or_create(
            series=series, t=t, defaults={"value": float(value), "run_id": run_id, "check_run_id": check_run_id}
        )
        history = _history(series, t)
        detection = series_detect(series, history)[-1]
        _store(point, detection, series)
        point.save()
        if series.last_point_at is None or t >= series.last_point_at:
            series.last_point_at = t
            series.season = detection.season
            series.save(update_fields=["last_point_at", "season", "updated_at"])
    return Scored(point=point, detection=detection)


def points_record(
    *, values: list[tuple[Series, float]], t: datetime, run_id: int | None = None, check_run_id: int | None = None
) -> list[Scored]:
    """`point_record` for several series measured at once (one check's metrics): the points written in one
    statement, their histories and notes read in one query each, each scored, the verdicts written in one
    statement. Returns each series' verdict, in the order given."""
    if not values:
        return []
    series_by_id = {series.pk: series for series, _ in values}
    with transaction.atomic():
        Point.objects.bulk_create(
            [
                Point(series=series, t=t, value=float(value), run_id=run_id, check_run_id=check_run_id)
                for series, value in values
            ],
            update_conflicts=True,
            unique_fields=["series", "t"],
            update_fields=["value", "run_id", "check_run_id"],
        )
        histories = _histories(list(series_by_id.values()), until=t)
        notes = _notes(list(series_by_id), until=t)
        scored: list[Scored] = []
        for series, _ in values:
            history = histories.get(series.pk, [])
            times = [p.t for p in history]
            detection = detect(
                [(p.t, p.value) for p in history],
                series_kind(series),
                series.granularity,
                series.sensitivity,
                overrides=_overrides(notes.get(series.pk, []), times),
                rule=series_rule(series),
            )[-1]
            point = history[-1]
            _store(point, detection, series)
            scored.append(Scored(point=point, detection=detection))
            if series.last_point_at is None or t >= series.last_point_at:
                series.last_point_at, series.season = t, detection.season
        Point.objects.bulk_update(
            [item.point for item in scored], ["state", "anomalous", "expected", "low", "high", "score", "season"]
        )
        Series.objects.bulk_update(list(series_by_id.values()), ["last_point_at", "season"])
    return scored


def _histories(series: list[Series], *, until: datetime) -> dict[int, list[Point]]:
    """Each series' last HISTORY buckets up to `until`, oldest first, in one query (bounded by time: twice the
    buckets' span, so a series with gaps still gets its share)."""
    spans: dict[str, timedelta] = {
        Series.Granularity.DAY: timedelta(days=1),
        Series.Granularity.HOUR: timedelta(hours=1),
    }
    since = min(until - 2 * HISTORY[item.granularity] * spans[item.granularity] for item in series)
    found: dict[int, list[Point]] = defaultdict(list)
    for point in Point.objects.filter(series__in=series, t__gt=since, t__lte=until).order_by("series_id", "t"):
        found[point.series_id].append(point)
    limits = {item.pk: HISTORY[item.granularity] for item in series}
    return {series_id: points[-limits[series_id] :] for series_id, points in found.items()}


def _notes(series_ids: list[int], *, until: datetime) -> dict[int, list[SeriesNote]]:
    found: dict[int, list[SeriesNote]] = defaultdict(list)
    for note in SeriesNote.objects.filter(series_id__in=series_ids, start__lte=until):
        found[note.series_id].append(note)
    return found


def _overrides(notes: list[SeriesNote], times: list[datetime]) -> dict[int, str]:
    """Point index -> "expected" / "excluded" from these notes (an exclusion wins over an expectation)."""
    found: dict[int, str] = {}
    for note in sorted(notes, key=lambda n: n.kind == SeriesNote.Kind.EXCLUDED):
        for index, moment in enumerate(times):
            if note.start <= moment <= note.end:
                found[index] = note.kind
    return found


def points_extend(*, series: Series, points: list[tuple[datetime, float]]) -> Scored:
    """Record several buckets at once (a backfill, a day's summary after a pause), scored in one pass; returns the
    latest one's verdict for the caller to act on."""
    assert points, "points_extend needs at least one point"
    with transaction.atomic():
        Point.objects.bulk_create(
            [Point(series=series, t=t, value=float(value)) for t, value in points],
            update_conflicts=True,
            unique_fields=["series", "t"],
            update_fields=["value"],
        )
        series_rescore(series, since=min(t for t, _ in points))
        latest = Point.objects.filter(series=series).order_by("-t").first()
        assert latest is not None
        series.last_point_at, series.season = latest.t, latest.season
        series.save(update_fields=["last_point_at", "season", "updated_at"])
    detection = Detection(
        anomalous=latest.anomalous,
        expected=latest.expected if latest.expected is not None else latest.value,
        low=latest.low if latest.low is not None else latest.value,
        high=latest.high if latest.high is not None else latest.value,
        score=latest.score or 0.0,
        season=latest.season,
        state="scored" if latest.state == Point.State.SCORED else "learning",
    )
    return Scored(point=latest, detection=detection)


def series_rescore(series: Series, *, since: datetime) -> list[Point]:
    """Score again every point from `since` on (after a note changed what the detector may learn from); returns
    the points whose verdict changed."""
    earlier = Point.objects.filter(series=series, t__lt=since).order_by("-t")[: HISTORY[series.granularity]]
    window = [*reversed(earlier), *Point.objects.filter(series=series, t__gte=since).order_by("t")]
    changed, scored = [], []
    for point, detection in zip(window, series_detect(series, window), strict=True):
        if point.t < since:
            continue
        before = (point.anomalous, point.state)
        _store(point, detection, series)
        scored.append(point)
        if before != (point.anomalous, point.state):
            changed.append(point)
    Point.objects.bulk_update(scored, ["state", "anomalous", "expected", "low", "high", "score", "season"], 500)
    return changed


def bucket_start(moment: datetime, granularity: str) -> datetime:
    """The start (UTC) of the day or hour `moment` falls in."""
    moment = moment.astimezone(UTC)
    if granularity == Series.Granularity.DAY:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)
