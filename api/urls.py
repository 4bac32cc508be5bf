from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api.views import docs, errors
from api.views.incidents import IncidentViewSet
from api.views.tickets import IncidentTicketsView, IncidentTicketView, TicketLinkViewSet
from api.views.timeline import (
    IncidentAnalysesView,
    IncidentAttemptsView,
    IncidentRunRetryView,
    IncidentRunsView,
    IncidentTimelineView,
)

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("tickets", TicketLinkViewSet, basename="ticket")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/incidents/<int:incident_id>/timeline", IncidentTimelineView.as_view(), name="incident-timeline"),
    path("v1/incidents/<int:incident_id>/runs", IncidentRunsView.as_view(), name="incident-runs"),
    path(
        "v1/incidents/<int:incident_id>/runs/<int:run_id>/retry",
        IncidentRunRetryView.as_view(),
        name="incident-run-retry",
    ),
    path("v1/incidents/<int:incident_id>/analyses", IncidentAnalysesView.as_view(), name="incident-analyses"),
    path("v1/incidents/<int:incident_id>/attempts", IncidentAttemptsView.as_view(), name="incident-attempts"),
    path("v1/incidents/<int:incident_id>/tickets", IncidentTicketsView.as_view(), name="incident-tickets"),
    path(
        "v1/incidents/<int:incident_id>/tickets/<int:link_id>",
        IncidentTicketView.as_view(),
        name="incident-ticket",
    ),
    # The reference pages are for people who can sign in (scripts read the committed api/openapi.yaml).
    path("schema", login_required(docs.SchemaView.as_view()), name="schema"),
    path("docs/", login_required(docs.SwaggerView.as_view()), name="docs"),
    path("redoc/", login_required(docs.RedocView.as_view()), name="redoc"),
    re_path(r"^(?P<path>.*)$", errors.not_found),
]
