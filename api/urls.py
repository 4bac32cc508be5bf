from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api.views import docs, errors
from api.views.connections import ConnectionViewSet
from api.views.contracts import ContractViewSet, ContractViolationListView, ViolationListView
from api.views.incidents import IncidentViewSet
from api.views.me import MeView
from api.views.pipelines import PipelineHealthView, PipelineRunListView, PipelineViewSet
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
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("contracts", ContractViewSet, basename="contract")
router.register("connections", ConnectionViewSet, basename="connection")

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
    path("v1/pipelines/<int:pipeline_id>/runs", PipelineRunListView.as_view(), name="pipeline-runs"),
    path("v1/pipelines/<int:pipeline_id>/health", PipelineHealthView.as_view(), name="pipeline-health"),
    path("v1/contracts/<int:contract_id>/violations", ContractViolationListView.as_view(), name="contract-violations"),
    path("v1/violations", ViolationListView.as_view(), name="violations"),
    path("v1/me", MeView.as_view(), name="me"),
    # The reference pages are for people who can sign in (scripts read the committed api/openapi.yaml).
    path("schema", login_required(docs.SchemaView.as_view()), name="schema"),
    path("docs/", login_required(docs.SwaggerView.as_view()), name="docs"),
    path("redoc/", login_required(docs.RedocView.as_view()), name="redoc"),
    re_path(r"^(?P<path>[\s\S]*)$", errors.not_found),  # any path, line breaks included
]
