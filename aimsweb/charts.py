"""Geometry of small server-rendered SVG charts any app may draw: a sparkline, and a metric's series with its band
(low..high), its expected line and its anomalous points.

The functions are pure: numbers in, coordinates (in a fixed viewBox the SVG scales to) and plain-text labels out.
Templates draw them with classes that read the theme's variables, never `style=` (the Content-Security-Policy
refuses inline styles)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

BAND_WIDTH = 600
BAND_HEIGHT = 160
BAND_PAD = 6.0  # room above the highest and below the lowest mark, so circles are not cut off

T = TypeVar("T")


def _r(value: float) -> float:
    return round(value, 1)


def _scale(values: Sequence[float], low: float | None, high: float | None) -> tuple[float, float]:
    bottom = min(values) if low is None else low
    top = max(values) if high is None else high
    if top <= bottom:  # a flat series is drawn across the middle
        bottom, top = bottom - 1, top + 1
    return bottom, top


def _runs(items: Sequence[T | None]) -> list[list[T]]:
    """Consecutive known items, split where one is missing."""
    runs: list[list[T]] = [[]]
    for item in items:
        if item is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(item)
    return [run for run in runs if run]


def _path(coordinates: Sequence[tuple[float, float] | None]) -> str:
    """SVG path data with a gap wherever a coordinate is missing; a lone point is a dot (a zero-length segment that
    round line caps draw)."""
    parts = []
    for run in _runs(coordinates):
        first, *rest = run
        parts.append(f"M{first[0]},{first[1]}" + "".join(f" L{x},{y}" for x, y in rest or [first]))
    return " ".join(parts)


def sparkline(
    values: list[float | None], *, width: float, height: float, low: float | None = None, high: float | None = None
) -> str:
    """Path data (`<path d=...>`) of a line through the values, left to right, with a gap for each None. The
    vertical scale runs from `low` to `high` when given (a score on 0-100), else from the values' own extremes.
    Empty when no value is known."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    bottom, top = _scale(known, low, high)
    step = width / (len(values) - 1) if len(values) > 1 else 0.0
    coordinates = [
        None
        if value is None
        else (
            _r(index * step if len(values) > 1 else width / 2),
            _r(height - (value - bottom) / (top - bottom) * height),
        )
        for index, value in enumerate(values)
    ]
    return _path(coordinates)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _label(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 10_000 else f"{value:,.0f}"


@dataclass
class BandPoint:
    """One point of a band chart: its numbers, where it is drawn, and its time as the axis and table show it."""

    t: datetime | None
    value: float
    expected: float | None
    low: float | None
    high: float | None
    anomalous: bool
    x: float = 0.0
    y: float = 0.0
    when: str = ""


def band_chart(points: list[dict]) -> dict:
    """What a template needs to draw a metric's series over its band, from [{t, value, expected, low, high,
    anomalous}, ...] in time order (t a datetime or an ISO string; the numbers may be None while the detector
    learns): the value line, the band polygons (one per stretch where a band is known), the expected line, the
    anomalous points to circle, the axis labels, a sentence saying it in words and the rows of a table behind it."""
    rows = [
        BandPoint(
            t=_moment(point.get("t")),
            value=value,
            expected=_number(point.get("expected")),
            low=_number(point.get("low")),
            high=_number(point.get("high")),
            anomalous=bool(point.get("anomalous")),
        )
        for point in points
        if (value := _number(point.get("value"))) is not None
    ]
    chart: dict[str, Any] = {"width": BAND_WIDTH, "height": BAND_HEIGHT, "rows": rows, "empty": not rows}
    if not rows:
        chart.update(value_path="", expected_path="", bands=[], anomalies=[], description="No points yet.")
        return chart
    numbers = [r.value for r in rows] + [n for r in rows for n in (r.low, r.high, r.expected) if n is not None]
    bottom, top = _scale(numbers, None, None)
    inner = BAND_HEIGHT - 2 * BAND_PAD
    step = BAND_WIDTH / (len(rows) - 1) if len(rows) > 1 else 0.0

    def x(index: int) -> float:
        return _r(index * step if len(rows) > 1 else BAND_WIDTH / 2)

    def y(value: float) -> float:
        return _r(BAND_PAD + (top - value) / (top - bottom) * inner)

    hourly = any(r.t is not None and (r.t.hour or r.t.minute) for r in rows)
    for index, row in enumerate(rows):
        row.x, row.y = x(index), y(row.value)
        row.when = _when(row.t, hourly=hourly)
    bands = []
    for stretch in _runs([r if r.low is not None and r.high is not None else None for r in rows]):
        upper = [f"{r.x},{y(r.high)}" for r in stretch if r.high is not None]
        lower = [f"{r.x},{y(r.low)}" for r in reversed(stretch) if r.low is not None]
        bands.append(" ".join(upper + lower))
    anomalies = [row for row in rows if row.anomalous]
    latest = rows[-1]
    lowest, highest = min(r.value for r in rows), max(r.value for r in rows)
    chart.update(
        value_path=_path([(r.x, r.y) for r in rows]),
        expected_path=_path([(r.x, y(r.expected)) if r.expected is not None else None for r in rows]),
        bands=bands,
        anomalies=anomalies,
        first_label=rows[0].when,
        last_label=latest.when,
        min_label=_label(bottom),
        max_label=_label(top),
        description=(
            f"{len(rows)} point{'' if len(rows) == 1 else 's'} from {rows[0].when} to {latest.when}, between "
            f"{_label(lowest)} and {_label(highest)}; latest {_label(latest.value)}"
            + (f", expected {_label(latest.expected)}" if latest.expected is not None else "")
            + f"; {len(anomalies)} outside the usual band."
        ),
    )
    return chart


def _when(moment: datetime | None, *, hourly: bool) -> str:
    if moment is None:
        return "?"
    return moment.strftime("%Y-%m-%d %H:%M" if hourly else "%Y-%m-%d")
