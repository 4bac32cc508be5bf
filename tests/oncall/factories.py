"""Rows of the oncall app for tests."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from oncall.models import ContactMethod, Rotation, RotationMember, Schedule


def make_schedule(*users, name: str = "Primary", length: str = "daily", since: datetime | None = None) -> Schedule:
    """A schedule whose rotation (if users are given) started a day ago with the first of `users`."""
    schedule = Schedule.objects.create(name=name, time_zone="UTC")
    if users:
        rotation = Rotation.objects.create(
            schedule=schedule,
            name="Main",
            length=length,
            handoff_time=time(9),
            starts_at=since or timezone.now() - timedelta(minutes=1),
        )
        for position, user in enumerate(users):
            RotationMember.objects.create(rotation=rotation, user=user, position=position)
    return schedule


def make_contact(user, **fields) -> ContactMethod:
    return ContactMethod.objects.create(user=user, **fields)
