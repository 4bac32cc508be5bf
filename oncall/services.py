"""Writes of the on-call app: an iCal import (all or nothing) and a person's contact methods."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oncall.forms import responder_problem
from oncall.ical import IcalImportError, parse_ical
from oncall.models import ContactMethod, Override, Schedule


def _person_finder(schedule: Schedule):
    users = get_user_model().objects.filter(is_active=True)

    def person_for(emails: list[str], summary: str) -> int | None:
        candidates = []
        for email in (e for e in emails if e):
            candidates += list(users.filter(Q(email__iexact=email) | Q(contact__email__iexact=email)))
        if not candidates and summary:
            for name in {summary, summary.rsplit(":", 1)[-1].strip()}:
                candidates += list(users.filter(username__iexact=name))
        for user in candidates:
            if responder_problem(user):
                raise IcalImportError(f"{responder_problem(user)} (named by an event of {schedule}).")
            return user.pk
        return None

    return person_for


def schedule_ical_import(*, schedule: Schedule, text: str, now: datetime | None = None) -> int:
    """Replace the schedule's imported overrides with the shifts of an iCal file, all or nothing. Returns how many
    overrides it holds now. Raises IcalImportError naming the line or event."""
    now = now or timezone.now()
    shifts = parse_ical(text, time_zone=schedule.time_zone, now=now, person_for=_person_finder(schedule))
    with transaction.atomic():
        schedule.overrides.exclude(source_uid="").delete()
        Override.objects.bulk_create(
            Override(
                schedule=schedule,
                user_id=shift.user_id,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                reason=shift.reason,
                source_uid=shift.uid,
            )
            for shift in shifts
        )
    return len(shifts)


def contact_save(*, user, email: str, slack_member_id: str, teams_upn: str) -> ContactMethod:
    """Create or update a person's contact methods (validated by the caller's form)."""
    contact, _ = ContactMethod.objects.update_or_create(
        user=user, defaults={"email": email, "slack_member_id": slack_member_id, "teams_upn": teams_upn}
    )
    return contact
