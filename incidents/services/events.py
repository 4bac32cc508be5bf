"""The incident timeline: who changes an incident, and the one way an entry is added to it."""

from dataclasses import dataclass

from django.contrib.auth.models import User

from aimsweb.redact import redact, redact_values
from incidents import signals
from incidents.models import Incident, IncidentEvent
from incidents.realtime import incidents_changed_broadcast


@dataclass(frozen=True)
class Actor:
    """Who changes an incident: a user, an API key, AIMS itself or its retry engine."""

    type: str
    user: User | None = None
    label: str = ""

    @classmethod
    def of_user(cls, user: User) -> "Actor":
        return cls(type=IncidentEvent.ActorType.USER, user=user)


SYSTEM = Actor(type=IncidentEvent.ActorType.SYSTEM, label="AIMS")
NOTIFICATIONS = Actor(type=IncidentEvent.ActorType.SYSTEM, label="notifications")
RETRY_ENGINE = Actor(type=IncidentEvent.ActorType.RETRY_ENGINE, label="retry engine")


def incident_event_add(
    *, incident: Incident, kind: str, actor: Actor = SYSTEM, params: dict | None = None, note: str = ""
) -> IncidentEvent:
    """Append one entry to the incident's timeline, as its kind and parameters (see incidents.timeline for each
    kind's) plus what a person wrote, and announce the change after commit. Both are redacted: parameters quote
    platform errors and receivers' answers that Viewers see. The layers above write their outbox rows for it in this
    same transaction (incidents.signals.incident_event_recorded)."""
    incidents_changed_broadcast(incident_ids=[incident.pk])
    event = IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        note=redact(note),
        params=redact_values(params or {}),
    )
    signals.incident_event_recorded.send(sender=signals.SENDER, event=event, incident=incident)
    return event
