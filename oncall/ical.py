"""An iCalendar file read into overrides, without touching the database: each VEVENT (each occurrence of a repeating
one, up to a horizon) whose attendee e-mail or summary names a person becomes one override. Anything wrong is an
IcalImportError naming the line or the event, so nothing is half-imported."""

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr
from icalendar import Calendar

MAX_BYTES = 256 * 1024
MAX_OCCURRENCES = 2000
HORIZON_DAYS = 90
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")


class IcalImportError(Exception):
    """Why a file cannot be imported, naming the line or event."""


@dataclass(frozen=True)
class ImportedShift:
    user_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    uid: str


def _check_lines(text: str) -> list[int]:
    """Every unfolded content line well formed; returns the line number of each BEGIN:VEVENT."""
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line[0] in " \t":  # a folded continuation
            continue
        if not _CONTENT_LINE.match(line):
            raise IcalImportError(f"Line {number}: not an iCalendar line (NAME:value expected): {line[:60]!r}.")
        if line.strip().upper() == "BEGIN:VEVENT":
            events.append(number)
    return events


def _moment(value, zone: zoneinfo.ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time()).replace(tzinfo=zone)
    raise ValueError(f"not a date or time: {value!r}")


def parse_ical(
    text: str, *, time_zone: str, now: datetime, person_for: Callable[[list[str], str], int | None]
) -> list[ImportedShift]:
    """The shifts of `text` ending after `now` and starting within HORIZON_DAYS; `person_for(emails, summary)`
    names the user an event is about (None: nobody known, which is an error)."""
    if len(text.encode()) > MAX_BYTES:
        raise IcalImportError(f"The file is larger than {MAX_BYTES // 1024} KB.")
    event_lines = _check_lines(text)
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise IcalImportError(f"Not a readable iCalendar file: {str(exc)[:200]}") from None
    if calendar.name != "VCALENDAR":
        raise IcalImportError("Line 1: the file must start with BEGIN:VCALENDAR.")
    zone = zoneinfo.ZoneInfo(time_zone)
    horizon = now + timedelta(days=HORIZON_DAYS)
    shifts: list[ImportedShift] = []
    for index, event in enumerate(calendar.walk("VEVENT")):
        line = event_lines[index] if index < len(event_lines) else 0
        summary = str(event.get("SUMMARY", "")).strip()
        where = f"Event {summary[:60]!r} (line {line})" if summary else f"Event at line {line}"
        try:
            shifts.extend(_event_shifts(event, zone, now, horizon, person_for, summary, where))
        except IcalImportError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise IcalImportError(f"{where}: {str(exc)[:200]}") from None
        if len(shifts) > MAX_OCCURRENCES:
            raise IcalImportError(f"{where}: more than {MAX_OCCURRENCES} shifts within {HORIZON_DAYS} days.")
    return shifts


def _event_shifts(event, zone, now, horizon, person_for, summary: str, where: str) -> list[ImportedShift]:
    if event.get("DTSTART") is None:
        raise IcalImportError(f"{where}: no DTSTART.")
    start = _moment(event.decoded("DTSTART"), zone)
    if event.get("DTEND") is not None:
        length = _moment(event.decoded("DTEND"), zone) - start
    elif event.get("DURATION") is not None:
        length = event.decoded("DURATION")
    else:
        raise IcalImportError(f"{where}: no DTEND or DURATION.")
    if length <= timedelta(0):
        raise IcalImportError(f"{where}: the end must be after the start.")
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    emails = [str(a).removeprefix("mailto:").removeprefix("MAILTO:").strip() for a in attendees]
    user_id = person_for(emails, summary)
    if user_id is None:
        named = ", ".join(emails) or summary or "nobody"
        raise IcalImportError(f"{where}: names nobody who can be on call ({named[:120]}).")
    uid = str(event.get("UID", ""))[:250] or f"line-{where}"
    if event.get("RRULE") is not None:
        rule = event["RRULE"].to_ical().decode()
        starts = rrulestr(rule, dtstart=start).between(now - length, horizon, inc=True)
        excluded = _exdates(event, zone)
        starts = [moment for moment in starts if moment not in excluded]
    else:
        starts = [start] if start + length > now and start < horizon else []
    return [ImportedShift(user_id, moment, moment + length, f"iCal: {summary}"[:200], uid) for moment in starts]


def _exdates(event, zone) -> set[datetime]:
    values = event.get("EXDATE") or []
    if not isinstance(values, list):
        values = [values]
    return {_moment(item.dt, zone) for value in values for item in value.dts}
