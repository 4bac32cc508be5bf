"""/api/v1/pipelines: list, read, a pipeline's runs and its health."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.conventions import ConventionsMixin
from api.filters import PipelineFilterSet, PipelineRunFilterSet
from api.links import FIRST_ROW_ID, ROW_ID, LinkedAutoSchema, link
from api.pagination import KeysetPagination
from api.permissions import Access
from api.serializers.pipelines import PipelineHealthSerializer, PipelineRunSerializer, PipelineSerializer, health_data
from insights.models import Series
from insights.selectors import HealthFilters, health_list
from monitors.models import Pipeline, PipelineRun
from monitors.selectors import error_headline, pipeline_get

READ = Access("pipelines:read", ("monitors.view_pipeline",))


def _pipeline_or_404(pipeline_id: int) -> Pipeline:
    pipeline = pipeline_get(pipeline_id=pipeline_id)
    if pipeline is None:
        raise Http404("No such pipeline.")
    return pipeline


@extend_schema(tags=["pipelines"])
@extend_schema_view(
    list=extend_schema(summary="List pipelines", description="ADF pipelines and Databricks jobs AIMS watches."),
    retrieve=extend_schema(summary="Get a pipeline", description="One pipeline with its connection."),
)
class PipelineViewSet(ConventionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pipelines (ADF) and jobs (Databricks), each on its connection."""

    serializer_class = PipelineSerializer
    pagination_class = KeysetPagination
    filterset_class = PipelineFilterSet
    access_by_action = {"list": READ, "retrieve": READ}
    schema = LinkedAutoSchema()
    openapi_links = {
        "list": {
            "GetPipeline": link("pipelines_retrieve", "The first pipeline.", id=FIRST_ROW_ID),
            "ListRuns": link("pipelines_runs_list", "The first pipeline's runs.", pipeline_id=FIRST_ROW_ID),
            "GetHealth": link("pipelines_health_retrieve", "The first pipeline's health.", pipeline_id=FIRST_ROW_ID),
        },
        "retrieve": {
            "ListRuns": link("pipelines_runs_list", "Its runs.", pipeline_id=ROW_ID),
            "GetHealth": link("pipelines_health_retrieve", "Its health.", pipeline_id=ROW_ID),
            "ListIncidents": link("incidents_list", "Its incidents.", pipeline=ROW_ID),
            "GetConnection": link("connections_retrieve", "Its connection.", id="$response.body#/connection/id"),
        },
    }
    sort_keys = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "id": ("id",),
        "-id": ("-id",),
    }

    def get_queryset(self) -> QuerySet[Pipeline]:
        return Pipeline.objects.select_related("connection").defer("alert_lookup")


@extend_schema(
    tags=["pipelines"],
    summary="List a pipeline's runs",
    description="The runs AIMS saw of one pipeline, newest first, with the first line of each run's error.",
)
class PipelineRunListView(ConventionsMixin, generics.ListAPIView):
    serializer_class = PipelineRunSerializer
    pagination_class = KeysetPagination
    filterset_class = PipelineRunFilterSet
    access = {"GET": READ}
    # Runs are paged by when AIMS first saw them: a run's start is unknown while it is queued, and a keyset needs a
    # value on every row.
    sort_keys = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
    }

    def get_queryset(self) -> QuerySet[PipelineRun]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, without a request
            return PipelineRun.objects.none()
        pipeline = _pipeline_or_404(self.kwargs["pipeline_id"])
        return (
            PipelineRun.objects.filter(pipeline=pipeline)
            .annotate(error_headline=error_headline())
            .defer("raw", "failure_detail", "error_trace", "error_message")
        )


@extend_schema(
    tags=["pipelines"],
    summary="Get a pipeline's health",
    description=(
        "The pipeline's health score (0-100) over the last days: the weighted mean of the components that apply "
        "(success rate, independence from retries, time to recover, duration stability, runs on schedule, contract "
        "checks, freshness), with each component, its weight, and the score of each of the last 14 days."
    ),
)
class PipelineHealthView(ConventionsMixin, generics.GenericAPIView):
    serializer_class = PipelineHealthSerializer
    access = {"GET": READ}

    def get(self, request: Request, pipeline_id: int) -> Response:
        pipeline = _pipeline_or_404(pipeline_id)
        subjects = health_list(
            filters=HealthFilters(kind=Series.Subject.PIPELINE, search=pipeline.name), now=timezone.now()
        )
        subject = next((s for s in subjects if s.pipeline_id == pipeline.pk), None)
        data = health_data(
            pipeline_id=pipeline.pk,
            health=subject.health if subject else None,
            open_incidents=subject.open_incidents if subject else 0,
        )
        return Response(self.get_serializer(data).data)
