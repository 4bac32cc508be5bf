"""Server-rendered charts: run strips and small inline SVG, coloured by the stylesheet (so they follow dark mode),
every text escaped by format_html. Built in Python rather than in templates: the pipelines page draws a thousand
strip cells, and rendered by the template engine they took longer than the rest of the page."""

from collections.abc import Sequence
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from aimsweb.templatetags.aims import duration_ms
from monitors.models import PipelineRun

# The drawing is stretched to its box (preserveAspectRatio="none") with strokes that do not scale, so it fills
# 390 px and 1280 px alike; its text lives in HTML around it, which a stretched SVG would distort.
WIDTH = 600
HEIGHT = 120
TOP_PAD = 6

STATUS_LABELS = dict(PipelineRun.Status.choices)


def _when(moment: datetime | None, *, unknown: str = "—") -> str:
    # strftime, not the date filter: this runs for each of a thousand cells.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else unknown


def _label(run: PipelineRun) -> str:
    started = _when(run.started_at, unknown="not started")
    return f"{STATUS_LABELS.get(run.status, run.status)}, {started}, {duration_ms(run.duration_ms)}"


def run_strip(runs: Sequence[PipelineRun], *, pipeline_id: int) -> SafeString:
    """One small coloured cell per run, oldest first, each titled with its status, start and duration and linking
    to the run's row on the runs page of its pipeline. Cells stay out of the tab order (the pipelines page holds a
    thousand); the page's other links to the runs page are the keyboard's way there."""
    if not runs:
        return mark_safe('<p class="muted run-strip-empty">No runs yet</p>')
    runs_url = f"{reverse('monitors:run-list')}?pipeline={pipeline_id}"
    cells = format_html_join(
        "",
        '<li><a class="run-cell run-cell-{}" tabindex="-1" href="{}#run-{}" title="{}"></a></li>',
        ((run.status, runs_url, run.pk, _label(run)) for run in runs),
    )
    label = f"Last {len(runs)} run{'' if len(runs) == 1 else 's'}, oldest first"
    return format_html('<ol class="run-strip" aria-label="{}">{}</ol>', label, cells)


def _duration(run: PipelineRun) -> int:
    assert run.duration_ms is not None  # the trend holds only runs that have a duration (see pipeline_detail)
    return run.duration_ms


def duration_trend(runs: Sequence[PipelineRun], *, chart_id: str = "duration-trend") -> SafeString:
    """A line and area chart of run durations, oldest run on the left; failed runs are marked with a red stem.
    Each point has a tooltip; the figure says in words what it shows."""
    if not runs:
        return mark_safe('<p class="muted">No finished run with a duration yet.</p>')
    longest = max(_duration(run) for run in runs) or 1
    failed = sum(run.status == PipelineRun.Status.FAILED for run in runs)
    step = WIDTH / (len(runs) - 1) if len(runs) > 1 else 0
    points = []
    for index, run in enumerate(runs):
        x = index * step if len(runs) > 1 else WIDTH / 2
        y = HEIGHT - (_duration(run) / longest) * (HEIGHT - TOP_PAD)
        points.append((round(x, 1), round(y, 1)))
    line = " ".join(f"{x},{y}" for x, y in points)
    area = f"M{points[0][0]},{HEIGHT} L{line} L{points[-1][0]},{HEIGHT} Z"
    hit_width = step or WIDTH
    marks = format_html_join(
        "",
        '<g class="pl-trend-point{}">'
        '<rect class="pl-trend-hit" x="{}" y="0" width="{}" height="{}"><title>{}</title></rect>{}'
        "</g>",
        (
            (
                " pl-trend-failed" if run.status == PipelineRun.Status.FAILED else "",
                round(max(x - hit_width / 2, 0), 1),
                round(hit_width, 1),
                HEIGHT,
                _label(run),
                format_html('<line class="pl-trend-stem" x1="{}" y1="{}" x2="{}" y2="{}"/>', x, HEIGHT, x, y)
                if run.status == PipelineRun.Status.FAILED
                else "",
            )
            for run, (x, y) in zip(runs, points, strict=True)
        ),
    )
    first, last = _when(runs[0].started_at), _when(runs[-1].started_at)
    description = (
        f"Durations of the last {len(runs)} finished runs, from {first} to {last}: "
        f"longest {duration_ms(longest)}, latest {duration_ms(runs[-1].duration_ms)}; "
        f"{failed} failed run{'' if failed == 1 else 's'} marked."
    )
    return format_html(
        '<figure class="pl-trend">'
        '<div class="pl-trend-axis"><span>{}</span><span class="muted">0</span></div>'
        '<svg class="pl-trend-chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
        'aria-labelledby="{}-title {}-desc" data-points="{}">'
        '<title id="{}-title">Run duration trend</title><desc id="{}-desc">{}</desc>'
        '<line class="pl-trend-grid" x1="0" y1="{}" x2="{}" y2="{}"/>'
        '<line class="pl-trend-grid" x1="0" y1="{}" x2="{}" y2="{}"/>'
        '<path class="pl-trend-area" d="{}"/><polyline class="pl-trend-line" points="{}"/>{}</svg>'
        '<figcaption class="pl-trend-caption"><span>{}</span><span>{}</span></figcaption>'
        "</figure>",
        duration_ms(longest),
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        len(runs),
        chart_id,
        chart_id,
        description,
        TOP_PAD,
        WIDTH,
        TOP_PAD,
        HEIGHT,
        WIDTH,
        HEIGHT,
        area,
        line,
        marks,
        first,
        last,
    )
