"""The runs page as its view, its websocket and its export see it: the filters of the query string (status, search,
pipeline, time range) checked once, then a page of runs or the file of every matching run."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import StreamingHttpResponse

from aimsweb.export import EXPORT_MAX, export_response, export_text
from aimsweb.querystring import positive_int, query_string
from aimsweb.time_range import TimeRange, TimeRangeForm, period_chips
from monitors.models import Pipeline, PipelineRun
from monitors.run_rows import run_rows_annotate
from monitors.selectors import pipeline_get, pipeline_run_list, pipeline_run_matching, pipeline_run_page

RUNS_PER_PAGE = 50
RUN_EXPORT_COLUMNS = (
    "id",
    "pipeline",
    "connection",
    "external_run_id",
    "status",
    "started_at",
    "ended_at",
    "duration_ms",
    "failed_step",
    "error_code",
    "error",
)


@dataclass(frozen=True)
class RunFilters:
    status: str
    search: str
    pipeline: Pipeline | None
    time_range: TimeRange
    form: TimeRangeForm
    problems: list[str]

    def params(self) -> dict[str, object]:
        return {
            "status": self.status,
            "q": self.search,
            "pipeline": self.pipeline.pk if self.pipeline else None,
            **self.time_range.params(),
        }


def run_filters(params: Mapping[str, Any]) -> RunFilters:
    """The runs page's filters; an unknown status or pipeline filters nothing, an invalid range is reported."""
    status = params.get("status", "")
    if status not in PipelineRun.Status.values:
        status = ""
    pipeline_id = positive_int(params.get("pipeline"))
    form = TimeRangeForm(data=params, auto_id="runs-%s")
    form.is_valid()
    problems = [f"{form.fields[name].label}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]
    return RunFilters(
        status=status,
        search=(params.get("q") or "").strip()[:200],
        pipeline=pipeline_get(pipeline_id=pipeline_id) if pipeline_id else None,
        time_range=form.time_range(),
        form=form,
        problems=problems,
    )


def run_list_page(*, params: Mapping[str, Any]) -> dict[str, Any]:
    """The runs page's context: a page of runs (50, newest first) for these query-string params."""
    filters = run_filters(params)
    page = pipeline_run_page(
        status=filters.status,
        search=filters.search,
        pipeline_id=filters.pipeline.pk if filters.pipeline else None,
        since=filters.time_range.since,
        until=filters.time_range.until,
        page=positive_int(params.get("page")) or 1,
        per_page=RUNS_PER_PAGE,
    )
    run_rows_annotate(page.runs)  # e.g. the retry badges of the layers above
    kept = filters.params()

    def link(**changes: object) -> str:
        return "?" + query_string({**kept, **changes})

    return {
        "quick_filters": period_chips(filters.time_range, link),
        "runs": page.runs,
        "page": page,
        "form": filters.form,
        "problems": filters.problems,
        "filters": query_string(kept),
        "filters_but_pipeline": query_string({**kept, "pipeline": None}),
        "query": query_string({**kept, "page": page.number if page.number > 1 else None}),
        "export_query": query_string(kept),
        "status": filters.status,
        "search": filters.search,
        "pipeline": filters.pipeline,
        "time_range": filters.time_range,
        "statuses": PipelineRun.Status.choices,
    }


def _row(run: PipelineRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "pipeline": run.pipeline.name,
        "connection": run.connection.name,
        "external_run_id": run.external_run_id,
        "status": run.status,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_ms": run.duration_ms,
        "failed_step": export_text(run.failed_step),
        "error_code": export_text(run.error_code),
        "error": export_text(run.error_message),
    }


def run_export(*, params: Mapping[str, Any], export_format: str) -> StreamingHttpResponse:
    """Every run the runs page's filters select (the first EXPORT_MAX), as a CSV or JSON download."""
    filters = run_filters(params)
    pipeline_id = filters.pipeline.pk if filters.pipeline else None
    since, until = filters.time_range.since, filters.time_range.until
    total = pipeline_run_matching(
        status=filters.status, search=filters.search, pipeline_id=pipeline_id, since=since, until=until
    ).count()
    runs = pipeline_run_list(
        status=filters.status,
        search=filters.search,
        pipeline_id=pipeline_id,
        since=since,
        until=until,
        limit=EXPORT_MAX,
    )

    def rows() -> Iterator[dict[str, Any]]:
        for run in runs.iterator(chunk_size=500):
            yield _row(run)

    return export_response(
        export_format=export_format, name="runs", columns=RUN_EXPORT_COLUMNS, rows=rows(), total=total, limit=EXPORT_MAX
    )
