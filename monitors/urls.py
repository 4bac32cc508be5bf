from django.urls import path

from monitors.views import run_export_view, run_list_view

app_name = "monitors"

# The pipeline pages share this namespace but count incidents, so incidents serves them (incidents.pipeline_urls).
urlpatterns = [
    path("runs/", run_list_view, name="run-list"),
    path("runs/export/", run_export_view, name="run-export"),
]
