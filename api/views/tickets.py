"""Ticket links as a resource: /api/v1/tickets (every link with its sync state), and an incident's links, linked
and unlinked by hand."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.conventions import ConventionsMixin, actor_of
from api.filters import TicketLinkFilterSet
from api.pagination import KeysetPagination
from api.permissions import Access
from api.serializers.tickets import TicketLinkCreateSerializer, TicketSerializer
from api.views.incidents import READ
from api.views.timeline import IncidentPartList
from api.views.writes import IDEMPOTENCY_KEY, refusals_as_problems
from incidents.models import TicketLink
from incidents.services import incident_ticket_link, incident_ticket_unlink

LINK = Access("tickets:write", ("incidents.link_ticket_incident",))
OLDEST_FIRST = {"created_at": ("created_at", "id"), "-created_at": ("-created_at", "-id")}


@extend_schema(tags=["tickets"])
@extend_schema_view(
    list=extend_schema(
        summary="List ticket links",
        description="Every incident's linked tickets with their sync state (last synced, last error); filter by "
        "system, key, sync state or incident.",
    )
)
class TicketLinkViewSet(ConventionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    pagination_class = KeysetPagination
    filterset_class = TicketLinkFilterSet
    access_by_action = {"list": READ}
    sort_keys = {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}

    def get_queryset(self) -> QuerySet[TicketLink]:
        return TicketLink.objects.all()


@extend_schema(tags=["tickets"])
@extend_schema_view(
    get=extend_schema(summary="An incident's ticket links", description="Oldest first, with their sync state."),
)
class IncidentTicketsView(IncidentPartList):
    serializer_class = TicketSerializer
    access = {"GET": READ, "POST": LINK}
    sort_keys = OLDEST_FIRST

    def get_queryset(self) -> QuerySet[TicketLink]:
        return TicketLink.objects.filter(incident_id=self.incident_id)

    @extend_schema(
        summary="Link a ticket",
        description="Links an external ticket by hand (linking the same system and key again answers the existing "
        "link). The url must be https.",
        request=TicketLinkCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TicketSerializer},
    )
    def post(self, request: Request, **kwargs: int) -> Response:
        serializer = TicketLinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_problems():
            link = incident_ticket_link(
                incident_id=kwargs["incident_id"], actor=actor_of(request), **serializer.validated_data
            )
        return Response(TicketSerializer(link).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["tickets"])
class IncidentTicketView(ConventionsMixin, generics.GenericAPIView):
    access = {"DELETE": LINK}

    @extend_schema(
        summary="Unlink a ticket",
        description="Removes the link (not the ticket); the timeline records it.",
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, **kwargs: int) -> Response:
        with refusals_as_problems():
            incident_ticket_unlink(
                incident_id=kwargs["incident_id"], link_id=kwargs["link_id"], actor=actor_of(request)
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
