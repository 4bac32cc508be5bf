"""People's word on a series: "mark as expected" (these points are normal: learn from them) and "exclude this period"
(ignore it: a known outage, a backfill). Either retrains at once (the points from the note's start are scored
again), is kept as a SeriesNote (who, when, why), and is written on the timeline of the series' open incident,
which resolves when the latest point is no longer anomalous."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident
from incidents.services import Actor, incident_comment
from incidents.services.occurrences import fingerprint_of
from insights.models import Point, Series, SeriesNote
from insights.services.anomalies import group_key, series_back_to_normal, subject_label
from insights.services.series import series_rescore

MAX_NOTE = 2000
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class NoteOutcome:
    note: SeriesNote
    rescored: int  # points whose verdict changed
    resolved: bool  # the series' incident resolved because of it


def _problems(kind: str, start: datetime | None, end: datetime | None, note: str) -> dict[str, str]:
    problems = {}
    if kind not in SeriesNote.Kind.values:
        problems["kind"] = f"Choose one of: {', '.join(SeriesNote.Kind.values)}."
    if start is None:
        problems["start"] = "Give the first bucket (a date and time)."
    if end is None:
        problems["end"] = "Give the last bucket (a date and time)."
    if start is not None and end is not None:
        if end < start:
            problems["end"] = "The end comes before the start."
        elif end - start > MAX_SPAN:
            problems["end"] = "At most a year at a time."
        elif start > timezone.now():
            problems["start"] = "The period has not begun yet."
    if len(note) > MAX_NOTE:
        problems["note"] = f"At most {MAX_NOTE} characters ({len(note)} given)."
    return problems


def series_note_add(
    *, series_id: int, kind: str, start: datetime | None, end: datetime | None, note: str, user: User
) -> NoteOutcome:
    """Apply a person's note to a series (see the module). Raises ValidationError naming the field."""
    note = note.strip()
    problems = _problems(kind, start, end, note)
    if problems:
        raise ValidationError(problems)
    assert start is not None and end is not None  # checked above
    with transaction.atomic():
        series = Series.objects.select_for_update().get(pk=series_id)
        row = SeriesNote.objects.create(series=series, kind=kind, start=start, end=end, note=note, created_by=user)
        changed = series_rescore(series, since=start)
        latest = Point.objects.filter(series=series).order_by("-t").first()
        words = SeriesNote.Kind(kind).label.lower()
        said = f"{subject_label(series)}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {words}"
        open_incident = (
            Incident.objects.filter(fingerprint=fingerprint_of(group_key(series)))
            .exclude(status=Incident.Status.RESOLVED)
            .values_list("pk", flat=True)
            .first()
        )
        if open_incident is not None:
            incident_comment(
                incident_id=open_incident, actor=Actor.of_user(user), text=f"{said}{f': {note}' if note else '.'}"
            )
        resolved = False
        if series.state == Series.State.ANOMALOUS and latest is not None and not latest.anomalous:
            resolved = series_back_to_normal(series=series, at=timezone.now(), why=f"{said} by {user}")
    return NoteOutcome(note=row, rescored=len(changed), resolved=resolved)
