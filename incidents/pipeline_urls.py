"""The pipeline pages, which count incidents, and a run's page, which shows its analysis and incidents: aimsweb.urls
serves them under monitors' namespace (monitors:pipeline-list, monitors:pipeline-detail, monitors:run-detail) beside
the runs page, at the paths they always had."""

from django.urls import path

from incidents.views.pipelines import pipeline_detail_view, pipeline_list_view
from incidents.views.runs import run_detail_view

urlpatterns = [
    path("pipelines/", pipeline_list_view, name="pipeline-list"),
    path("pipelines/<int:pipeline_id>/", pipeline_detail_view, name="pipeline-detail"),
    path("runs/<int:run_id>/", run_detail_view, name="run-detail"),
]
