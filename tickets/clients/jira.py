"""A thin client for the Jira Cloud REST API v3 (issues, transitions, comments, JQL search), as one API account
(Basic email:api_token)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from tickets.clients.base import JsonClient, TicketSystemError, shorten
from tickets.mapping import adf_text

ISSUE_FIELDS = ["summary", "status", "resolution", "labels", "updated", "priority"]
PAGE_SIZE = 50
MAX_PAGES = 200


class JiraError(TicketSystemError):
    provider = "Jira"


@dataclass(frozen=True)
class JiraIssueRef:
    id: str
    key: str


@dataclass(frozen=True)
class JiraIssue:
    id: str
    key: str
    status: str
    category: str  # new | indeterminate | done
    labels: tuple[str, ...]
    updated: datetime | None


@dataclass(frozen=True)
class JiraTransition:
    id: str
    name: str
    to_status: str
    to_category: str


@dataclass(frozen=True)
class JiraComment:
    id: str
    author_account_id: str
    text: str
    created: datetime | None


def jira_time(value: Any) -> datetime | None:
    """Jira's timestamps ("2026-05-01T10:00:00.000+0000") as aware datetimes; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def issue_of(data: Any) -> JiraIssue:
    """An issue from the API's shape (also the shape webhooks carry)."""
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise JiraError("Jira answered with an issue without a key", retryable=True)
    fields = _obj(data.get("fields"))
    status = _obj(fields.get("status"))
    category = _obj(status.get("statusCategory"))
    labels = fields.get("labels")
    return JiraIssue(
        id=str(data.get("id", "")),
        key=data["key"],
        status=str(status.get("name", "")),
        category=str(category.get("key", "")),
        labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        updated=jira_time(fields.get("updated")),
    )


def comment_of(data: Any) -> JiraComment:
    if not isinstance(data, dict) or "id" not in data:
        raise JiraError("Jira answered with a comment without an id", retryable=True)
    author = _obj(data.get("author"))
    return JiraComment(
        id=str(data["id"]),
        author_account_id=str(author.get("accountId", "")),
        text=adf_text(data.get("body")),
        created=jira_time(data.get("created")),
    )


class JiraClient(JsonClient):
    """Jira Cloud REST v3 calls AIMS makes; each returns dataclasses and raises JiraError."""

    error_class = JiraError

    def issue_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{quote(key)}"

    def myself(self) -> str:
        """The API account's accountId."""
        data = self.json(self.call("GET", "/rest/api/3/myself"))
        return str(_obj(data).get("accountId", ""))

    def issue_create(self, *, fields: dict) -> JiraIssueRef:
        data = self.json(self.call("POST", "/rest/api/3/issue", json={"fields": fields}))
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise JiraError("Jira created an issue but answered without its key", retryable=True)
        return JiraIssueRef(id=str(data.get("id", "")), key=data["key"])

    def issue_get(self, key: str) -> JiraIssue:
        response = self.call("GET", f"/rest/api/3/issue/{quote(key)}", params={"fields": ",".join(ISSUE_FIELDS)})
        return issue_of(self.json(response))

    def issue_update(self, key: str, *, fields: dict) -> None:
        self._no_content(self.call("PUT", f"/rest/api/3/issue/{quote(key)}", json={"fields": fields}), "an edit")

    def transitions(self, key: str) -> list[JiraTransition]:
        data = self.json(self.call("GET", f"/rest/api/3/issue/{quote(key)}/transitions"))
        found = []
        for item in _obj(data).get("transitions") or []:
            item = _obj(item)
            to = _obj(item.get("to"))
            category = _obj(to.get("statusCategory"))
            if "id" in item:
                found.append(
                    JiraTransition(
                        id=str(item["id"]),
                        name=str(item.get("name", "")),
                        to_status=str(to.get("name", "")),
                        to_category=str(category.get("key", "")),
                    )
                )
        return found

    def transition(self, key: str, *, transition_id: str, fields: dict | None = None) -> None:
        body: dict[str, Any] = {"transition": {"id": transition_id}}
        if fields:
            body["fields"] = fields
        self._no_content(self.call("POST", f"/rest/api/3/issue/{quote(key)}/transitions", json=body), "a transition")

    @staticmethod
    def _no_content(response: requests.Response, what: str) -> None:
        """Jira answers edits and transitions with 204 and no body: anything else is a garbled answer (a proxy's, a
        cut one), and whether the change happened is read again before the next try."""
        if response.status_code != 204:
            raise JiraError(f"Jira answered {what} with {response.status_code}, not 204", retryable=True)

    def comment_add(self, key: str, *, body: dict) -> JiraComment:
        """Add a comment whose body is an ADF document."""
        return comment_of(self.json(self.call("POST", f"/rest/api/3/issue/{quote(key)}/comment", json={"body": body})))

    def comments(self, key: str) -> Iterator[JiraComment]:
        """Every comment of the issue, oldest first, page by page (startAt, maxResults, total)."""
        start = 0
        for _ in range(MAX_PAGES):
            params = {"startAt": start, "maxResults": PAGE_SIZE, "orderBy": "created"}
            data = self.json(self.call("GET", f"/rest/api/3/issue/{quote(key)}/comment", params=params))
            page = data.get("comments", []) if isinstance(data, dict) else []
            for item in page:
                yield comment_of(item)
            start += len(page)
            total = data.get("total") if isinstance(data, dict) else None
            if not page or not isinstance(total, int) or start >= total:
                return

    def search_jql(self, jql: str, *, fields: list[str] | None = None) -> Iterator[JiraIssue]:
        """Every issue the JQL finds, page by page (nextPageToken)."""
        token: str | None = None
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {"jql": jql, "fields": fields or ISSUE_FIELDS, "maxResults": PAGE_SIZE}
            if token:
                body["nextPageToken"] = token
            data = self.json(self.call("POST", "/rest/api/3/search/jql", json=body))
            for item in data.get("issues", []) if isinstance(data, dict) else []:
                yield issue_of(item)
            token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                return

    def error_words(self, response: requests.Response) -> str:
        """Jira's {"errorMessages": [...], "errors": {field: message}}."""
        try:
            data = response.json()
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        words = [str(message) for message in data.get("errorMessages") or [] if message]
        errors = data.get("errors")
        if isinstance(errors, dict):
            words += [f"{field}: {message}" for field, message in errors.items()]
        return shorten("; ".join(words))
