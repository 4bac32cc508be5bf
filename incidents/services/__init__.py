"""Writes of the incidents app, by concern: analysis, incidents, notifications, reruns (the incident's side) and
triage."""

from incidents.services.analysis import signature_retry_record
from incidents.services.edits import KEEP, Keep, incident_merge, incident_update
from incidents.services.events import RETRY_ENGINE, SYSTEM, Actor
from incidents.services.incidents import (
    BulkOutcome,
    incident_acknowledge,
    incident_assign,
    incident_comment,
    incident_reopen,
    incident_resolve,
    incident_silence,
    incident_ticket_link,
    incident_ticket_unlink,
    incident_unsilence,
    incidents_bulk_act,
    incidents_bulk_apply,
)
from incidents.services.notification_ticks import notifications_tick
from incidents.services.notifications import incident_notify, notification_send, notifications_send
from incidents.services.occurrences import (
    OccurrenceReport,
    incident_recover,
    occurrence_intake,
    occurrence_source_register,
    occurrences_recovered,
)
from incidents.services.retries import (
    RetryNotAdvised,
    attempt_outcome_take,
    incident_retry_cancel,
    incident_retry_decide,
    pipeline_run_retry_by_hand,
    retry_advised_against,
    runs_succeeded,
    silences_end,
)
from incidents.services.split import incident_split
from incidents.services.triage import failure_triage, failures_triage

__all__ = [
    "KEEP",
    "RETRY_ENGINE",
    "SYSTEM",
    "Actor",
    "BulkOutcome",
    "Keep",
    "OccurrenceReport",
    "RetryNotAdvised",
    "attempt_outcome_take",
    "failure_triage",
    "failures_triage",
    "incident_acknowledge",
    "incident_assign",
    "incident_comment",
    "incident_merge",
    "incident_notify",
    "incident_recover",
    "incident_reopen",
    "incident_retry_cancel",
    "incident_retry_decide",
    "incident_resolve",
    "incident_silence",
    "incident_split",
    "incident_ticket_link",
    "incident_ticket_unlink",
    "incident_unsilence",
    "incident_update",
    "incidents_bulk_act",
    "incidents_bulk_apply",
    "notification_send",
    "occurrence_intake",
    "occurrence_source_register",
    "occurrences_recovered",
    "notifications_send",
    "notifications_tick",
    "pipeline_run_retry_by_hand",
    "retry_advised_against",
    "runs_succeeded",
    "silences_end",
    "signature_retry_record",
]
