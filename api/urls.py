from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api.views import docs, errors
from api.views.connections import ConnectionViewSet
from api.views.contracts import ContractViewSet, ContractViolationListView, ViolationListView
from api.views.incidents import IncidentViewSet
from api.views.me import MeView
from api.views.pipelines import PipelineHealthView, PipelineRunListView, PipelineViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("contracts", ContractViewSet, basename="contract")
router.register("connections", ConnectionViewSet, basename="connection")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/pipelines/<int:pipeline_id>/runs", PipelineRunListView.as_view(), name="pipeline-runs"),
    path("v1/pipelines/<int:pipeline_id>/health", PipelineHealthView.as_view(), name="pipeline-health"),
    path("v1/contracts/<int:contract_id>/violations", ContractViolationListView.as_view(), name="contract-violations"),
    path("v1/violations", ViolationListView.as_view(), name="violations"),
    path("v1/me", MeView.as_view(), name="me"),
    path("schema", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(), name="docs"),
    path("redoc/", docs.RedocView.as_view(), name="redoc"),
    re_path(r"^(?P<path>[\s\S]*)$", errors.not_found),  # any path, line breaks included
]
