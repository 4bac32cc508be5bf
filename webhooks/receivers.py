"""What the webhooks app does when the triage layer records a timeline entry: the outbox rows, in its transaction."""

from django.dispatch import receiver

from incidents import signals as incidents_signals
from webhooks.services.outbox import messages_enqueue


@receiver(incidents_signals.incident_event_recorded, dispatch_uid="webhooks-event-recorded")
def event_recorded_enqueue(sender, *, event, incident, **kwargs) -> None:
    messages_enqueue(event=event, incident=incident)
