"""Context of the schedule pages (read-only for every role): the list with who is on call now and next, and one
schedule's shifts and overrides."""

from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from oncall.models import Schedule
from oncall.selectors import SHIFT_DAYS, override_upcoming_list, schedule_now_list, schedule_shift_list


def schedule_list_page(*, user) -> dict[str, Any]:
    return {
        "schedules": schedule_now_list(),
        "can_edit": user.has_perm("oncall.change_schedule"),
        "shift_days": SHIFT_DAYS,
    }


def schedule_detail_page(*, schedule: Schedule, user) -> dict[str, Any]:
    now = timezone.now()
    zone = ZoneInfo(schedule.time_zone)
    shifts = schedule_shift_list(schedule=schedule, start=now)
    return {
        "schedule": schedule,
        "zone": zone,
        "shifts": [
            {"shift": shift, "starts": shift.starts_at.astimezone(zone), "ends": shift.ends_at.astimezone(zone)}
            for shift in shifts
        ],
        "overrides": [
            {"override": o, "starts": o.starts_at.astimezone(zone), "ends": o.ends_at.astimezone(zone)}
            for o in override_upcoming_list(schedule=schedule, since=now)
        ],
        "can_edit": user.has_perm("oncall.change_schedule"),
        "shift_days": SHIFT_DAYS,
    }
