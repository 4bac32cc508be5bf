from django.urls import path

from incidents.live import DashboardConsumer, IncidentListConsumer, IncidentPageConsumer
from incidents.live_lists import PipelineListConsumer, RunListConsumer

websocket_urlpatterns = [
    path("ws/incidents/", IncidentListConsumer.as_asgi(), name="ws-incidents"),
    path("ws/incidents/<int:incident_id>/", IncidentPageConsumer.as_asgi(), name="ws-incident"),
    path("ws/dashboard/", DashboardConsumer.as_asgi(), name="ws-dashboard"),
    path("ws/runs/", RunListConsumer.as_asgi(), name="ws-runs"),
    path("ws/pipelines/", PipelineListConsumer.as_asgi(), name="ws-pipelines"),
]
