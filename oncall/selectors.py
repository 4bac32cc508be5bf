"""Reads of schedules and contacts: rows loaded once (a constant number of queries), then the arithmetic of rota.py."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from oncall.models import ContactMethod, Override, Rotation, RotationMember, Schedule
from oncall.rota import OnCall, OverrideRows, Person, RotationRows, ScheduleRows, Shift, on_call_at, shifts

SHIFT_DAYS = 14


@dataclass(frozen=True)
class ScheduleNow:
    """A schedule with who is on call now and who takes over next."""

    id: int
    name: str
    description: str
    time_zone: str
    now: OnCall | None
    next: Shift | None


def _person(user) -> Person:
    return Person(id=user.pk, name=user.get_username())


def _rows(schedule: Schedule, since: datetime) -> ScheduleRows:
    return ScheduleRows(
        id=schedule.pk,
        name=schedule.name,
        time_zone=schedule.time_zone,
        rotations=tuple(
            RotationRows(
                id=rotation.pk,
                name=rotation.name,
                layer=rotation.layer,
                length=rotation.length,
                custom_hours=rotation.custom_hours,
                handoff_time=rotation.handoff_time,
                handoff_weekday=rotation.handoff_weekday,
                starts_at=rotation.starts_at,
                ends_at=rotation.ends_at,
                members=tuple(_person(member.user) for member in rotation.members.all()),
            )
            for rotation in schedule.rotations.all()
        ),
        overrides=tuple(
            OverrideRows(id=o.pk, person=_person(o.user), starts_at=o.starts_at, ends_at=o.ends_at, reason=o.reason)
            for o in schedule.overrides.all()
            if o.ends_at > since
        ),
    )


def _schedules(since: datetime, schedule_ids: list[int] | None = None):
    queryset = Schedule.objects.prefetch_related(
        Prefetch("rotations", queryset=Rotation.objects.order_by("-layer", "id")),
        # A deactivated account is left out: the other participants take turns, its overrides give way to the rotation.
        Prefetch(
            "rotations__members", queryset=RotationMember.objects.filter(user__is_active=True).select_related("user")
        ),
        Prefetch(
            "overrides",
            queryset=Override.objects.filter(ends_at__gt=since, user__is_active=True).select_related("user"),
        ),
    )
    if schedule_ids is not None:
        queryset = queryset.filter(pk__in=schedule_ids)
    return queryset


def schedule_rows_list(*, at: datetime, schedule_ids: list[int] | None = None) -> list[ScheduleRows]:
    """Every schedule (or those named) loaded for the arithmetic, overrides ended before `at` left out (4 queries)."""
    return [_rows(schedule, at) for schedule in _schedules(at, schedule_ids)]


def schedule_now_list(*, at: datetime | None = None, schedule_ids: list[int] | None = None) -> list[ScheduleNow]:
    """Each schedule with who is on call at `at` (now) and the next shift of someone else within SHIFT_DAYS."""
    at = at or timezone.now()
    result = []
    for schedule in _schedules(at, schedule_ids):
        rows = _rows(schedule, at)
        now = on_call_at(rows, at)
        upcoming = shifts(rows, at, at + timedelta(days=SHIFT_DAYS))
        following = next((shift for shift in upcoming if shift.starts_at > at), None)
        result.append(ScheduleNow(schedule.pk, schedule.name, schedule.description, schedule.time_zone, now, following))
    return result


def schedule_on_call(*, schedule_id: int, at: datetime) -> OnCall | None:
    """Who is on call in one schedule at `at` (None: nobody, or no such schedule)."""
    rows = schedule_rows_list(at=at, schedule_ids=[schedule_id])
    return on_call_at(rows[0], at) if rows else None


def schedule_shift_list(*, schedule: Schedule, start: datetime, days: int = SHIFT_DAYS) -> list[Shift]:
    """The shifts of `schedule` from `start` for `days` days."""
    rows = schedule_rows_list(at=start, schedule_ids=[schedule.pk])
    return shifts(rows[0], start, start + timedelta(days=days)) if rows else []


def schedule_get(*, schedule_id: int) -> Schedule:
    return Schedule.objects.get(pk=schedule_id)


def override_upcoming_list(*, schedule: Schedule, since: datetime) -> list[Override]:
    return list(schedule.overrides.filter(ends_at__gt=since).select_related("user").order_by("starts_at", "id"))


def contact_get(*, user_id: int) -> ContactMethod | None:
    """A person's contact methods (None when they gave none)."""
    return ContactMethod.objects.select_related("user").filter(user_id=user_id).first()


@dataclass(frozen=True)
class OnCallNow:
    schedule_id: int
    schedule: str
    on_call: OnCall | None


def on_call_now_list(*, at: datetime | None = None) -> list[OnCallNow]:
    """Every schedule, in order, with who is on call at `at` (now): 4 queries however many schedules."""
    at = at or timezone.now()
    return [OnCallNow(rows.id, rows.name, on_call_at(rows, at)) for rows in schedule_rows_list(at=at)]
