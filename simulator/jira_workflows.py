"""The simulated Jira Cloud site's configuration: accounts, projects with their own workflows (statuses, status
categories, transitions), create screens, priorities and resolutions, and the checks a create applies.

The two projects deliberately share no status names or transition ids: a client must pick a transition by the
status category of its target (new, indeterminate, done), the only thing Jira guarantees across workflows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The API account AIMS uses (Basic email:api_token) and the people the admin routes act as.
API_EMAIL = "aims-bot@example.com"
API_TOKEN = "jira-sim-token"
API_ACCOUNT_ID = "557058:aims-bot"
PEOPLE = {
    "557058:alice": "Alice Oncall",
    "557058:bob": "Bob Dataeng",
}
DEFAULT_PERSON = "557058:alice"
ACCOUNTS = {API_ACCOUNT_ID: "AIMS Bot", **PEOPLE}

CATEGORIES = {"new": ("2", "To Do"), "indeterminate": ("4", "In Progress"), "done": ("3", "Done")}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002", "Cannot Reproduce": "10003"}
SUMMARY_MAX = 255


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    name: str
    category: str  # new | indeterminate | done


@dataclass(frozen=True, slots=True)
class Transition:
    id: str
    name: str
    sources: tuple[str, ...]  # status names it is available from
    to: str  # target status name


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    key: str
    name: str
    issue_types: tuple[str, ...]
    statuses: tuple[Status, ...]
    transitions: tuple[Transition, ...]
    custom_fields: tuple[str, ...]  # on the create screen

    def status(self, name: str) -> Status:
        return next(s for s in self.statuses if s.name == name)

    def available(self, status_name: str) -> list[Transition]:
        return [t for t in self.transitions if status_name in t.sources]


PROJECTS = {
    "OPS": Project(
        id="10001",
        key="OPS",
        name="Operations",
        issue_types=("Incident", "Task", "Bug"),
        statuses=(
            Status("10000", "To Do", "new"),
            Status("3", "In Progress", "indeterminate"),
            Status("10001", "Done", "done"),
        ),
        transitions=(
            Transition("11", "Start progress", ("To Do",), "In Progress"),
            Transition("21", "Resolve", ("To Do", "In Progress"), "Done"),
            Transition("31", "Reopen", ("Done",), "To Do"),
        ),
        custom_fields=("customfield_10050", "customfield_10051"),
    ),
    "DATA": Project(
        id="10002",
        key="DATA",
        name="Data Platform",
        issue_types=("Task", "Bug"),
        statuses=(
            Status("10100", "Backlog", "new"),
            Status("10101", "Working", "indeterminate"),
            Status("10102", "Closed", "done"),
        ),
        transitions=(
            Transition("41", "Pick up", ("Backlog",), "Working"),
            Transition("51", "Put back", ("Working",), "Backlog"),
            Transition("61", "Close", ("Backlog", "Working"), "Closed"),
            Transition("71", "Reopen issue", ("Closed",), "Backlog"),
        ),
        custom_fields=("customfield_10060",),
    ),
}
INITIAL_STATUS = {"OPS": "To Do", "DATA": "Backlog"}


def is_adf_doc(value: Any) -> bool:
    """An Atlassian Document Format document: {"type": "doc", "version": 1, "content": [nodes]}."""
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
        and all(isinstance(node, dict) and isinstance(node.get("type"), str) for node in value["content"])
    )


def adf_text(node: Any) -> str:
    """The plain text of an ADF document (paragraphs on their own lines), as a webhook's v2 representation."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    parts = [adf_text(child) for child in node.get("content") or []]
    joiner = "\n" if node.get("type") == "doc" else ""
    return joiner.join(parts)


def adf_doc(text: str) -> dict[str, Any]:
    """A one-paragraph-per-line ADF document (what a person's comment typed in the UI is stored as)."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.split("\n")],
    }


def create_errors(fields: Any) -> tuple[list[str], dict[str, str]]:
    """(errorMessages, errors by field) of a create's `fields`, as Jira v3 reports them; both empty when valid."""
    if not isinstance(fields, dict):
        return ["Field 'fields' is required."], {}
    errors: dict[str, str] = {}
    project_ref = fields.get("project")
    project_key = project_ref.get("key") if isinstance(project_ref, dict) else None
    project = PROJECTS.get(project_key) if isinstance(project_key, str) else None
    if project is None:
        errors["project"] = "valid project is required"
    type_ref = fields.get("issuetype")
    type_name = type_ref.get("name") if isinstance(type_ref, dict) else None
    if project is not None and type_name not in project.issue_types:
        errors["issuetype"] = "The issue type selected is invalid."
    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = "Summary must be less than 255 characters."
    if "description" in fields and fields["description"] is not None and not is_adf_doc(fields["description"]):
        errors["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    errors.update(labels_errors(fields.get("labels")))
    if "priority" in fields:
        priority = fields["priority"]
        if not isinstance(priority, dict) or priority.get("name") not in PRIORITIES:
            errors["priority"] = "Specify a valid priority name or id"
    for name in fields:
        if name.startswith("customfield_") and (project is None or name not in project.custom_fields):
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    known = {"project", "issuetype", "summary", "description", "labels", "priority"}
    for name in fields:
        if name not in known and not name.startswith("customfield_"):
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    return [], errors


def labels_errors(labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, list) or not all(isinstance(label, str) and label for label in labels):
        return {"labels": "Labels must be a list of non-empty strings."}
    for label in labels:
        if " " in label:
            return {"labels": f"The label '{label}' contains spaces which is invalid."}
        if len(label) > 255:
            return {"labels": "The label must not exceed 255 characters."}
    return {}
