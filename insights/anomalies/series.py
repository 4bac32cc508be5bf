"""Reading the labelled series of a JSON Lines corpus (one series per line) into typed records."""

import json
from dataclasses import dataclass
from datetime import datetime


class SeriesLineError(ValueError):
    """A line that is not a series: says which field is wrong."""


@dataclass(frozen=True)
class Series:
    id: str | None
    kind: str
    granularity: str
    points: list[tuple[datetime, float]]
    labels: frozenset[int]


def series_from_line(line: str) -> Series:
    """Parse one corpus line; labels are optional (the measured input carries none)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SeriesLineError(f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SeriesLineError("the line is not a JSON object")
    series_id = data.get("id")
    kind, granularity, raw_points = data.get("kind"), data.get("granularity"), data.get("points")
    if not isinstance(kind, str) or not isinstance(granularity, str):
        raise SeriesLineError("the fields kind and granularity must be strings")
    if not isinstance(raw_points, list):
        raise SeriesLineError("the field points must be a list")
    points = []
    for index, point in enumerate(raw_points):
        try:
            moment = datetime.fromisoformat(point["t"].replace("Z", "+00:00"))
            value = point["value"]
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            raise SeriesLineError(f"points[{index}]: needs t (ISO-8601) and value") from exc
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SeriesLineError(f"points[{index}].value: {value!r} is not a number")
        points.append((moment, float(value)))
    labels = data.get("labels") or []
    return Series(str(series_id) if series_id is not None else None, kind, granularity, points, frozenset(labels))
