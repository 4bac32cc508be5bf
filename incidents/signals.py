"""What the triage layer announces for the layers above it.

Unlike the other apps' signals (sent after commit, ids only), `incident_event_recorded` is sent inside the
transaction that writes the timeline entry: the layers above write their outbox rows (webhook messages, ticket sync
jobs) in that same transaction, so an event is never recorded without them nor they without it. Receivers only
insert rows; they never call out, queue work outside `transaction.on_commit`, or raise for a caller to handle.
"""

from django.dispatch import Signal

SENDER = "incidents"

# event (the IncidentEvent just created, its actor included), incident (the Incident as its service left it)
incident_event_recorded = Signal()
