"""The platforms' schedule JSON (ADF trigger resources, Databricks job settings) read into PlatformSchedules.

ADF: a ScheduleTrigger gives one schedule per pipeline it names; its recurrence is a cron when it has a `schedule`
block or is daily, weekly or monthly (so daylight saving moves nothing local), else a fixed interval from its
startTime. A TumblingWindowTrigger gives a fixed interval whose first run is expected when the first window closes
(startTime + interval + delay). Event and custom triggers have no time schedule and give none.
Databricks: a job's `settings.schedule` Quartz cron, read in its `timezone_id`; periodic and file-arrival triggers and
continuous jobs give none.
"""

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitors.clients.base import PlatformSchedule
from monitors.schedule_times import quartz_to_cron, recurrence_to_cron

# The Windows time zone names ADF triggers most often carry, as CLDR maps them to IANA zones (the same rules).
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "E. South America Standard Time": "America/Sao_Paulo",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}
ADF_UNITS = {"Minute": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1)}
ADF_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$")
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


def iana_zone(name: str | None) -> tuple[str, str]:
    """(IANA zone, note): a Windows name from the table, an IANA name as it is, anything else UTC with a note."""
    text = (name or "UTC").strip()
    if text in WINDOWS_ZONES:
        return WINDOWS_ZONES[text], ""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", f"time zone {text!r} unknown, read as UTC"
    return text, ""


def _time(value: Any, zone: str) -> datetime | None:
    """An ADF time: with Z or an offset as it says, without one in the trigger's own zone (how ADF writes them)."""
    match = ADF_TIME.match(str(value or "").strip())
    if match is None:
        return None
    head, fraction, offset = match.groups()
    parsed = datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}")
    if offset in (None, ""):
        return parsed.replace(tzinfo=ZoneInfo(zone))
    return datetime.fromisoformat(f"{parsed.isoformat()}{'+00:00' if offset in ('Z', 'z') else offset}")


def _timespan(value: Any) -> timedelta:
    match = TIMESPAN.match(str(value or "0:00:00").strip())
    if match is None:
        return timedelta(0)
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _notes(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def adf_trigger_schedules(trigger: Mapping[str, Any]) -> list[PlatformSchedule]:
    """One schedule per pipeline a time trigger starts; none for event and custom triggers."""
    properties = trigger.get("properties") or {}
    kind = properties.get("type")
    active = properties.get("runtimeState") == "Started"
    if kind == "ScheduleTrigger":
        references = properties.get("pipelines") or []
        timing = _schedule_trigger_timing((properties.get("typeProperties") or {}).get("recurrence") or {})
    elif kind == "TumblingWindowTrigger":
        references = [properties.get("pipeline") or {}]
        timing = _tumbling_timing(properties.get("typeProperties") or {})
    else:
        return []
    cron, every, anchor, ends, zone, note = timing
    schedules = []
    for reference in references:
        pipeline = ((reference or {}).get("pipelineReference") or {}).get("referenceName")
        if not pipeline:
            continue
        schedules.append(
            PlatformSchedule(
                pipeline_external_id=pipeline,
                pipeline_name=pipeline,
                source="adf_trigger",
                name=str(trigger.get("name") or ""),
                active=active,
                cron=cron,
                every=every,
                anchor=anchor,
                timezone=zone,
                note=note,
                ends=ends,
            )
        )
    return schedules


Timing = tuple[str | None, timedelta | None, datetime | None, datetime | None, str, str]


def _schedule_trigger_timing(recurrence: Mapping[str, Any]) -> Timing:
    """(cron, every, anchor, ends, zone, note) of a ScheduleTrigger's recurrence."""
    zone, zone_note = iana_zone(recurrence.get("timeZone"))
    anchor, ends = _time(recurrence.get("startTime"), zone), _time(recurrence.get("endTime"), zone)
    frequency = str(recurrence.get("frequency") or "")
    interval = recurrence.get("interval") or 1
    block = recurrence.get("schedule") or None
    if anchor is None:
        return None, None, None, ends, zone, _notes(zone_note, "startTime unreadable: no expected runs")
    if not isinstance(interval, int) or interval < 1:
        return None, None, anchor, ends, zone, _notes(zone_note, f"interval {interval!r} unreadable")
    if not block and frequency in ADF_UNITS and (frequency != "Day" or interval > 1):
        return None, interval * ADF_UNITS[frequency], anchor, ends, zone, zone_note
    if not block and frequency == "Week" and interval > 1:
        note = f"every {interval} weeks from startTime (a daylight saving change moves the local time)"
        return None, timedelta(weeks=interval), anchor, ends, zone, _notes(zone_note, note)
    try:
        cron = recurrence_to_cron(frequency=frequency, interval=interval, start=anchor, schedule=block)
    except ValueError as exc:
        return None, None, anchor, ends, zone, _notes(zone_note, f"no expected runs: {exc}")
    return cron, None, anchor, ends, zone, zone_note


def _tumbling_timing(properties: Mapping[str, Any]) -> Timing:
    """Windows of a fixed length from startTime (always UTC); each window's run starts when it closes."""
    frequency, interval = properties.get("frequency"), properties.get("interval") or 1
    start = _time(properties.get("startTime"), "UTC")
    ends = _time(properties.get("endTime"), "UTC")
    if frequency not in ("Minute", "Hour") or not isinstance(interval, int) or interval < 1 or start is None:
        note = f"tumbling window of {interval!r} {frequency!r} from {properties.get('startTime')!r}: no expected runs"
        return None, None, start, ends, "UTC", note
    every = interval * ADF_UNITS[str(frequency)]
    anchor = start + every + _timespan(properties.get("delay"))
    return None, every, anchor, ends, "UTC", "tumbling window: a run starts as each window closes"


def databricks_job_schedule(job: Mapping[str, Any]) -> PlatformSchedule | None:
    """The schedule of a job with a Quartz cron schedule, else None."""
    settings = job.get("settings") or {}
    schedule = settings.get("schedule") or {}
    quartz = schedule.get("quartz_cron_expression")
    if not quartz or job.get("job_id") is None:
        return None
    zone, zone_note = iana_zone(schedule.get("timezone_id"))
    try:
        cron: str | None = quartz_to_cron(str(quartz))
    except ValueError as exc:
        cron, cron_note = None, f"no expected runs: {exc}"
    else:
        second = str(quartz).split()[0]
        cron_note = f"starts at second {second} of the minute" if second not in ("0", "00") else ""
    name = str(settings.get("name") or job["job_id"])
    return PlatformSchedule(
        pipeline_external_id=str(job["job_id"]),
        pipeline_name=name,
        source="databricks_job",
        name=name,
        active=schedule.get("pause_status") != "PAUSED",
        cron=cron,
        every=None,
        anchor=None,
        timezone=zone,
        note=_notes(zone_note, cron_note),
    )
