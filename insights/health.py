"""Health: a 0-100 score per pipeline and per table, from components that each say one thing in [0, 1].

    score = round(100 * sum(weight_i * component_i) / sum(weight_i)), over the components that apply

A component applies when there is something to measure (a pipeline that never failed has no time to recover; one
with no known schedule has no missed-run share); with none, there is no score. Components, over WINDOW_DAYS:

| component        | weight | value                                                                      |
|------------------|--------|----------------------------------------------------------------------------|
| success          | 30     | finished runs that succeeded / finished runs                               |
| retries          | 10     | 1 - successes that were reruns / successes (dependence on retries)         |
| recovery         | 15     | 1 - median hours from a failure to the next success / 24 (floored at 0)    |
| duration         | 10     | 1 - robust spread of successful durations (1.4826 MAD / median, capped 1)  |
| missed_runs      | 15     | 1 - missed runs / (runs started + missed runs)                             |
| contracts        | 10     | checks without a failed rule / checks                                      |
| freshness        | 10     | checks whose freshness rules held / checks with a freshness rule           |

Pipelines use all seven (contracts and freshness: the checks their runs triggered); tables use contracts and
freshness, plus success as the share of their scored points the detector found normal. The trend is the same score
computed for each of the last TREND_DAYS days, each over the WINDOW_DAYS before it."""

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WINDOW_DAYS = 7
TREND_DAYS = 14
WEIGHTS = {
    "success": 30,
    "retries": 10,
    "recovery": 15,
    "duration": 10,
    "missed_runs": 15,
    "contracts": 10,
    "freshness": 10,
}
LABELS = {
    "success": "Success rate",
    "retries": "Independence from retries",
    "recovery": "Time to recover",
    "duration": "Duration stability",
    "missed_runs": "Runs on schedule",
    "contracts": "Contract checks passed",
    "freshness": "Freshness held",
}
RECOVERY_HORIZON_HOURS = 24.0


@dataclass(frozen=True)
class RunFact:
    started_at: datetime
    succeeded: bool | None  # None: not finished
    rerun: bool
    duration_seconds: float | None


@dataclass(frozen=True)
class CheckFact:
    at: datetime
    failed: bool
    freshness_held: bool | None  # None: no freshness rule


@dataclass
class Facts:
    runs: list[RunFact] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)
    checks: list[CheckFact] = field(default_factory=list)
    points: list[tuple[datetime, bool]] = field(default_factory=list)  # (bucket, anomalous), tables only
    scheduled: bool = False  # a schedule or cadence is known: missed runs apply


def health_score(components: dict[str, float | None]) -> int | None:
    """The documented formula: the weighted mean of the components that apply, on 0-100."""
    applied = {name: value for name, value in components.items() if value is not None}
    if not applied:
        return None
    total = sum(WEIGHTS[name] for name in applied)
    return round(100 * sum(WEIGHTS[name] * value for name, value in applied.items()) / total)


def pipeline_components(facts: Facts, *, start: datetime, end: datetime) -> dict[str, float | None]:
    runs = sorted((r for r in facts.runs if start <= r.started_at < end), key=lambda r: r.started_at)
    finished = [r for r in runs if r.succeeded is not None]
    successes = [r for r in finished if r.succeeded]
    missed = [m for m in facts.missed if start <= m < end]
    durations = [r.duration_seconds for r in successes if r.duration_seconds]
    originals = [r for r in runs if not r.rerun]
    return {
        "success": len(successes) / len(finished) if finished else None,
        "retries": 1 - sum(r.rerun for r in successes) / len(successes) if successes else None,
        "recovery": _recovery(finished),
        "duration": _stability(durations),
        "missed_runs": 1 - len(missed) / (len(originals) + len(missed))
        if (facts.scheduled and originals) or missed
        else None,
        **_check_components(facts.checks, start=start, end=end),
    }


def table_components(facts: Facts, *, start: datetime, end: datetime) -> dict[str, float | None]:
    points = [anomalous for t, anomalous in facts.points if start <= t < end]
    return {
        "success": 1 - sum(points) / len(points) if points else None,
        **_check_components(facts.checks, start=start, end=end),
    }


def _check_components(checks: list[CheckFact], *, start: datetime, end: datetime) -> dict[str, float | None]:
    inside = [c for c in checks if start <= c.at < end]
    fresh = [c.freshness_held for c in inside if c.freshness_held is not None]
    return {
        "contracts": 1 - sum(c.failed for c in inside) / len(inside) if inside else None,
        "freshness": sum(fresh) / len(fresh) if fresh else None,
    }


def _recovery(finished: list[RunFact]) -> float | None:
    """From each failure to the next success, in hours (a failure not yet recovered counts until the window ends
    only through the success share, not here)."""
    waits = []
    pending: datetime | None = None
    for run in finished:
        if not run.succeeded and pending is None:
            pending = run.started_at
        elif run.succeeded and pending is not None:
            waits.append((run.started_at - pending).total_seconds() / 3600)
            pending = None
    if not waits:
        return None
    return max(0.0, 1 - statistics.median(waits) / RECOVERY_HORIZON_HOURS)


def _stability(durations: list[float]) -> float | None:
    if len(durations) < 3:
        return None
    median = statistics.median(durations)
    if median <= 0:
        return None
    spread = 1.4826 * statistics.median(abs(d - median) for d in durations) / median
    return max(0.0, 1 - min(1.0, spread))


@dataclass(frozen=True)
class Health:
    score: int | None
    components: dict[str, float | None]
    trend: list[int | None]  # oldest first, one per day, today last


def health_of(facts: Facts, *, now: datetime, table: bool = False) -> Health:
    components_of = table_components if table else pipeline_components
    window = timedelta(days=WINDOW_DAYS)
    components = components_of(facts, start=now - window, end=now)
    trend = [
        health_score(components_of(facts, start=now - timedelta(days=back) - window, end=now - timedelta(days=back)))
        for back in range(TREND_DAYS - 1, -1, -1)
    ]
    return Health(score=health_score(components), components=components, trend=trend)
