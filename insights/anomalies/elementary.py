"""Elementary's volume/freshness anomaly test, ported as a baseline (dbt-data-reliability 0.25.1, see
../shared/reference/data-contracts.md section 4): each bucket's z-score against the mean and sample standard
deviation of a training window that ends at, and includes, the bucket itself."""

import math
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

Seasonality = Literal["none", "day_of_week", "hour_of_day", "hour_of_week"]

DAYS_BACK = 14
SENSITIVITY = 3.0
# Freshness metrics only alert upwards; everything else in both directions (the default anomaly_direction).
SPIKE_ONLY_KINDS = frozenset({"freshness_lag_minutes"})


def elementary_scores(
    points: Sequence[tuple[datetime, float]], *, seasonality: Seasonality = "none", days_back: int = DAYS_BACK
) -> list[float | None]:
    """Each bucket's anomaly score: NULL (None) with a single training point, 0 when the deviation is 0."""
    if seasonality in ("day_of_week", "hour_of_week"):
        days_back *= 7  # get_days_back.sql widens the window so each weekday keeps days_back samples
    span = timedelta(days=days_back)
    scores: list[float | None] = []
    for i, (moment, value) in enumerate(points):
        season = _season(moment, seasonality)
        window = [v for t, v in points[: i + 1] if moment - t < span and _season(t, seasonality) == season]
        if len(window) < 2:
            scores.append(None)
            continue
        deviation = statistics.stdev(window)
        scores.append(0.0 if deviation == 0 else (value - statistics.fmean(window)) / deviation)
    return scores


def elementary_flags(
    points: Sequence[tuple[datetime, float]],
    kind: str,
    *,
    seasonality: Seasonality = "none",
    sensitivity: float = SENSITIVITY,
) -> list[bool]:
    """Flags as the test reports them: |score| above the sensitivity (upwards only for freshness)."""
    flags = []
    for score in elementary_scores(points, seasonality=seasonality):
        if score is None or math.isnan(score):
            flags.append(False)
        elif kind in SPIKE_ONLY_KINDS:
            flags.append(score > sensitivity)
        else:
            flags.append(abs(score) > sensitivity)
    return flags


def seasonal_choice(granularity: str) -> Seasonality:
    """The seasonality a user would configure: day of week for daily buckets, hour of day for hourly ones."""
    return "day_of_week" if granularity == "day" else "hour_of_day"


def _season(moment: datetime, seasonality: Seasonality) -> tuple[int, ...]:
    if seasonality == "day_of_week":
        return (moment.weekday(),)
    if seasonality == "hour_of_day":
        return (moment.hour,)
    if seasonality == "hour_of_week":
        return (moment.weekday(), moment.hour)
    return ()
