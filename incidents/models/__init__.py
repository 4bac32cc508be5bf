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
from incidents.models.runbooks import Runbook, runbook_url_problem

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
    "Runbook",
    "SignatureStats",
    "TicketLink",
    "channel_url_problem",
    "runbook_url_problem",
]
