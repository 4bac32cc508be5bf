"""Reads for the incidents app; each list fetches its relations up front so pages run a fixed number of queries."""

from django.db.models import QuerySet

from incidents.models import Incident


def incident_list(*, limit: int = 100) -> QuerySet[Incident]:
    """Newest activity first, with what the list shows of each incident."""
    return Incident.objects.select_related("pipeline", "connection", "assignee").order_by("-last_seen_at", "-id")[
        :limit
    ]
