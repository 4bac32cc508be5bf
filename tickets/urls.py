"""Inbound routes of the ticket sync; included by aimsweb.urls under integrations/."""

from django.urls import path

from tickets.views import jira_webhook, servicenow_callback

app_name = "tickets"

urlpatterns = [
    path("jira/<int:route_id>/", jira_webhook, name="jira"),
    path("servicenow/<int:route_id>/", servicenow_callback, name="servicenow"),
]
