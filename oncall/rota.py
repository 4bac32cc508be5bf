"""Schedule arithmetic over loaded rows, with no database: who is on call at an instant, and the shifts of a span.

Daily and weekly hand-offs happen at a wall-clock time in the schedule's time zone, so they stay at 09:00 local across
daylight-saving changes (a day with a change is 23 or 25 hours long). A hand-off time that a spring change skips
happens at the instant the clock jumps; one that an autumn change repeats happens at its first occurrence. Rotations
of every N hours count elapsed time. Overrides beat rotations; of overlapping overrides the one that started last
wins (the later-created on a tie); of overlapping rotations the higher layer wins (the older rotation on a tie).
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAILY, WEEKLY, CUSTOM = "daily", "weekly", "custom"


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class RotationRows:
    id: int
    name: str
    layer: int
    length: str  # daily | weekly | custom
    custom_hours: int | None
    handoff_time: time
    handoff_weekday: int  # 0 = Monday
    starts_at: datetime
    ends_at: datetime | None
    members: tuple[Person, ...]


@dataclass(frozen=True)
class OverrideRows:
    id: int
    person: Person
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True)
class ScheduleRows:
    id: int
    name: str
    time_zone: str
    rotations: tuple[RotationRows, ...]
    overrides: tuple[OverrideRows, ...]


@dataclass(frozen=True)
class OnCall:
    person: Person
    source: str  # "override" or "rotation"
    label: str  # the rotation's name or the override's reason


@dataclass(frozen=True)
class Shift:
    person: Person
    starts_at: datetime
    ends_at: datetime
    source: str
    label: str


def _local_handoff(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant of `at` on `day` in `zone`; a time skipped by a spring change maps to the instant of the jump."""
    naive = datetime.combine(day, at)
    moment = naive.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:  # in the gap the clock jumped over
        return _jump_instant(day, zone) or moment.astimezone(UTC)
    return moment.astimezone(UTC)  # instants in UTC: arithmetic on one zone's datetimes is wall-clock arithmetic


def _jump_instant(day: date, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """The first instant of `day` at which the offset of `zone` has changed (hour-aligned changes, as everywhere
    but a few islands)."""
    start = datetime.combine(day, time()).replace(tzinfo=zone).astimezone(UTC)
    previous = start.astimezone(zone).utcoffset()
    for hour in range(1, 27):
        moment = start + timedelta(hours=hour)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            return moment
        previous = offset
    return None


def _period_days(rotation: RotationRows) -> int:
    return 7 if rotation.length == WEEKLY else 1


def _first_handoff_day(rotation: RotationRows, zone: zoneinfo.ZoneInfo) -> date:
    day = rotation.starts_at.astimezone(zone).date()
    if rotation.length == WEEKLY:
        day += timedelta(days=(rotation.handoff_weekday - day.weekday()) % 7)
    if _local_handoff(day, rotation.handoff_time, zone) <= rotation.starts_at:
        day += timedelta(days=_period_days(rotation))
    return day


def _handoffs_before(rotation: RotationRows, zone: zoneinfo.ZoneInfo, at: datetime) -> int:
    """How many hand-offs happened in (starts_at, at]."""
    if rotation.length == CUSTOM:
        period = timedelta(hours=rotation.custom_hours or 24)
        return int((at - rotation.starts_at) // period)
    first = _first_handoff_day(rotation, zone)
    days = _period_days(rotation)
    index = (at.astimezone(zone).date() - first).days // days
    if index < 0:
        return 0
    if _local_handoff(first + timedelta(days=index * days), rotation.handoff_time, zone) > at:
        index -= 1
    return index + 1


def _handoffs_between(
    rotation: RotationRows, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """The hand-off instants in (start, end)."""
    if rotation.length == CUSTOM:
        period = timedelta(hours=rotation.custom_hours or 24)
        count = max(0, _handoffs_before(rotation, zone, max(start, rotation.starts_at)))
        moments = []
        moment = rotation.starts_at + period * (count + 1)
        while moment < end:
            moments.append(moment)
            moment += period
        return moments
    first = _first_handoff_day(rotation, zone)
    days = _period_days(rotation)
    index = max(0, _handoffs_before(rotation, zone, max(start, rotation.starts_at)))
    moments = []
    while True:
        moment = _local_handoff(first + timedelta(days=index * days), rotation.handoff_time, zone)
        if moment >= end:
            return moments
        if moment > start:
            moments.append(moment)
        index += 1


def rotation_on_call(rotation: RotationRows, zone: zoneinfo.ZoneInfo, at: datetime) -> Person | None:
    """The participant of `rotation` on call at `at` (None before its start, after its end or without members)."""
    if not rotation.members or at < rotation.starts_at or (rotation.ends_at and at >= rotation.ends_at):
        return None
    return rotation.members[_handoffs_before(rotation, zone, at) % len(rotation.members)]


def on_call_at(schedule: ScheduleRows, at: datetime) -> OnCall | None:
    """Who is on call in `schedule` at `at`: an active override, else the highest-layer rotation with someone."""
    active = [o for o in schedule.overrides if o.starts_at <= at < o.ends_at]
    if active:
        override = max(active, key=lambda o: (o.starts_at, o.id))
        return OnCall(person=override.person, source="override", label=override.reason or "Override")
    zone = zoneinfo.ZoneInfo(schedule.time_zone)
    for rotation in sorted(schedule.rotations, key=lambda r: (-r.layer, r.id)):
        person = rotation_on_call(rotation, zone, at)
        if person is not None:
            return OnCall(person=person, source="rotation", label=rotation.name)
    return None


def shifts(schedule: ScheduleRows, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from `start` to `end`, as consecutive shifts (gaps with nobody left out)."""
    zone = zoneinfo.ZoneInfo(schedule.time_zone)
    edges = {start, end}
    for rotation in schedule.rotations:
        edges.update(m for m in (rotation.starts_at, rotation.ends_at) if m and start < m < end)
        edges.update(_handoffs_between(rotation, zone, start, end))
    for override in schedule.overrides:
        edges.update(m for m in (override.starts_at, override.ends_at) if start < m < end)
    ordered = sorted(edges)
    result: list[Shift] = []
    for left, right in zip(ordered, ordered[1:], strict=False):
        who = on_call_at(schedule, left)
        if who is None:
            continue
        last = result[-1] if result else None
        if (
            last
            and last.ends_at == left
            and (last.person, last.source, last.label) == (who.person, who.source, who.label)
        ):
            result[-1] = Shift(last.person, last.starts_at, right, last.source, last.label)
        else:
            result.append(Shift(who.person, left, right, who.source, who.label))
    return result
