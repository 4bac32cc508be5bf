"""Pages of pipelines: the list with each pipeline's health and open incidents, and one pipeline's page. Routed
under monitors' URL names (pipeline-list, pipeline-detail) by aimsweb.urls."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from aimsweb.htmx import partial_only
from incidents.pages.pipelines import pipeline_detail_page, pipeline_list_page_for
from monitors.selectors import pipeline_get

LIST = "monitors/pipeline_list.html"


@permission_required("monitors.view_pipeline", raise_exception=True)
@vary_on_headers("HX-Request")
def pipeline_list_view(request: HttpRequest) -> HttpResponse:
    """Every pipeline with its latest runs and recent health, filtered, searched and sorted, 50 a page; only the
    results for an htmx request."""
    context = pipeline_list_page_for(params=request.GET)
    return render(request, f"{LIST}#results" if partial_only(request) else LIST, context)


@permission_required("monitors.view_pipeline", raise_exception=True)
def pipeline_detail_view(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """One pipeline: who owns it, its week in numbers, its latest runs and durations, and its open incidents."""
    pipeline = pipeline_get(pipeline_id=pipeline_id)
    if pipeline is None:
        raise Http404("No such pipeline.")
    return render(request, "monitors/pipeline_detail.html", pipeline_detail_page(pipeline=pipeline))
