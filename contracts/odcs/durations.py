"""SLA values as durations: ODCS writes `value: 4` with `unit: h` (or `d`, `min`, `days`, ...), and sometimes an
ISO-8601 duration such as `PT4H` or `P1D`."""

import re

_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
    **dict.fromkeys(("w", "week", "weeks"), 604800.0),
}
# Months and years have no fixed length, so a `retention: 5 y` is not a duration a check can compare with.
_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_ISO_SECONDS = {"weeks": 604800.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
_NUMBER_AND_UNIT = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)", re.IGNORECASE)


def duration_seconds(value: object, unit: str | None) -> float | None:
    """Seconds in `value` `unit` (`4`, `"h"`; `"PT4H"`, None; `"30 min"`, None), or None when the pair is not a
    duration of fixed length (an unknown unit, years, a date, a boolean)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        factor = _UNIT_SECONDS.get((unit or "").strip().lower())
        return float(value) * factor if factor is not None else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    iso = _ISO_DURATION.fullmatch(text)
    if iso and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
        return sum(float(amount) * _ISO_SECONDS[part] for part, amount in iso.groupdict().items() if amount)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return duration_seconds(float(text), unit)
    written = _NUMBER_AND_UNIT.fullmatch(text)
    if written and not unit:
        return duration_seconds(float(written["number"]), written["unit"])
    return None
