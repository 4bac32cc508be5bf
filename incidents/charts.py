"""Geometry of the dashboard's server-rendered SVG charts, as plain data the template draws.

The functions are pure: they take numbers and labels and return coordinates in a fixed viewBox (the SVG scales to
its container). Labels stay plain text and are escaped by the template like any other value; colours are CSS classes
that read the theme's variables, so the charts follow dark mode.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """One stacked series (an error class): `key` names its CSS class, `label` is shown."""

    key: str
    label: str


@dataclass(frozen=True)
class Bucket:
    """The input for one column: its full label, the axis label ('' to leave the axis blank there), counts by key."""

    label: str
    axis_label: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Segment:
    series: Series
    value: int
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    label: str
    axis_label: str
    x: float
    width: float
    center: float
    total: int
    segments: tuple[Segment, ...]
    values: tuple[int, ...]  # one per shown series, in legend order (for the table behind the chart)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class StackedBarChart:
    width: int
    height: int
    left: int
    right: float
    tick_x: float
    baseline: float
    axis_label_y: float
    columns: tuple[Column, ...]
    series: tuple[Series, ...]  # only the series that have a count, in the order given
    ticks: tuple[Tick, ...]
    total: int


@dataclass(frozen=True)
class BarItem:
    label: str
    value: int
    href: str


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    href: str
    value: int
    y: float
    height: float
    text_y: float
    bar_x: float
    bar_width: float
    value_x: float


@dataclass(frozen=True)
class HorizontalBarChart:
    width: int
    height: int
    label_x: float
    bars: tuple[Bar, ...]


def nice_step(maximum: int, *, intervals: int = 4) -> int:
    """A whole 1-2-5 step that covers `maximum` in at most `intervals` gridlines."""
    raw = max(maximum, 1) / intervals
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return int(multiple * magnitude)
    raise AssertionError("unreachable: 10 × magnitude always covers raw")


def stacked_bars(
    *,
    buckets: Sequence[Bucket],
    series: Sequence[Series],
    width: int = 480,
    height: int = 210,
    left: int = 34,
    right: int = 6,
    top: int = 8,
    bottom: int = 22,
) -> StackedBarChart:
    """Columns of stacked segments, one per bucket, with a whole-number y axis."""
    shown = tuple(s for s in series if any(bucket.counts.get(s.key, 0) for bucket in buckets))
    totals = [sum(bucket.counts.get(s.key, 0) for s in shown) for bucket in buckets]
    step = nice_step(max(totals, default=0))
    top_value = step * max(1, math.ceil(max(totals, default=0) / step))
    baseline = height - bottom
    plot_height = baseline - top
    scale = plot_height / top_value
    slot = (width - left - right) / max(len(buckets), 1)
    bar_width = slot * 0.72
    columns = []
    for index, (bucket, total) in enumerate(zip(buckets, totals, strict=True)):
        x = left + index * slot + (slot - bar_width) / 2
        segments, stacked = [], 0.0
        for s in shown:
            value = bucket.counts.get(s.key, 0)
            if value:
                segment_height = value * scale
                stacked += segment_height
                segments.append(Segment(s, value, _r(baseline - stacked), _r(segment_height)))
        columns.append(
            Column(
                label=bucket.label,
                axis_label=bucket.axis_label,
                x=_r(x),
                width=_r(bar_width),
                center=_r(x + bar_width / 2),
                total=total,
                segments=tuple(segments),
                values=tuple(bucket.counts.get(s.key, 0) for s in shown),
            )
        )
    ticks = tuple(Tick(_r(baseline - value * scale), str(value)) for value in range(0, top_value + 1, step))
    return StackedBarChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        tick_x=left - 4,
        baseline=_r(baseline),
        axis_label_y=_r(baseline + bottom - 6),
        columns=tuple(columns),
        series=shown,
        ticks=ticks,
        total=sum(totals),
    )


def horizontal_bars(
    *,
    items: Sequence[BarItem],
    width: int = 480,
    label_width: int = 170,
    row_height: int = 24,
    value_room: int = 40,
    max_label_chars: int = 24,
) -> HorizontalBarChart:
    """One labelled bar per item, longest first as given, scaled to the largest value."""
    largest = max((item.value for item in items), default=0) or 1
    room = width - label_width - value_room
    bars = []
    for index, item in enumerate(items):
        y = index * row_height
        bar_width = max(item.value / largest * room, 1.0)
        bars.append(
            Bar(
                label=item.label,
                short_label=truncate(item.label, max_label_chars),
                href=item.href,
                value=item.value,
                y=_r(y + 4),
                height=row_height - 8,
                text_y=_r(y + row_height / 2 + 4),
                bar_x=label_width,
                bar_width=_r(bar_width),
                value_x=_r(label_width + bar_width + 5),
            )
        )
    return HorizontalBarChart(
        width=width, height=max(len(items), 1) * row_height, label_x=label_width - 8, bars=tuple(bars)
    )


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (SVG text does not wrap or clip by itself)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _r(value: float) -> float:
    return round(value, 2)
