"""The schedules the platforms show for the simulated pipelines and jobs: ADF trigger resources (api-version 2018-06-01)
and a Databricks job's `settings.schedule`.

Both describe the simulator's own cadence (simulator.world.schedule): the k-th scheduled run is due at the anchor plus k
intervals. An ADF ScheduleTrigger says so with its recurrence (startTime = anchor, frequency and interval); a
TumblingWindowTrigger's windows end at those times (startTime = anchor - interval), as each window's run starts when
the window closes; a Quartz cron names the anchor's second and minute (and hour) with the interval as its step. An
interval that is not whole minutes gets no trigger, and one a Quartz cron cannot step by (a divisor of an hour or of a
day) no Databricks schedule: the simulator still starts those runs, as if something outside the platform did.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulator.model import FactorySpec, JobSpec, PipelineSpec
from simulator.timefmt import US_PER_S

TRIGGER_TYPE = "Microsoft.DataFactory/factories/triggers"
# Windows time zone names ADF triggers use, and the IANA zones the simulator computes their local times in.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "W. Europe Standard Time": "Europe/Amsterdam",
    "GMT Standard Time": "Europe/London",
    "Romance Standard Time": "Europe/Paris",
    "Eastern Standard Time": "America/New_York",
    "Pacific Standard Time": "America/Los_Angeles",
}
MINUTE_US = 60 * US_PER_S
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US


def _datetime(us: int, zone: str) -> datetime:
    return datetime.fromtimestamp(us / US_PER_S, tz=UTC).astimezone(ZoneInfo(zone))


def _etag(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-0000-0100-0000-{digest[8:20]}"


def _start_time(us: int, windows_zone: str) -> str:
    """ADF's startTime: UTC with a Z, any other zone as local time without an offset (the zone is timeZone)."""
    if windows_zone == "UTC":
        return _datetime(us, "UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return _datetime(us, WINDOWS_ZONES.get(windows_zone, "UTC")).strftime("%Y-%m-%dT%H:%M:%S")


def _frequency(interval_us: int, *, units: tuple[str, ...]) -> tuple[str, int] | None:
    """(frequency, interval) of an ADF recurrence or tumbling window, the largest unit that divides the interval."""
    for unit, size in (("Day", DAY_US), ("Hour", HOUR_US), ("Minute", MINUTE_US)):
        if unit in units and interval_us % size == 0:
            return unit, interval_us // size
    return None


def _reference(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"pipelineReference": {"referenceName": name, "type": "PipelineReference"}, "parameters": parameters}


def pipeline_trigger(factory: FactorySpec, p: PipelineSpec) -> dict[str, Any] | None:
    """The trigger resource that starts a pipeline's scheduled runs, or None when it has no schedule."""
    if p.interval_us <= 0:
        return None
    state = "Stopped" if p.paused else "Started"
    if p.trigger == "tumbling_window":
        freq = _frequency(p.interval_us, units=("Hour", "Minute"))
        if freq is None:
            return None
        name = f"tw_{p.name}"
        properties: dict[str, Any] = {
            "type": "TumblingWindowTrigger",
            "runtimeState": state,
            "annotations": [],
            "pipeline": _reference(
                p.name,
                {
                    "windowStart": "@trigger().outputs.windowStartTime",
                    "windowEnd": "@trigger().outputs.windowEndTime",
                },
            ),
            "typeProperties": {
                "frequency": freq[0],
                "interval": freq[1],
                "startTime": _start_time(p.anchor_us - p.interval_us, "UTC"),
                "delay": "00:00:00",
                "maxConcurrency": 1,
                "retryPolicy": {"count": 0, "intervalInSeconds": 30},
                "dependsOn": [],
            },
        }
    else:
        freq = _frequency(p.interval_us, units=("Day", "Hour", "Minute"))
        if freq is None:
            return None
        name = f"tr_{p.name}"
        properties = {
            "type": "ScheduleTrigger",
            "runtimeState": state,
            "annotations": [],
            "pipelines": [_reference(p.name, dict(p.parameters))],
            "typeProperties": {
                "recurrence": {
                    "frequency": freq[0],
                    "interval": freq[1],
                    "startTime": _start_time(p.anchor_us, p.timezone),
                    "timeZone": p.timezone,
                }
            },
        }
    return trigger_resource(factory, name, properties)


def trigger_resource(factory: FactorySpec, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{factory.arm_id}/triggers/{name}",
        "name": name,
        "type": TRIGGER_TYPE,
        "properties": properties,
        "etag": _etag(f"{factory.name}/{name}"),
    }


def factory_triggers(factory: FactorySpec) -> list[dict[str, Any]]:
    """Every trigger of a factory, by name, as triggers/list answers them."""
    triggers = [t for p in factory.pipelines.values() if (t := pipeline_trigger(factory, p)) is not None]
    triggers += [trigger_resource(factory, t["name"], t["properties"]) for t in factory.extra_triggers]
    return sorted(triggers, key=lambda t: str(t["name"]).casefold())


def quartz_schedule(interval_us: int, anchor_us: int, zone: str) -> str | None:
    """The Quartz cron (seconds first) due at the anchor and every interval after it, or None when no cron steps by
    this interval."""
    if interval_us <= 0 or interval_us % MINUTE_US:
        return None
    at = _datetime(anchor_us, zone)
    minutes = interval_us // MINUTE_US
    if minutes < 60 and 60 % minutes == 0:
        return f"{at.second} {at.minute % minutes}/{minutes} * * * ?"
    if minutes == 60:
        return f"{at.second} {at.minute} * * * ?"
    hours, rest = divmod(minutes, 60)
    if rest == 0 and 24 % hours == 0:
        return (
            f"{at.second} {at.minute} {at.hour % hours}/{hours} * * ?"
            if hours < 24
            else (f"{at.second} {at.minute} {at.hour} * * ?")
        )
    return None


def job_schedule(job: JobSpec) -> dict[str, Any] | None:
    """A job's `settings.schedule`, or None when it has none."""
    cron = quartz_schedule(job.interval_us, job.anchor_us, job.timezone)
    if cron is None:
        return None
    return {
        "quartz_cron_expression": cron,
        "timezone_id": job.timezone,
        "pause_status": "PAUSED" if job.paused else "UNPAUSED",
    }
