"""Who is on call: schedules of rotations (participants taking turns, handing off at a local time) with overrides
on top, and each person's own contact methods."""

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

from aimsweb.models import TimeStampedModel

SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
MAX_CUSTOM_HOURS = 24 * 28


def time_zone_problem(name: str) -> str:
    """Why `name` is not an IANA time zone ('' when it is one)."""
    if not name or name.strip() != name or len(name) > 64:
        return "Give an IANA time zone such as Europe/Berlin or UTC."
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {name!r}; give an IANA name such as Europe/Berlin or UTC."
    return ""


class Schedule(TimeStampedModel):
    """One on-call duty (e.g. "Primary"): rotations take turns, overrides take precedence over them."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="Hand-off times are read in this zone.")
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower first (the header shows the first).")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = time_zone_problem(self.time_zone)
        if problem:
            raise ValidationError({"time_zone": problem})


class Rotation(TimeStampedModel):
    """Participants on call in turn from `starts_at`, handing off every day, week or number of hours."""

    class Length(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        CUSTOM = "custom", "Every N hours"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=100, default="Rotation")
    layer = models.PositiveSmallIntegerField(default=1, help_text="Where rotations overlap, the higher layer wins.")
    length = models.CharField(max_length=10, choices=Length.choices, default=Length.WEEKLY)
    custom_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CUSTOM_HOURS)],
        help_text="For 'Every N hours': hours per turn (elapsed time, not wall-clock).",
    )
    handoff_time = models.TimeField(default="09:00", help_text="Local time of the hand-off (daily and weekly).")
    handoff_weekday = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(6)],
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ],  # fmt: skip
        help_text="Day of the hand-off (weekly).",
    )
    starts_at = models.DateTimeField(help_text="The first participant is on call from here to the first hand-off.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Blank: runs on.")

    class Meta:
        ordering = ["schedule", "-layer", "id"]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.length == self.Length.CUSTOM and not self.custom_hours:
            errors["custom_hours"] = "Give the hours per turn for a rotation of every N hours."
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must be after the start."
        if errors:
            raise ValidationError(errors)


class RotationMember(models.Model):
    """One participant of a rotation, in hand-off order."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rotation", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "position"], name="rotation_member_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.user}"


class Override(TimeStampedModel):
    """Someone on call instead of the rotation, from `starts_at` to `ends_at` (the later-starting one wins)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    source_uid = models.CharField(max_length=300, blank=True, editable=False, help_text="Imported from iCal.")

    class Meta:
        ordering = ["schedule", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="override_ends_after"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.user} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})


def slack_member_problem(value: str) -> str:
    if value and not SLACK_MEMBER_ID.match(value):
        return "A Slack member id looks like U012ABCDEF (Profile → ⋮ → Copy member ID)."
    return ""


class ContactMethod(TimeStampedModel):
    """How one person is reached when they are on call: e-mail, a Slack member id, a Teams user (UPN)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact")
    email = models.EmailField(blank=True, help_text="Blank: the account's e-mail address.")
    slack_member_id = models.CharField(max_length=24, blank=True, help_text="e.g. U012ABCDEF, mentioned in Slack.")
    teams_upn = models.CharField(max_length=254, blank=True, help_text="e.g. alice@example.com, mentioned in Teams.")

    def __str__(self) -> str:
        return f"Contact of {self.user}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        problem = slack_member_problem(self.slack_member_id)
        if problem:
            errors["slack_member_id"] = problem
        if self.teams_upn:
            try:
                validate_email(self.teams_upn)
            except ValidationError:
                errors["teams_upn"] = "A Teams user is named by their sign-in name, e.g. alice@example.com."
        if errors:
            raise ValidationError(errors)

    @property
    def email_address(self) -> str:
        return self.email or self.user.email
