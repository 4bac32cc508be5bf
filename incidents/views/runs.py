"""One run's page, routed under monitors' URL names (monitors:run-detail) by aimsweb.urls."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.pages.run_detail import run_detail_page
from monitors.selectors import pipeline_run_get


@permission_required("monitors.view_pipelinerun", raise_exception=True)
def run_detail_view(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run: its facts and full error, its analysis, retry attempts, incidents, pipeline and contracts."""
    run = pipeline_run_get(run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    return render(request, "monitors/run_detail.html", run_detail_page(run=run))
