from django.urls import path

from monitors.views import pipeline_detail_view, pipeline_list_view, run_list_view

app_name = "monitors"

urlpatterns = [
    path("pipelines/", pipeline_list_view, name="pipeline-list"),
    path("pipelines/<int:pipeline_id>/", pipeline_detail_view, name="pipeline-detail"),
    path("runs/", run_list_view, name="run-list"),
]
