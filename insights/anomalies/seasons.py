"""The seasons a series may follow, each a bucket key per moment and a coarser parent to fall back on."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from insights.anomalies.calendar import last_business_day

Key = tuple[int | str, ...]

# Fewest samples a season bucket needs before it is trusted; below, the parent season is used. A week-long cycle
# has one sample a week, so hour of week and month end are trusted sooner than finer averages.
# The weekday/weekend split is the fallback of the weekly seasons: it is usable from the first weekend on.
MIN_BUCKET = {
    "none": 1,
    "hour_of_day": 3,
    "day_type": 1,
    "day_type_hour": 1,
    "day_of_week": 2,
    "hour_of_week": 1,
    "month_end": 1,
}


@dataclass(frozen=True)
class Season:
    """One season: the bucket a moment falls in, and the season used while a bucket has too few samples."""

    name: str
    key: Callable[[datetime], Key]
    parent: str | None

    @property
    def min_bucket(self) -> int:
        return MIN_BUCKET[self.name]


def seasons(granularity: str) -> dict[str, Season]:
    if granularity == "day":
        return {
            "none": Season("none", lambda t: (), None),
            "day_type": Season("day_type", lambda t: (t.weekday() >= 5,), "none"),
            "day_of_week": Season("day_of_week", lambda t: (t.weekday(),), "day_type"),
            "month_end": Season(
                "month_end", lambda t: ("month_end",) if last_business_day(t.date()) else (t.weekday(),), "day_of_week"
            ),
        }
    return {
        "none": Season("none", lambda t: (), None),
        "hour_of_day": Season("hour_of_day", lambda t: (t.hour,), "none"),
        "hour_of_week": Season("hour_of_week", lambda t: (t.weekday(), t.hour), "hour_of_day"),
    }
