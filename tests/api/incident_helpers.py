"""What the incident API's tests share: JSON calls, a key whose user lost the role it was made under, and the
timeline of an incident."""

import json

from django.test import Client

from aimsweb.roles import Role
from aimsweb.services import user_set_role
from incidents.models import Incident, IncidentEvent

WRITE_SCOPES = ["incidents:read", "incidents:write", "tickets:write"]


def post(client: Client, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else ""
    return client.post(path, data=data, content_type="application/json", **headers)


def demoted_key_client(key_client, username: str = "demoted"):
    """A key made with write scopes while its user was a Responder; the user is a Viewer now."""
    client, key = key_client(Role.RESPONDER, scopes=WRITE_SCOPES, username=username)
    user_set_role(user=key.user, role=Role.VIEWER)
    return client, key


def kinds(incident: Incident) -> list[str]:
    return list(incident.events.order_by("created_at", "id").values_list("kind", flat=True))


def last_event(incident: Incident) -> IncidentEvent:
    return incident.events.order_by("-created_at", "-id").first()
