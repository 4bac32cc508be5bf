"""The pipelines list and one pipeline's page: monitors' runs and health with the pipelines' open incidents."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator

from aimsweb.querystring import positive_int, query_string
from incidents.pages.retries import retry_badges_of_runs
from incidents.selectors.pipelines import PipelineSort, pipeline_list_with_incidents, pipeline_open_incidents
from monitors.charts import duration_trend, run_strip
from monitors.models import Pipeline, PipelineRun
from monitors.selectors import (
    WeekCounts,
    connection_list,
    pipeline_detail,
    pipeline_run_strips,
    pipeline_week_counts,
)
from remediation.selectors import retry_counts

PIPELINES_PER_PAGE = 50
STRIP_SIZE = 20


@dataclass(frozen=True)
class PipelineSummary:
    """One row of the pipelines list: the pipeline, its latest runs (oldest first) and its recent health."""

    pipeline: Pipeline
    runs: list[PipelineRun]
    failed: int
    finished: int
    open_incidents: int

    @property
    def failure_rate(self) -> float | None:
        return WeekCounts(failed=self.failed, finished=self.finished).failure_rate

    @property
    def last_run(self) -> PipelineRun | None:
        return self.runs[-1] if self.runs else None


def pipeline_list_page_for(*, params: Mapping[str, Any]) -> dict[str, Any]:
    """The pipelines list for these query-string params (connection, q, sort, page), as its page and websocket
    show it; an unknown connection or sort is left out."""
    sort = params.get("sort", "")
    page = pipeline_list_page(
        connection_id=positive_int(params.get("connection")),
        search=(params.get("q") or "").strip()[:200],
        sort=sort if sort in PipelineSort.values else PipelineSort.NAME,
        page=params.get("page", 1),
    )
    number = page["page"].number
    page["query"] = query_string(
        {
            "connection": page["connection_id"],
            "q": page["search"],
            "sort": page["sort"],
            "page": number if number > 1 else None,
        }
    )
    return page


def pipeline_list_page(
    *, connection_id: int | None, search: str, sort: str, page: int | str = 1, per_page: int = PIPELINES_PER_PAGE
) -> dict[str, Any]:
    """A page of pipelines with, for each, its last 20 runs as a strip, its failed and finished runs of the last
    7 days and its open incidents, in four queries (count, page, week, strips) whatever the page size."""
    pipelines = pipeline_list_with_incidents(
        connection_id=connection_id, search=search, sort=sort, strip_size=STRIP_SIZE
    )
    page_obj = Paginator(pipelines, per_page).get_page(page)
    rows = list(page_obj.object_list)
    week = pipeline_week_counts(pipeline_ids=[p.pk for p in rows])
    # vars(): the selectors' annotations, which the model class does not declare.
    strips = pipeline_run_strips(boundaries={p.pk: vars(p)["strip_since"] for p in rows}, size=STRIP_SIZE)
    summaries = []
    for pipeline in rows:
        counts = week.get(pipeline.pk, WeekCounts())
        summaries.append(
            PipelineSummary(
                pipeline=pipeline,
                runs=strips.get(pipeline.pk, []),
                failed=counts.failed,
                finished=counts.finished,
                open_incidents=vars(pipeline)["open_incidents"],
            )
        )
    return {
        "rows": [(summary, run_strip(summary.runs, pipeline_id=summary.pipeline.pk)) for summary in summaries],
        "page": page_obj,
        "filters": query_string({"connection": connection_id, "q": search, "sort": sort}),
        "connections": connection_list(),
        "connection_id": connection_id,
        "search": search,
        "sort": sort,
        "sorts": PipelineSort.choices,
    }


def pipeline_detail_page(*, pipeline: Pipeline) -> dict[str, Any]:
    """One pipeline: its week in numbers, its latest runs as a strip and a duration trend, and its open incidents."""
    detail = pipeline_detail(pipeline=pipeline)
    retries = retry_counts(run_ids=[run.pk for run in detail.runs])
    retry_badges_of_runs(detail.runs)
    for run in detail.runs:
        run.retries = retries.get(run.pk, 0)  # type: ignore[attr-defined]  # shown in the runs table
    return {
        "pipeline": pipeline,
        "detail": detail,
        "open_incidents": list(pipeline_open_incidents(pipeline_id=pipeline.pk)),
        "strip": run_strip(detail.strip, pipeline_id=pipeline.pk),
        "trend": duration_trend(detail.trend),
    }
