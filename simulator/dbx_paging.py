"""Jobs API 2.2 array paging: a run's tasks, iterations, job clusters, job parameters and repair history come 100 at
a time. runs/get hands out `next_page_token` for the next slice of every array (arrays with nothing more come back
empty); runs/list shows the first slice only and marks the run `has_more`."""

from __future__ import annotations

from typing import Any

ARRAY_PAGE_SIZE = 100
PAGED_ARRAYS = ("tasks", "iterations", "job_clusters", "job_parameters", "repair_history")


def run_array_page(run: dict[str, Any], page: int) -> dict[str, Any]:
    """The run with each array cut to its `page`-th slice and `has_more` saying whether any array goes on."""
    start, end = page * ARRAY_PAGE_SIZE, (page + 1) * ARRAY_PAGE_SIZE
    out = dict(run)
    more = False
    for key in PAGED_ARRAYS:
        if key in run:
            out[key] = run[key][start:end]
            more = more or len(run[key]) > end
    out["has_more"] = more
    return out
