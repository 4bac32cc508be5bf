"""When a platform schedule expects its runs: the start times in a window, and the translations of Quartz crons
(Databricks) and ADF recurrences into the 5-field cron croniter reads.

Pure (no Django, no I/O). Cron times are computed in the schedule's own time zone, so a daily 02:30 stays 02:30 local
across daylight saving changes: a wall time the spring change skips is expected at the first minute after it
(croniter's choice, what Vixie cron does), and one the autumn change repeats is expected once, at its first
occurrence, unless the hour field steps (an every-30-minutes cron runs in both repeated hours).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter  # type: ignore[import-untyped]  # no stubs in the lock

if TYPE_CHECKING:
    from monitors.clients.base import PlatformSchedule

QUARTZ_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
ADF_WEEKDAYS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
# A cap on the starts one call lists, so a minute cron over a long window cannot exhaust memory.
MAX_STARTS = 100_000


def expected_starts(schedule: PlatformSchedule, *, start: datetime, end: datetime) -> list[datetime]:
    """The starts the schedule expects in [start, end), as aware UTC datetimes, earliest first; none when it is not
    active, before its anchor (a recurrence's startTime) or from its end on."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if not schedule.active:
        return []
    if schedule.anchor is not None:
        start = max(start, schedule.anchor)
    if schedule.ends is not None:
        end = min(end, schedule.ends)
    if start >= end:
        return []
    if schedule.cron is not None:
        return _cron_starts(schedule.cron, ZoneInfo(schedule.timezone), start, end)
    if schedule.every is not None:
        if schedule.anchor is None:
            raise ValueError(f"schedule {schedule.name!r} repeats every {schedule.every} but has no anchor")
        return _interval_starts(schedule.anchor, schedule.every, start, end)
    return []


def _interval_starts(anchor: datetime, every: timedelta, start: datetime, end: datetime) -> list[datetime]:
    if every <= timedelta(0):
        raise ValueError(f"a schedule's interval must be positive, not {every}")
    steps = max(0, -(-(start - anchor) // every))  # the first k with anchor + k * every >= start
    times: list[datetime] = []
    at = anchor + steps * every
    while at < end and len(times) < MAX_STARTS:
        times.append(at.astimezone(UTC))
        at += every
    return times


def _cron_starts(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    hour_field = cron.split()[1]
    fixed_hours = "*" not in hour_field and "/" not in hour_field
    # croniter returns the first time after the one it is given: start a microsecond early to include `start`.
    times = croniter(cron, (start - timedelta(microseconds=1)).astimezone(zone))
    found: list[datetime] = []
    walls: set[datetime] = set()
    while len(found) < MAX_STARTS:
        at: datetime = times.get_next(datetime)
        if at >= end:
            break
        wall = at.replace(tzinfo=None)
        if fixed_hours and wall in walls:
            continue  # the autumn change repeats this wall time: a fixed-time schedule runs once
        walls.add(wall)
        found.append(at.astimezone(UTC))
    return found


# --------------------------------------------------------------------------------------------- Quartz (Databricks)


def quartz_to_cron(expr: str) -> str:
    """The 5-field cron of a Quartz cron expression (seconds first, `?`, optional year, day of week 1-7 with
    1 = Sunday). The seconds are dropped (one fixed second only); raises ValueError naming the field croniter cannot
    read (a year, `W`, `L` with an offset, `nL` days of week, more than one second)."""
    fields = expr.split()
    if len(fields) not in (6, 7):
        raise ValueError(f"Quartz cron {expr!r} has {len(fields)} fields; 6 or 7 expected (seconds first)")
    seconds, minutes, hours, dom, month, dow = fields[:6]
    if len(fields) == 7 and fields[6] not in ("*", "?"):
        raise ValueError(f"Quartz cron {expr!r}: a year field ({fields[6]}) is not supported")
    if not seconds.isdigit():
        raise ValueError(f"Quartz cron {expr!r}: seconds field {seconds!r} fires more than once a minute")
    if dom == "?" and dow == "?":
        raise ValueError(f"Quartz cron {expr!r}: day of month and day of week cannot both be '?'")
    if "W" in dom.upper() or re.search(r"L.", dom.upper()):
        raise ValueError(f"Quartz cron {expr!r}: day of month {dom!r} (W or L with an offset) is not supported")
    # Minutes and hours read alike (croniter takes Quartz's `a/b`, start a and step b, as it is).
    return " ".join((minutes, hours, "*" if dom == "?" else dom, month, _quartz_dow(dow, expr)))


def _quartz_dow(field: str, expr: str) -> str:
    if field in ("?", "*"):
        return "*"
    upper = field.upper()
    if "L" in upper:
        raise ValueError(f"Quartz cron {expr!r}: day of week {field!r} (last weekday of the month) is not supported")
    if "#" in upper:
        day, nth = upper.split("#", 1)
        return f"{_quartz_day(day, expr)}#{nth}"
    # Numbers shift down by one (1 = Sunday becomes 0); a step after '/' is a count, not a day.
    parts = []
    for part in upper.split(","):
        base, _, step = part.partition("/")
        shifted = "-".join(_quartz_day(day, expr) if day != "*" else "*" for day in base.split("-"))
        parts.append(f"{shifted}/{step}" if step else shifted)
    return ",".join(parts)


def _quartz_day(day: str, expr: str) -> str:
    if day in QUARTZ_DAYS:
        return str(QUARTZ_DAYS[day])
    if not day.isdigit() or not 1 <= int(day) <= 7:
        raise ValueError(f"Quartz cron {expr!r}: day of week {day!r} is not 1-7 or SUN-SAT")
    return str(int(day) - 1)


# --------------------------------------------------------------------------------------------- ADF recurrences


def recurrence_to_cron(
    *, frequency: str, interval: int, start: datetime, schedule: Mapping[str, Any] | None = None
) -> str:
    """The 5-field cron of an ADF schedule trigger recurrence, read in its own time zone (`start` is its startTime
    there). Without a `schedule` block only Day and Week with interval 1 and Month with an interval dividing a year
    are crons (fixed intervals are the caller's `every`). In a block, missing minutes and hours default to the
    startTime's (hours only for Day, Week and Month); monthDays -1 is the last day. Raises ValueError for what a cron
    cannot say (every other week, monthDays below -1, negative monthlyOccurrences)."""
    block = dict(schedule or {})
    freq = frequency.capitalize()
    if freq not in ("Minute", "Hour", "Day", "Week", "Month"):
        raise ValueError(f"recurrence frequency {frequency!r} is not Minute, Hour, Day, Week or Month")
    if interval < 1:
        raise ValueError(f"recurrence interval must be at least 1, not {interval}")
    if not block:
        if freq in ("Minute", "Hour") or (freq in ("Day", "Week") and interval > 1):
            raise ValueError(f"a {interval}-{freq.lower()} recurrence is a fixed interval, not a cron")
        if freq == "Day":
            return f"{start.minute} {start.hour} * * *"
        if freq == "Week":
            return f"{start.minute} {start.hour} * * {(start.weekday() + 1) % 7}"
        return f"{start.minute} {start.hour} {start.day} {_months(start.month, interval)} *"
    if interval > 1 and freq in ("Day", "Week"):
        raise ValueError(f"a schedule every {interval} {freq.lower()}s is not a cron")
    minutes = _numbers(block.get("minutes"), "minutes", 0, 59) or str(start.minute)
    hours = _numbers(block.get("hours"), "hours", 0, 23)
    if freq == "Minute":
        raise ValueError("a schedule block needs frequency Hour, Day, Week or Month")
    if not hours:
        hours = "*" if freq == "Hour" else str(start.hour)
    dom, dow, month = "*", "*", "*"
    if freq == "Week":
        dow = _weekdays(block.get("weekDays")) or str((start.weekday() + 1) % 7)
    if freq == "Month":
        month = _months(start.month, interval)
        dom = _month_days(block.get("monthDays"))
        dow = _occurrences(block.get("monthlyOccurrences"))
        if dom != "*" and dow != "*":
            raise ValueError("a schedule with both monthDays and monthlyOccurrences is not supported")
        if dom == "*" and dow == "*":
            dom = str(start.day)
    return f"{minutes} {hours} {dom} {month} {dow}"


def _numbers(values: Sequence[Any] | None, name: str, low: int, high: int) -> str:
    if not values:
        return ""
    if not all(isinstance(v, int) and low <= v <= high for v in values):
        raise ValueError(f"schedule {name} must be whole numbers {low}-{high}, not {list(values)}")
    return ",".join(str(v) for v in sorted(set(values)))


def _weekdays(values: Sequence[Any] | None) -> str:
    if not values:
        return ""
    days = []
    for value in values:
        day = ADF_WEEKDAYS.get(str(value).casefold())
        if day is None:
            raise ValueError(f"schedule weekDays has {value!r}, not a day name (Monday ... Sunday)")
        days.append(day)
    return ",".join(str(d) for d in sorted(set(days)))


def _month_days(values: Sequence[Any] | None) -> str:
    if not values:
        return "*"
    days = []
    for value in values:
        if not isinstance(value, int) or value == 0 or not -31 <= value <= 31:
            raise ValueError(f"schedule monthDays has {value!r}, not 1-31 or -1 ... -31")
        if value < -1:
            raise ValueError(f"schedule monthDays {value} (counted from the month's end) is not supported; -1 is")
        days.append("L" if value == -1 else str(value))
    return ",".join(sorted(set(days), key=lambda d: 99 if d == "L" else int(d)))


def _occurrences(values: Sequence[Any] | None) -> str:
    if not values:
        return "*"
    parts = []
    for item in values:
        day = ADF_WEEKDAYS.get(str((item or {}).get("day", "")).casefold())
        nth = (item or {}).get("occurrence")
        if day is None or not isinstance(nth, int) or not 1 <= nth <= 5:
            raise ValueError(f"schedule monthlyOccurrences item {item!r} is not supported (day name, occurrence 1-5)")
        parts.append(f"{day}#{nth}")
    return ",".join(parts)


def _months(first: int, interval: int) -> str:
    if interval == 1:
        return "*"
    if 12 % interval:
        raise ValueError(f"a recurrence every {interval} months does not repeat within a year, so it is not a cron")
    return ",".join(str((first - 1 + k * interval) % 12 + 1) for k in range(12 // interval))
