from django.urls import path

from monitors.views import run_list_view

app_name = "monitors"

urlpatterns = [
    path("runs/", run_list_view, name="run-list"),
]
