"""The incident list as a CSV or JSON download: exactly the incidents its filters select, in its order, bounded."""

from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.http import StreamingHttpResponse

from aimsweb.export import EXPORT_MAX, export_response, export_text
from incidents.models import Incident
from incidents.pages.incident_list import incident_list_filters
from incidents.selectors import incident_export_list, incident_list

INCIDENT_EXPORT_COLUMNS = (
    "id",
    "url",
    "status",
    "severity",
    "category",
    "title",
    "pipeline",
    "connection",
    "assignee",
    "occurrences",
    "first_seen_at",
    "last_seen_at",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "error",
)


def _row(incident: Incident, base_url: str) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "url": base_url + incident.get_absolute_url(),
        "status": incident.status,
        "severity": incident.severity,
        "category": incident.category,
        "title": export_text(incident.title),
        "pipeline": incident.pipeline.name if incident.pipeline else "",
        "connection": incident.connection.name if incident.connection else "",
        "assignee": incident.assignee.get_username() if incident.assignee else "",
        "occurrences": incident.occurrence_count,
        "first_seen_at": incident.first_seen_at,
        "last_seen_at": incident.last_seen_at,
        "opened_at": incident.opened_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "error": export_text(incident.latest_run.error_message if incident.latest_run else ""),
    }


def incident_export(
    *, params: Mapping[str, Any], user: AbstractUser | AnonymousUser, export_format: str, base_url: str
) -> StreamingHttpResponse:
    """The incidents the list's filters (these query-string params) select, as `export_format` (csv or json)."""
    filters = incident_list_filters(params=params)
    total = incident_list(filters=filters, user_id=user.pk).count()
    incidents = incident_export_list(filters=filters, user_id=user.pk, limit=EXPORT_MAX)

    def rows() -> Iterator[dict[str, Any]]:
        for incident in incidents.iterator(chunk_size=500):
            yield _row(incident, base_url)

    return export_response(
        export_format=export_format,
        name="incidents",
        columns=INCIDENT_EXPORT_COLUMNS,
        rows=rows(),
        total=total,
        limit=EXPORT_MAX,
    )
