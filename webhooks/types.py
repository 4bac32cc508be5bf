"""Which timeline entries are announced to subscribers, under which Standard Webhooks event type."""

from incidents.models import IncidentEvent

Kind = IncidentEvent.Kind

# Notification bookkeeping (notified, notify_failed, suppressed), retry planning (retry_scheduled, retry_skipped) and
# ticket sync trouble (ticket_sync_failed) are AIMS's own business, not events of the incident: not sent.
TYPE_OF_KIND: dict[str, str] = {
    Kind.OPENED: "incident.opened",
    Kind.REOPENED: "incident.reopened",
    Kind.ACKNOWLEDGED: "incident.acknowledged",
    Kind.RESOLVED: "incident.resolved",
    Kind.AUTO_RESOLVED: "incident.resolved",
    Kind.SILENCED: "incident.silenced",
    Kind.UNSILENCED: "incident.unsilenced",
    Kind.ASSIGNED: "incident.assigned",
    Kind.COMMENTED: "incident.commented",
    Kind.ESCALATED: "incident.escalated",
    Kind.UPDATED: "incident.updated",
    Kind.MERGED: "incident.merged",
    Kind.OCCURRED: "incident.occurred",
    Kind.TICKET_LINKED: "incident.ticket_linked",
    Kind.TICKET_OPENED: "incident.ticket_opened",
    Kind.TICKET_CHANGED: "incident.ticket_changed",
    Kind.RETRY_STARTED: "incident.retry_started",
    Kind.RETRY_SUCCEEDED: "incident.retry_succeeded",
    Kind.RETRY_FAILED: "incident.retry_failed",
}
TEST_TYPE = "webhook.test"
EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(TYPE_OF_KIND.values()))
