"""/api/v1/incidents: list, read (later: update, lifecycle actions, bulk, merge, comments, timeline)."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.conventions import ConventionsMixin, etag_of
from api.filters import IncidentFilterSet
from api.pagination import KeysetPagination
from api.permissions import Access
from api.serializers.incidents import IncidentSerializer
from incidents.models import Incident, TicketLink

READ = Access("incidents:read", ("incidents.view_incident",))


def incidents_queryset() -> QuerySet[Incident]:
    return Incident.objects.select_related("connection", "pipeline", "assignee").prefetch_related(
        Prefetch("tickets", queryset=TicketLink.objects.order_by("created_at", "id"))
    )


@extend_schema(tags=["incidents"])
class IncidentViewSet(ConventionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents: one per real problem, with its state, where it happened and its linked tickets."""

    serializer_class = IncidentSerializer
    pagination_class = KeysetPagination
    filterset_class = IncidentFilterSet
    access_by_action = {"list": READ, "retrieve": READ}
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
