"""/api/v1/incidents/{id}/timeline, /runs, /analyses, /attempts (keyset pages, a fixed number of queries each) and
"retry this run"."""

import hashlib
import uuid
from typing import cast

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.conventions import ConventionsMixin, actor_of
from api.filters import IncidentEventFilterSet
from api.pagination import KeysetPagination
from api.permissions import Access
from api.problems import NEEDED_FOR_ACTION
from api.ratelimit import caller_of
from api.serializers.actions import RunRetrySerializer
from api.serializers.fields import MAX_ID
from api.serializers.timeline import AnalysisSerializer, AttemptSerializer, RunSerializer, TimelineEventSerializer
from api.views.incidents import READ
from api.views.writes import IDEMPOTENCY_KEY, refusals_as_problems
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from incidents.selectors import incident_run_get
from incidents.services import RetryNotAdvised, pipeline_run_retry_by_hand
from monitors.models import PipelineRun
from monitors.selectors import error_headline
from remediation.models import RetryAttempt

NEWEST_FIRST = {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}
IN_FLIGHT = (RetryAttempt.Status.SCHEDULED, RetryAttempt.Status.CLAIMED, RetryAttempt.Status.RUNNING)


class IncidentPartList(ConventionsMixin, generics.ListAPIView):
    """A list that belongs to one incident: a 404 when the incident does not exist."""

    pagination_class = KeysetPagination
    access = {"GET": READ}
    sort_keys = NEWEST_FIRST

    @property
    def incident_id(self) -> int:
        return self.kwargs.get("incident_id", 0)  # no id (none matches) while the OpenAPI document is generated

    def list(self, request: Request, *args, **kwargs) -> Response:
        if not Incident.objects.filter(pk=self.incident_id).exists():
            raise NotFound("No such incident.")
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["incidents"])
@extend_schema_view(
    get=extend_schema(
        summary="An incident's timeline",
        description="Typed entries, oldest first by default; filter by kind.",
    )
)
class IncidentTimelineView(IncidentPartList):
    serializer_class = TimelineEventSerializer
    filterset_class = IncidentEventFilterSet
    sort_keys = {"created_at": ("created_at", "id"), "-created_at": ("-created_at", "-id")}

    def get_queryset(self) -> QuerySet[IncidentEvent]:
        return IncidentEvent.objects.filter(incident_id=self.incident_id).select_related("actor_user")


@extend_schema(tags=["incidents"])
@extend_schema_view(
    get=extend_schema(
        summary="The runs counted in an incident",
        description="Newest first: status, times, the error's first line, the platform's run id.",
    )
)
class IncidentRunsView(IncidentPartList):
    serializer_class = RunSerializer

    def get_queryset(self) -> QuerySet[PipelineRun]:
        in_flight = RetryAttempt.objects.filter(run=OuterRef("pk"), status__in=IN_FLIGHT)
        return (
            PipelineRun.objects.filter(analysis__incident_id=self.incident_id)
            .select_related("pipeline")
            .annotate(retry_pending=Exists(in_flight), error_headline=error_headline())
            # The run's payload and trace can be large; the list shows the error's first line.
            .defer("raw", "failure_detail", "error_trace", "error_message")
        )


@extend_schema(tags=["incidents"])
@extend_schema_view(
    get=extend_schema(
        summary="The analyses of an incident's runs",
        description="Error class, root cause, retry advice and confidence, by the LLM or the offline classifier.",
    )
)
class IncidentAnalysesView(IncidentPartList):
    serializer_class = AnalysisSerializer

    def get_queryset(self) -> QuerySet[FailureAnalysis]:
        return FailureAnalysis.objects.filter(incident_id=self.incident_id).defer("signature_text")


@extend_schema(tags=["incidents"])
@extend_schema_view(
    get=extend_schema(
        summary="The retry attempts of an incident's runs",
        description="By a policy or by hand: state, mode, times and outcome.",
    )
)
class IncidentAttemptsView(IncidentPartList):
    serializer_class = AttemptSerializer

    def get_queryset(self) -> QuerySet[RetryAttempt]:
        return (
            RetryAttempt.objects.filter(run__analysis__incident_id=self.incident_id)
            .select_related("run", "policy", "requested_by")
            .defer("run__raw", "run__failure_detail", "run__error_trace", "run__error_message")
        )


@extend_schema(tags=["incidents"])
class IncidentRunRetryView(ConventionsMixin, generics.GenericAPIView):
    """Retry a failed run of this incident now."""

    serializer_class = AttemptSerializer
    access = {"POST": Access("incidents:write", ("monitors.retry_pipelinerun",))}

    @extend_schema(
        summary="Retry this run",
        description="Schedules a rerun now (the mode of the matching retry policy, else a recovery). The "
        "Idempotency-Key makes a repeated request one attempt. Refused (409 retry_refused) unless the run failed "
        "and no retry of it is pending. A retry the analysis advises against (retry not advised, or a manual fix "
        'required) needs `"force": true` in the body, else it is refused with 422 needed_for_action naming `force` '
        "and the analysis's reason (send the forced request with a new Idempotency-Key).",
        request=RunRetrySerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: AttemptSerializer},
    )
    def post(self, request: Request, **kwargs: int) -> Response:
        # Ids past a 64-bit key name nothing, and a join on one would overflow the database's integer.
        in_range = max(kwargs["incident_id"], kwargs["run_id"]) <= MAX_ID
        run = incident_run_get(incident_id=kwargs["incident_id"], run_id=kwargs["run_id"]) if in_range else None
        if run is None:
            raise NotFound("No such run in this incident.")
        body = RunRetrySerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        with refusals_as_problems(default_code="retry_refused"):
            try:
                attempt = pipeline_run_retry_by_hand(
                    run_id=run.pk,
                    user=cast(User, request.user),
                    request_key=self._request_key(request, run.pk),
                    actor=actor_of(request),
                    confirmed=body.validated_data["force"],
                )
            except RetryNotAdvised as refusal:
                why = f'{refusal.reason} Send "force": true to retry anyway.'
                raise serializers.ValidationError({"force": why}, code=NEEDED_FOR_ACTION) from None
        return Response(AttemptSerializer(attempt).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _request_key(request: Request, run_id: int) -> str:
        """The attempt's own idempotency key: from the caller's Idempotency-Key (kept by the engine for good, after
        the API's 24 h have passed), else a fresh one."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return f"api-{uuid.uuid4().hex}"
        digest = hashlib.sha256(f"{caller_of(request)}\n{run_id}\n{key.strip()}".encode()).hexdigest()[:40]
        return f"api-{digest}"
