"""Reads of the incidents app: querysets and numbers, each fetching its relations up front so pages run a fixed
number of queries. Pages (incidents.pages) turn them into template context."""

from incidents.selectors.context import IncidentContext, incident_context, incident_runbooks, runbooks_for
from incidents.selectors.incidents import (
    incident_assignee_choices,
    incident_detail,
    incident_export_list,
    incident_get,
    incident_list,
    incident_list_rows,
    incident_open_counts,
    incident_pending_attempts,
    incident_run_get,
)

__all__ = [
    "IncidentContext",
    "incident_context",
    "incident_runbooks",
    "runbooks_for",
    "incident_assignee_choices",
    "incident_detail",
    "incident_export_list",
    "incident_get",
    "incident_list",
    "incident_list_rows",
    "incident_open_counts",
    "incident_pending_attempts",
    "incident_run_get",
]
