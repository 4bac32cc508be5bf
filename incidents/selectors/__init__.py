"""Reads of the incidents app, by page; each fetches its relations up front so pages run a fixed number of queries."""

from incidents.selectors.dashboard import dashboard_context, dashboard_window
from incidents.selectors.incidents import (
    incident_assignee_choices,
    incident_detail,
    incident_get,
    incident_list,
    incident_list_page,
    incident_run_get,
    llm_usage_by_day,
)

__all__ = [
    "dashboard_context",
    "dashboard_window",
    "incident_assignee_choices",
    "incident_detail",
    "incident_get",
    "incident_list",
    "incident_list_page",
    "incident_run_get",
    "llm_usage_by_day",
]
