"""JSON shapes of the simulated Jira: issues and comments as REST v3 returns them, and the admin-webhook bodies.

Webhook bodies carry Jira's REST v2 representation, as real admin webhooks do: `description` and a comment's
`body` are plain text there, not ADF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.jira_workflows import ACCOUNTS, CATEGORIES, PRIORITIES, RESOLUTIONS, Project, adf_text
from simulator.timefmt import US_PER_S, to_ms


@dataclass(slots=True)
class JiraComment:
    id: str
    author: str  # accountId
    body: dict[str, Any]  # ADF
    created_us: int


@dataclass(slots=True)
class JiraIssue:
    id: str
    key: str
    project: Project
    issue_type: str
    summary: str
    description: dict[str, Any] | None
    labels: list[str]
    priority: str
    custom: dict[str, Any]
    status: str
    resolution: str | None
    created_us: int
    updated_us: int
    updated_seq: int
    comments: list[JiraComment] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def category(self) -> str:
        return self.project.status(self.status).category

    def jql_view(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "project": self.project.key,
            "key": self.key,
            "status": self.status,
            "statuscategory": self.category,
            "updated": self.updated_us,
            "created": self.created_us,
        }


def jira_time(us: int) -> str:
    """Jira's timestamp format: 2025-03-14T09:30:00.000+0000 (the site's time zone is UTC here)."""
    dt = datetime.fromtimestamp(us / US_PER_S, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(us % US_PER_S) // 1000:03d}+0000"


def user_json(account_id: str, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": ACCOUNTS.get(account_id, account_id),
        "active": True,
        "accountType": "atlassian",
    }


def status_json(issue: JiraIssue, base: str) -> dict[str, Any]:
    status = issue.project.status(issue.status)
    category_id, category_name = CATEGORIES[status.category]
    return {
        "self": f"{base}/rest/api/3/status/{status.id}",
        "id": status.id,
        "name": status.name,
        "statusCategory": {"id": int(category_id), "key": status.category, "name": category_name},
    }


def issue_fields(issue: JiraIssue, base: str, *, v2: bool = False) -> dict[str, Any]:
    resolution = (
        None
        if issue.resolution is None
        else {"id": RESOLUTIONS[issue.resolution], "name": issue.resolution, "self": f"{base}/rest/api/3/resolution"}
    )
    description: Any = issue.description
    if v2:
        description = None if issue.description is None else adf_text(issue.description)
    return {
        "summary": issue.summary,
        "status": status_json(issue, base),
        "resolution": resolution,
        "labels": list(issue.labels),
        "priority": {"id": PRIORITIES[issue.priority], "name": issue.priority},
        "issuetype": {"name": issue.issue_type},
        "project": {"id": issue.project.id, "key": issue.project.key, "name": issue.project.name},
        "description": description,
        "created": jira_time(issue.created_us),
        "updated": jira_time(issue.updated_us),
        **issue.custom,
    }


def issue_json(issue: JiraIssue, base: str, fields: list[str] | None = None) -> dict[str, Any]:
    """GET issue / search result. `fields` None: all fields; [] (search default): none, only id and key."""
    everything = issue_fields(issue, base)
    wanted = everything if fields is None else {k: v for k, v in everything.items() if k in fields}
    body: dict[str, Any] = {"id": issue.id, "key": issue.key, "self": f"{base}/rest/api/3/issue/{issue.id}"}
    if wanted or fields is None:
        body["fields"] = wanted
    return body


def comment_json(issue: JiraIssue, comment: JiraComment, base: str, *, v2: bool = False) -> dict[str, Any]:
    author = user_json(comment.author, base)
    return {
        "self": f"{base}/rest/api/3/issue/{issue.id}/comment/{comment.id}",
        "id": comment.id,
        "author": author,
        "updateAuthor": author,
        "body": adf_text(comment.body) if v2 else comment.body,
        "created": jira_time(comment.created_us),
        "updated": jira_time(comment.created_us),
        "jsdPublic": True,
    }


def webhook_body(
    event: str,
    issue: JiraIssue,
    base: str,
    *,
    actor: str,
    now_us: int,
    changelog: dict[str, Any] | None = None,
    comment: JiraComment | None = None,
) -> dict[str, Any]:
    type_names = {"jira:issue_created": "issue_created", "jira:issue_updated": "issue_generic"}
    body: dict[str, Any] = {
        "timestamp": to_ms(now_us),
        "webhookEvent": event,
        "user": user_json(actor, base),
        "issue": {
            "id": issue.id,
            "self": f"{base}/rest/api/2/issue/{issue.id}",
            "key": issue.key,
            "fields": issue_fields(issue, base, v2=True),
        },
    }
    if event in type_names:
        body["issue_event_type_name"] = type_names[event]
    if changelog is not None:
        body["changelog"] = changelog
    if comment is not None:
        body["comment"] = comment_json(issue, comment, base, v2=True)
    return body
