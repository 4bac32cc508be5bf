"""A pipeline's cadence learnt from its own runs, for pipelines whose platform schedule AIMS cannot read (a trigger
in another factory, an external orchestrator): "every weekday at 02:00" or "every 15 minutes", stated as a cron
expression in UTC so that it is checked like a platform schedule.

Only regular habits are learnt: a weekday counts when the pipeline started on it in at least LEARN_SHARE of the
weeks looked at, within LEARN_SPREAD_MINUTES of the same time of day; an interval counts when at least 90 % of the
gaps between starts are within 10 % of their median. Anything less regular is not expected at all (no alerts)."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LEARN_WEEKS = 6
MIN_WEEKS = 3  # fewer weeks of history: nothing learnt yet
LEARN_SHARE = 0.8
LEARN_SPREAD_MINUTES = 45
MAX_DAILY_INTERVAL = timedelta(hours=6)  # intervals up to this are learnt as intervals, longer ones per weekday
REGULAR_SHARE = 0.9
RECENT_STARTS = 200  # latest starts an interval is learnt from (two days of a 15-minute pipeline)
MIN_RECENT = 20
REGULAR_SLACK = 0.1


@dataclass(frozen=True)
class Cadence:
    cron: str  # in UTC
    every: timedelta | None
    description: str  # "every weekday at 02:00 UTC for 6 weeks"
    tolerance: timedelta


def learn_cadence(first_of_day: list[datetime], recent: list[datetime], *, now: datetime) -> Cadence | None:
    """The cadence a pipeline's runs follow, or None: `first_of_day` is its first start (UTC) of each day it ran in
    the last LEARN_WEEKS weeks, `recent` its latest starts (up to RECENT_STARTS); reruns left out by the caller."""
    since = now - timedelta(weeks=LEARN_WEEKS)
    first_of_day = sorted(s for s in first_of_day if since <= s <= now)
    if not first_of_day:
        return None
    weeks = min(LEARN_WEEKS, round((now - first_of_day[0]) / timedelta(weeks=1)))
    if weeks < MIN_WEEKS:
        return None
    recent = sorted(s for s in recent if s <= now)
    return (_interval(recent, weeks) if len(recent) >= MIN_RECENT else None) or _weekly(first_of_day, weeks)


def first_starts_by_day(starts: list[datetime]) -> list[datetime]:
    """The first of these starts on each day (UTC)."""
    first: dict[datetime, datetime] = {}
    for start in sorted(starts):
        first.setdefault(start.replace(hour=0, minute=0, second=0, microsecond=0), start)
    return list(first.values())


def _interval(starts: list[datetime], weeks: int) -> Cadence | None:
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
    median = statistics.median(gaps)
    if median <= 0 or median > MAX_DAILY_INTERVAL.total_seconds():
        return None
    regular = sum(abs(gap - median) <= REGULAR_SLACK * median for gap in gaps)
    if regular < REGULAR_SHARE * len(gaps):
        return None
    minutes = max(1, round(median / 60))
    # The phase of the starts in the interval (a 15-minute pipeline at :05, :20...), from the latest ones.
    phase = _phase_minutes(starts, minutes)
    if minutes < 60 and 60 % minutes == 0:
        cron = f"{phase}-59/{minutes} * * * *" if phase else f"*/{minutes} * * * *"
    elif minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours, (hour, minute) = minutes // 60, divmod(phase, 60)
        cron = f"{minute} {hour}-23/{hours} * * *" if hour else f"{minute} */{hours} * * *"
    else:
        return None  # an interval cron cannot state (e.g. every 7 minutes): not expected
    return Cadence(
        cron=cron,
        every=timedelta(minutes=minutes),
        description=f"every {_span(minutes)} for {weeks} weeks",
        tolerance=max(timedelta(minutes=5), timedelta(minutes=minutes)),
    )


def _phase_minutes(starts: list[datetime], minutes: int) -> int:
    """Where in each interval the starts fall (a 15-minute pipeline at :05, :20...), in whole minutes: the circular
    mean, so starts a few seconds either side of the boundary agree on it."""
    period = minutes * 60
    angles = [2 * math.pi * ((s.hour * 3600 + s.minute * 60 + s.second) % period) / period for s in starts]
    mean = math.atan2(sum(map(math.sin, angles)), sum(map(math.cos, angles)))
    return round((mean % (2 * math.pi)) / (2 * math.pi) * minutes) % minutes


def _weekly(first_of_day: list[datetime], weeks: int) -> Cadence | None:
    learnt: dict[int, list[int]] = {}
    for weekday in range(7):
        minutes = [s.hour * 60 + s.minute for s in first_of_day if s.weekday() == weekday]
        if len(minutes) < LEARN_SHARE * weeks:
            continue
        center = statistics.median(minutes)
        if sum(abs(m - center) <= LEARN_SPREAD_MINUTES for m in minutes) >= LEARN_SHARE * weeks:
            learnt[weekday] = minutes
    if not learnt:
        return None
    at = round(statistics.median([m for minutes in learnt.values() for m in minutes]))
    if any(abs(statistics.median(minutes) - at) > LEARN_SPREAD_MINUTES for minutes in learnt.values()):
        return None  # different times on different days: keep it simple, expect nothing
    days = sorted(learnt)
    cron_days = ",".join(str((d + 1) % 7) for d in days)  # cron: 0 = Sunday
    hour, minute = divmod(at, 60)
    return Cadence(
        cron=f"{minute} {hour} * * {cron_days}",
        every=None,
        description=f"{_days_words(days)} at {hour:02d}:{minute:02d} UTC for {weeks} weeks",
        tolerance=timedelta(minutes=LEARN_SPREAD_MINUTES),
    )


def _days_words(days: list[int]) -> str:
    if days == list(range(7)):
        return "every day"
    if days == list(range(5)):
        return "every weekday"
    if len(days) == 1:
        return f"every {WEEKDAYS[days[0]]}"
    return "every " + ", ".join(WEEKDAYS[d] for d in days)


def _span(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"
