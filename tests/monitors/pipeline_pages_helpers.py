"""What the pipeline and runs pages' tests share: runs started a given time ago, and the run strip's cells."""

import re
from datetime import timedelta

from django.utils import timezone

from monitors.models import Pipeline, PipelineRun
from tests.monitors.factories import make_run

S = PipelineRun.Status


def run_at(pipeline: Pipeline, status: str, ago: timedelta, duration_ms: int | None = 300_000, **fields) -> PipelineRun:
    started = timezone.now() - ago
    ended = started + timedelta(milliseconds=duration_ms) if duration_ms is not None else None
    return make_run(pipeline, status=status, started_at=started, ended_at=ended, duration_ms=duration_ms, **fields)


def strip_cells(html: str) -> list[tuple[str, int]]:
    """(status, run id) of each strip cell, in page order."""
    return [
        (status, int(run_id))
        for status, run_id in re.findall(r'class="run-cell run-cell-(\w+)"[^>]*?#run-(\d+)"', html, re.S)
    ]
