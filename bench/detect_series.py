"""Anomaly scoring speed on 10,000 synthetic daily series, and detection quality on the dev corpus beside Elementary.

Speed: 10,000 seeded series of 90 daily points (a weekly season of varying depth, noise, a trend, and in some a
few drops to a share of the usual level). AIMS scores every point of every series with `detect`; the ceiling is the
pass a naive monitor makes: for each point, the mean and standard deviation of the points before it (running sums)
and a 3-sigma flag. Both are timed in the same run, alternating, median of ROUNDS. Metric `detect_10k_series`
(seconds; ratio AIMS / plain pass; issue 17 states no target, so it is reported).

Quality: AIMS (sensitivity medium) and Elementary's method with its day-of-week / hour-of-day seasonality (the
stronger of its two set-ups) on the dev corpus, scored as the corpus README says (bench/anomaly_eval.py). Metrics
`anomaly_*_dev`: value AIMS, ceiling Elementary, ratio value / ceiling, target issue 17's acceptance figure.
No database.

    python -m bench.run detect_series
"""

import math
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import anomaly_eval
from bench.common import Metric
from insights.anomalies.detector import detect
from insights.anomalies.scoring import Figures, score

SERIES = 10_000
POINTS = 90
ROUNDS = 3
SEED = 17
Z_FLAG = 3.0
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday

Series = list[tuple[datetime, float]]


@dataclass
class Timing:
    series: int
    points: int
    aims: list[float]
    plain: list[float]
    aims_flags: int
    plain_flags: int


def synthetic_series(count: int, points: int, seed: int = SEED) -> list[Series]:
    """Seeded daily volumes: level, weekend share, noise, trend and (one series in four) a few dropped days vary."""
    rng = random.Random(seed)
    series = []
    for _ in range(count):
        level = 10 ** rng.uniform(3, 7)
        weekend, noise, trend = rng.choice([1.0, 0.6, 0.3]), rng.uniform(0.01, 0.08), rng.uniform(-0.003, 0.006)
        drops = set(rng.sample(range(30, points), 3)) if rng.random() < 0.25 and points > 33 else set()
        values = []
        for day in range(points):
            moment = START + timedelta(days=day)
            factor = (weekend if moment.weekday() >= 5 else 1.0) * (1 + trend) ** day
            factor *= rng.uniform(0.0, 0.5) if day in drops else 1.0
            values.append((moment, float(round(max(0.0, level * factor * (1 + rng.gauss(0, noise)))))))
        series.append(values)
    return series


def plain_pass(series: list[Series]) -> int:
    """The naive monitor: each point against the mean and deviation of the points before it; flags counted."""
    flags = 0
    for points in series:
        total = squares = 0.0
        for count, (_, value) in enumerate(points):
            if count >= 2:
                mean = total / count
                deviation = math.sqrt(max(squares / count - mean * mean, 0.0))
                flags += abs(value - mean) > Z_FLAG * deviation
            total += value
            squares += value * value
    return flags


def aims_pass(series: list[Series]) -> int:
    return sum(d.anomalous for points in series for d in detect(points, "volume_daily", "day"))


def measure(*, count: int, points: int, rounds: int) -> Timing:
    series = synthetic_series(count, points)
    timing = Timing(count, count * points, [], [], 0, 0)
    for _ in range(rounds):
        started = time.perf_counter()
        timing.aims_flags = aims_pass(series)
        timing.aims.append(time.perf_counter() - started)
        started = time.perf_counter()
        timing.plain_flags = plain_pass(series)
        timing.plain.append(time.perf_counter() - started)
    return timing


def quality_metrics(corpus_path: Path | None = None) -> list[Metric]:
    corpus = anomaly_eval.load(corpus_path or anomaly_eval.DEV_CORPUS)
    aims = score(anomaly_eval.aims_results(corpus))
    elementary = score(anomaly_eval.elementary_results(corpus, seasonal=True))
    print(anomaly_eval.table("AIMS (sensitivity medium)", aims))
    print(anomaly_eval.table("Elementary, day_of_week / hour_of_day", elementary))
    return [
        _figure("precision", aims["overall"], elementary["overall"], ">="),
        _figure("recall", aims["overall"], elementary["overall"], ">="),
        _figure("sustained_recall", aims["overall"], elementary["overall"], ">="),
        _figure("false_alarms_per_90", aims["overall"], elementary["overall"], "<="),
    ]


def run() -> list[Metric]:
    timing = measure(count=SERIES, points=POINTS, rounds=ROUNDS)
    aims, plain = statistics.median(timing.aims), statistics.median(timing.plain)
    print(
        f"{timing.series:,} series, {timing.points:,} points: AIMS median {aims:.2f} s "
        f"({1000 * aims / timing.series:.3f} ms/series, {1000 * aims / timing.points:.4f} ms/point, "
        f"{timing.aims_flags} flags); plain mean/stddev pass {plain:.3f} s "
        f"({1000 * plain / timing.series:.4f} ms/series, {1000 * plain / timing.points:.5f} ms/point, "
        f"{timing.plain_flags} flags); ratio {aims / plain:.1f}"
    )
    speed = Metric(
        metric="detect_10k_series",
        value=round(aims, 4),
        unit="s",
        ceiling=round(plain, 4),
        ratio=round(aims / plain, 1),
        target="reported",
    )
    return [speed, *quality_metrics()]


def _figure(name: str, aims: Figures, elementary: Figures, direction: str) -> Metric:
    value, ceiling = getattr(aims, name), getattr(elementary, name)
    return Metric(
        metric=f"anomaly_{name}_dev",
        value=round(value, 3),
        unit="",
        ceiling=round(ceiling, 3),
        # No ratio to a zero figure (Elementary without a single false alarm, say).
        ratio=round(value / ceiling, 3) if ceiling else 0.0,
        target=f"{direction} {anomaly_eval.TARGETS[name]:.2f}",
    )
