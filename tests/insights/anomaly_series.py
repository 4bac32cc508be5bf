"""Synthetic operations series for the anomaly tests: seeded, with the documented shapes (weekends, month ends)."""

import random
from datetime import UTC, datetime, timedelta

from insights.anomalies.calendar import last_business_day

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def daily_volume(
    days: int,
    *,
    weekend: float = 1.0,
    month_end: float = 1.0,
    level: float = 100_000.0,
    noise: float = 0.03,
    seed: int = 7,
    start: datetime = START,
) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    points: list[tuple[datetime, float]] = []
    for day in range(days):
        moment = start + timedelta(days=day)
        factor = weekend if moment.weekday() >= 5 else 1.0
        if last_business_day(moment.date()):
            factor *= month_end
        points.append((moment, round(level * factor * (1 + rng.gauss(0, noise)))))
    return points


def hourly_volume(hours: int, *, seed: int = 7) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    curve = [0.2] * 7 + [0.6, 0.9, 1.0, 1.0, 0.9, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4] + [0.3] * 6
    return [
        (START + timedelta(hours=h), round(20_000 * curve[h % 24] * (1 + rng.gauss(0, 0.03)))) for h in range(hours)
    ]


def scaled(points: list[tuple[datetime, float]], indexes: range, factor: float) -> list[tuple[datetime, float]]:
    return [(t, v * factor if i in indexes else v) for i, (t, v) in enumerate(points)]
