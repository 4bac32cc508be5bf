from django.urls import path

from incidents.consumers import IncidentListConsumer

websocket_urlpatterns = [
    path("ws/incidents/", IncidentListConsumer.as_asgi(), name="ws-incidents"),
]
