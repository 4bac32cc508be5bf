"""/api/v1/connections: the ADF factories and Databricks workspaces AIMS polls, with their polling health (never a
secret or credential)."""

from django.db.models import Count, Max, Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from api.conventions import ConventionsMixin
from api.links import FIRST_ROW_ID, ROW_ID, LinkedAutoSchema, link
from api.pagination import KeysetPagination
from api.permissions import Access
from api.serializers.connections import ConnectionSerializer
from monitors.models import Connection

READ = Access("admin:read", ("monitors.change_connection",))


def connections_queryset() -> QuerySet[Connection]:
    """Connections with their monitors' latest poll and success and how many monitors' latest poll failed, in one
    query; the secret columns are never read."""
    return Connection.objects.only(
        "id", "name", "kind", "enabled", "is_simulator", "created_at", "updated_at"
    ).annotate(
        monitor_count=Count("monitors", distinct=True),
        last_polled_at=Max("monitors__last_polled_at"),
        last_success_at=Max("monitors__last_success_at"),
        failing_monitors=Count("monitors", filter=~Q(monitors__last_error=""), distinct=True),
    )


@extend_schema(tags=["connections"])
@extend_schema_view(
    list=extend_schema(summary="List connections", description="ADF factories and Databricks workspaces AIMS polls."),
    retrieve=extend_schema(summary="Get a connection", description="One connection and its polling health."),
)
class ConnectionViewSet(ConventionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Connections: kind, name, whether enabled, latest poll and health. Admins only (admin:read)."""

    serializer_class = ConnectionSerializer
    pagination_class = KeysetPagination
    access_by_action = {"list": READ, "retrieve": READ}
    schema = LinkedAutoSchema()
    openapi_links = {
        "list": {"GetConnection": link("connections_retrieve", "The first connection.", id=FIRST_ROW_ID)},
        "retrieve": {
            "ListPipelines": link("pipelines_list", "Its pipelines.", connection=ROW_ID),
            "ListIncidents": link("incidents_list", "Its incidents.", connection=ROW_ID),
        },
    }
    sort_keys = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}

    def get_queryset(self) -> QuerySet[Connection]:
        return connections_queryset()
