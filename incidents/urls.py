from django.urls import path

from incidents.views import incident_list_view

app_name = "incidents"

urlpatterns = [
    path("", incident_list_view, name="list"),
]
