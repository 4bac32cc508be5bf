"""/api/v1/incidents: list, read, update, the lifecycle actions, comments, merge, split and bulk actions. Every
write goes through the incident services with the caller as actor, so each change is a timeline entry naming the key
or user."""

from collections.abc import Callable

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.conventions import ConventionsMixin, actor_of, etag_of, precondition_check
from api.filters import IncidentFilterSet
from api.pagination import KeysetPagination
from api.permissions import Access
from api.problems import Problem
from api.serializers.actions import (
    BULK_MAX,
    BulkResultSerializer,
    BulkSerializer,
    CommentSerializer,
    IncidentUpdateSerializer,
    MergeSerializer,
    ResolveSerializer,
    SilenceSerializer,
    SplitSerializer,
)
from api.serializers.fields import MAX_ID
from api.serializers.incidents import IncidentSerializer
from api.serializers.timeline import TimelineEventSerializer
from api.views.writes import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_MATCH_REQUIRED,
    PROBLEM,
    STALE,
    incident_locked,
    problem,
    refusals_as_problems,
)
from incidents.models import Incident, TicketLink
from incidents.services import (
    incident_acknowledge,
    incident_comment,
    incident_merge,
    incident_reopen,
    incident_resolve,
    incident_silence,
    incident_split,
    incident_update,
    incidents_bulk_apply,
)

READ = Access("incidents:read", ("incidents.view_incident",))


def _write(permission: str) -> Access:
    return Access("incidents:write", (permission,))


# Each bulk action needs the permission of the action itself (checked once the body names it).
BULK_PERMISSIONS = {
    "acknowledge": "incidents.acknowledge_incident",
    "resolve": "incidents.resolve_incident",
    "reopen": "incidents.resolve_incident",
    "silence": "incidents.silence_incident",
    "assign": "incidents.assign_incident",
}


def incidents_queryset() -> QuerySet[Incident]:
    return Incident.objects.select_related("connection", "pipeline", "assignee").prefetch_related(
        Prefetch("tickets", queryset=TicketLink.objects.order_by("created_at", "id"))
    )


def _incident_id(pk: str) -> int:
    """The path's id, or a 404 for one no row can have (a lookup with it could overflow the database's integer)."""
    if not (pk.isascii() and pk.isdigit() and len(pk) <= len(str(MAX_ID)) and int(pk) <= MAX_ID):
        raise NotFound("No such incident.")
    return int(pk)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _action_schema(summary: str, description: str, request=None) -> Callable:
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: IncidentSerializer, **STALE},
    )


@extend_schema(tags=["incidents"])
@extend_schema_view(
    list=extend_schema(summary="List incidents", description="Filtered, sorted, a keyset page at a time."),
    retrieve=extend_schema(summary="Read an incident", description="With its ETag (send it as If-Match to write)."),
)
class IncidentViewSet(ConventionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents: one per real problem, with its state, where it happened and its linked tickets."""

    serializer_class = IncidentSerializer
    pagination_class = KeysetPagination
    filterset_class = IncidentFilterSet
    access_by_action = {
        "list": READ,
        "retrieve": READ,
        # Title and severity are triage, as assigning is.
        "partial_update": _write("incidents.assign_incident"),
        "acknowledge": _write("incidents.acknowledge_incident"),
        "resolve": _write("incidents.resolve_incident"),
        "reopen": _write("incidents.resolve_incident"),
        "silence": _write("incidents.silence_incident"),
        "comment": _write("incidents.comment_incident"),
        "merge": _write("incidents.resolve_incident"),
        "split": _write("incidents.resolve_incident"),
        "bulk": Access("incidents:write", tuple(dict.fromkeys(BULK_PERMISSIONS.values()))),
    }
    sort_keys = {
        "-last_seen_at": ("-last_seen_at", "-id"),
        "last_seen_at": ("last_seen_at", "id"),
        "-opened_at": ("-opened_at", "-id"),
        "opened_at": ("opened_at", "id"),
        "-id": ("-id",),
        "id": ("id",),
    }

    def get_queryset(self) -> QuerySet[Incident]:
        return incidents_queryset()

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        incident = self.get_object()
        return Response(self.get_serializer(incident).data, headers={"ETag": etag_of(incident)})

    def _answer(self, incident_id: int) -> Response:
        """The incident as it is now, with its new ETag."""
        incident = incidents_queryset().get(pk=incident_id)
        return Response(IncidentSerializer(incident).data, headers={"ETag": etag_of(incident)})

    def _act(self, request: Request, pk: str, apply: Callable[[int], object]) -> Response:
        incident_id = _incident_id(pk)
        with refusals_as_problems(), incident_locked(request, incident_id):
            apply(incident_id)
        return self._answer(incident_id)

    @extend_schema(
        summary="Update an incident",
        description="Set its severity, assignee (a username, or null) and/or title. Needs If-Match. One `updated` "
        "timeline entry lists what changed.",
        request=IncidentUpdateSerializer,
        parameters=[IF_MATCH_REQUIRED],
        responses={200: IncidentSerializer},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = _valid(IncidentUpdateSerializer, request)
        incident_id = _incident_id(pk)
        with refusals_as_problems(), incident_locked(request, incident_id, if_match_required=True):
            incident_update(incident_id=incident_id, actor=actor_of(request), **data)
        return self._answer(incident_id)

    @_action_schema("Acknowledge", "Stops escalation. Acknowledging twice changes nothing; a resolved one is a 409.")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        actor = actor_of(request)
        return self._act(request, pk, lambda incident_id: incident_acknowledge(incident_id=incident_id, actor=actor))

    @_action_schema("Resolve", "With an optional note. Resolving twice changes nothing.", ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        actor, note = actor_of(request), _valid(ResolveSerializer, request).get("note", "")
        return self._act(
            request, pk, lambda incident_id: incident_resolve(incident_id=incident_id, actor=actor, note=note)
        )

    @_action_schema("Reopen", "A resolved incident triggers again, as a new generation (it may page again).")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        actor = actor_of(request)
        return self._act(request, pk, lambda incident_id: incident_reopen(incident_id=incident_id, actor=actor))

    @_action_schema(
        "Silence", "Until a time at most 30 days ahead: failures are counted, nobody is paged.", SilenceSerializer
    )
    @action(detail=True, methods=["post"])
    def silence(self, request: Request, pk: str) -> Response:
        actor, data = actor_of(request), _valid(SilenceSerializer, request)
        return self._act(
            request,
            pk,
            lambda incident_id: incident_silence(
                incident_id=incident_id, actor=actor, until=data["until"], reason=data.get("reason", "")
            ),
        )

    @extend_schema(
        summary="Comment",
        description="Adds a comment to the timeline; answers the timeline entry.",
        request=CommentSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={201: TimelineEventSerializer, **STALE},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        text = _valid(CommentSerializer, request)["text"]
        incident_id = _incident_id(pk)
        with refusals_as_problems(), incident_locked(request, incident_id):
            event = incident_comment(incident_id=incident_id, actor=actor_of(request), text=text)
        return Response(TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @_action_schema(
        "Merge into this one",
        "The sources' occurrences and runs move here (its count grows); each is resolved with a `merged` entry. "
        "Problems: merge_into_self and merge_source_missing (422), already_merged and already_resolved (409).",
        MergeSerializer,
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        incident_id, data = _incident_id(pk), _valid(MergeSerializer, request)
        with refusals_as_problems():
            incident_merge(
                incident_id=incident_id,
                actor=actor_of(request),
                source_ids=data["sources"],
                note=data.get("note", ""),
                check=lambda incident: precondition_check(request, incident, required=False),
            )
        return self._answer(incident_id)

    @extend_schema(
        summary="Split a pipeline out",
        description="One pipeline's part of this incident (a storm's: one cause failing several pipelines) moves out "
        "into a new incident of its own, with its occurrences and runs; both get a `split` timeline entry. Answers "
        "the new incident (201). Problems: a pipeline not in the incident (400), split_single_pipeline (422), "
        "already_resolved and split_taken (409).",
        request=SplitSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={201: IncidentSerializer, **STALE},
    )
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str) -> Response:
        incident_id, data = _incident_id(pk), _valid(SplitSerializer, request)
        with refusals_as_problems():
            new = incident_split(
                incident_id=incident_id,
                pipeline_id=data["pipeline"],
                actor=actor_of(request),
                note=data.get("note", ""),
                check=lambda incident: precondition_check(request, incident, required=False),
            )
        incident = incidents_queryset().get(pk=new.pk)
        return Response(
            IncidentSerializer(incident).data, status=status.HTTP_201_CREATED, headers={"ETag": etag_of(incident)}
        )

    @extend_schema(
        summary="Act on many incidents",
        description=f"One action on 1-{BULK_MAX} incidents, each through its own transaction and timeline entry; "
        "answers one outcome per distinct id. Needs the permission of the action.",
        request=BulkSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: BulkResultSerializer, (413, PROBLEM): problem(f"More than {BULK_MAX} ids")},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if isinstance(ids, list) and len(ids) > BULK_MAX:
            raise Problem(
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                code="bulk_too_large",
                title="Too many incidents",
                detail=f"At most {BULK_MAX} ids at a time ({len(ids)} given); send several requests.",
            )
        data = _valid(BulkSerializer, request)
        if not request.user.has_perm(BULK_PERMISSIONS[data["action"]]):
            raise PermissionDenied(f"Your role does not allow {data['action']}; ask an Admin.", code="role_forbidden")
        params = data.get("params") or {}
        with refusals_as_problems():
            outcomes = incidents_bulk_apply(
                incident_ids=data["ids"], action=data["action"], actor=actor_of(request), **params
            )
        done = sum(outcome.outcome == "done" for outcome in outcomes)
        return Response(BulkResultSerializer({"action": data["action"], "done": done, "results": outcomes}).data)
