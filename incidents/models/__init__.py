"""Triage: incidents (one per real problem), their timeline, the analysis of each failed run, and notifications."""

from incidents.models.analysis import FailureAnalysis, SignatureStats
from incidents.models.incidents import Incident, IncidentEvent, Occurrence, TicketLink
from incidents.models.notifications import (
    EscalationStep,
    Notification,
    NotificationChannel,
    NotificationRoute,
    channel_url_problem,
)
from incidents.models.parts import IncidentPipeline

__all__ = [
    "EscalationStep",
    "FailureAnalysis",
    "Incident",
    "IncidentEvent",
    "IncidentPipeline",
    "Notification",
    "NotificationChannel",
    "NotificationRoute",
    "Occurrence",
    "SignatureStats",
    "TicketLink",
    "channel_url_problem",
]
