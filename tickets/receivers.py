"""What the tickets app does when the triage layer records a timeline event: write the sync jobs (same transaction)."""

from django.dispatch import receiver

from incidents import signals as incidents_signals
from incidents.models import Incident, IncidentEvent
from tickets.services.outbox import ticket_jobs_enqueue


@receiver(incidents_signals.incident_event_recorded, dispatch_uid="tickets-incident-event-recorded")
def incident_event_jobs_write(sender, *, event: IncidentEvent, incident: Incident, **kwargs) -> None:
    ticket_jobs_enqueue(event=event, incident=incident)
