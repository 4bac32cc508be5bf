"""The simulated ServiceNow instance's `incident` table: users, fields, choice lists, the priority matrix, the close
rule (a data policy) and how values are displayed. Every value is a string, as the Table API returns them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulator.timefmt import US_PER_S

API_USER = "aims.integration"
API_PASSWORD = "snow-sim-password"
PEOPLE = {"alice.oncall": "Alice Oncall", "bob.dataeng": "Bob Dataeng"}
DEFAULT_PERSON = "alice.oncall"

STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
LEVELS = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
PRIORITY_LABELS = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
CLOSE_CODES = (
    "Solution provided",
    "Workaround provided",
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Not Solved (Not Reproducible)",
    "Not Solved (Too Costly)",
    "User error",
)
CATEGORIES = ("inquiry", "software", "hardware", "network", "database")
CHOICES: dict[str, dict[str, str]] = {
    "state": STATES,
    "incident_state": STATES,
    "urgency": LEVELS,
    "impact": LEVELS,
    "priority": PRIORITY_LABELS,
    "close_code": {code: code for code in CLOSE_CODES},
    "category": {name: name.capitalize() for name in CATEGORIES},
}
# What a client may write; anything else (number, priority, sys_*) is ignored, as the Table API ignores read-only
# and unknown fields.
WRITABLE = (
    "short_description",
    "description",
    "urgency",
    "impact",
    "state",
    "close_code",
    "close_notes",
    "correlation_id",
    "correlation_display",
    "category",
    "assignment_group",
    "caller_id",
    "work_notes",
    "comments",
)
JOURNAL_FIELDS = ("work_notes", "comments")
FIELDS = (
    "sys_id",
    "number",
    *[name for name in WRITABLE if name != "state"],
    "state",
    "incident_state",
    "priority",
    "active",
    "opened_at",
    "opened_by",
    "resolved_at",
    "resolved_by",
    "closed_at",
    "closed_by",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
)
JOURNAL_COLUMNS = ("sys_id", "element", "element_id", "name", "value", "sys_created_on", "sys_created_by")
# (impact, urgency) -> priority, ServiceNow's default data lookup.
PRIORITY_MATRIX = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("2", "1"): "2",
    ("1", "3"): "3",
    ("2", "2"): "3",
    ("3", "1"): "3",
    ("2", "3"): "4",
    ("3", "2"): "4",
    ("3", "3"): "5",
}
CLOSED_STATES = ("6", "7")
LABELS = {"close_code": "Resolution code", "close_notes": "Resolution notes"}


def snow_time(us: int) -> str:
    """The Table API's date-time format (the integration user's zone is UTC): 2025-03-14 09:30:00."""
    return datetime.fromtimestamp(us // US_PER_S, UTC).strftime("%Y-%m-%d %H:%M:%S")


def coerce(name: str, value: Any) -> str:
    """A written value as the string ServiceNow stores; raises ValueError naming the field."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"Invalid value for field '{name}': expected a string")
    text = str(value) if not isinstance(value, float) or not value.is_integer() else str(int(value))
    choices = CHOICES.get(name)
    if choices is not None and text != "" and text not in choices:
        raise ValueError(f"Invalid value '{text}' for field '{name}'; allowed: {', '.join(choices)}")
    return text


def missing_close_fields(record: dict[str, str]) -> list[str]:
    """The mandatory fields a Resolved/Closed incident lacks (the data policy behind the 403)."""
    if record.get("state") not in CLOSED_STATES:
        return []
    return [name for name in ("close_code", "close_notes") if not record.get(name, "").strip()]


def display(name: str, value: str) -> str:
    return CHOICES.get(name, {}).get(value, value)


def render(record: dict[str, str], fields: list[str] | None, mode: str) -> dict[str, Any]:
    """A record as the Table API answers it: `mode` is sysparm_display_value false | true | all."""
    names = [n for n in (fields or list(record)) if n in record]
    if mode == "true":
        return {n: display(n, record[n]) for n in names}
    if mode == "all":
        return {n: {"display_value": display(n, record[n]), "value": record[n]} for n in names}
    return {n: record[n] for n in names}
