"""A thin client for the ServiceNow Table API (incident records and their journal), as one user (Basic)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from tickets.clients.base import JsonClient, TicketSystemError, shorten

RECORD_FIELDS = ["sys_id", "number", "state", "correlation_id", "sys_updated_on", "sys_updated_by"]
PAGE_SIZE = 100
MAX_PAGES = 500
STATE_WORDS = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
STATE_CATEGORY = {"1": "new", "2": "indeterminate", "3": "indeterminate", "6": "done", "7": "done", "8": "done"}


class ServiceNowError(TicketSystemError):
    provider = "ServiceNow"


@dataclass(frozen=True)
class ServiceNowRecord:
    sys_id: str
    number: str
    state: str
    correlation_id: str
    updated_on: datetime | None
    updated_by: str

    @property
    def status(self) -> str:
        return STATE_WORDS.get(self.state, self.state)

    @property
    def category(self) -> str:
        return STATE_CATEGORY.get(self.state, "")


@dataclass(frozen=True)
class JournalEntry:
    sys_id: str
    element: str  # work_notes | comments
    text: str
    created_on: datetime | None
    created_by: str


def servicenow_time(value: Any) -> datetime | None:
    """ServiceNow's "yyyy-MM-dd HH:mm:ss" (UTC in the API's internal values) as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def servicenow_time_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    """A field as text: ServiceNow gives strings, or {value, display_value} with sysparm_display_value=all."""
    if isinstance(value, dict):
        value = value.get("value", "")
    return "" if value is None else str(value)


def record_of(data: Any) -> ServiceNowRecord:
    if not isinstance(data, dict) or not _text(data.get("sys_id")):
        raise ServiceNowError("ServiceNow answered with a record without a sys_id", retryable=True)
    return ServiceNowRecord(
        sys_id=_text(data.get("sys_id")),
        number=_text(data.get("number")),
        state=_text(data.get("state")),
        correlation_id=_text(data.get("correlation_id")),
        updated_on=servicenow_time(_text(data.get("sys_updated_on"))),
        updated_by=_text(data.get("sys_updated_by")),
    )


def journal_entry_of(data: Any) -> JournalEntry:
    if not isinstance(data, dict):
        raise ServiceNowError("ServiceNow answered with a journal entry that is not an object", retryable=True)
    return JournalEntry(
        sys_id=_text(data.get("sys_id")),
        element=_text(data.get("element")),
        text=_text(data.get("value")),
        created_on=servicenow_time(_text(data.get("sys_created_on"))),
        created_by=_text(data.get("sys_created_by")),
    )


class ServiceNowClient(JsonClient):
    """Table API calls AIMS makes on one table (default incident); each returns dataclasses and raises
    ServiceNowError."""

    error_class = ServiceNowError

    def __init__(self, *, table: str = "incident", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = table

    def record_url(self, sys_id: str) -> str:
        return f"{self.base_url}/nav_to.do?uri={quote(self.table)}.do%3Fsys_id%3D{quote(sys_id)}"

    def _result(self, response: requests.Response) -> Any:
        data = self.json(response)
        if not isinstance(data, dict) or "result" not in data:
            raise ServiceNowError("ServiceNow answered without a result", status=response.status_code, retryable=True)
        return data["result"]

    def incident_create(self, *, fields: dict[str, str]) -> ServiceNowRecord:
        return record_of(self._result(self.call("POST", f"/api/now/table/{self.table}", json=fields)))

    def incident_get(self, sys_id: str) -> ServiceNowRecord:
        params = {"sysparm_fields": ",".join(RECORD_FIELDS)}
        return record_of(self._result(self.call("GET", f"/api/now/table/{self.table}/{quote(sys_id)}", params=params)))

    def incident_update(self, sys_id: str, *, fields: dict[str, str]) -> ServiceNowRecord:
        response = self.call("PATCH", f"/api/now/table/{self.table}/{quote(sys_id)}", json=fields)
        return record_of(self._result(response))

    def incidents_query(self, query: str) -> Iterator[ServiceNowRecord]:
        """Every record the encoded query finds, page by page (sysparm_offset; stops when no Link rel=next)."""
        yield from (record_of(item) for item in self._pages(f"/api/now/table/{self.table}", query, RECORD_FIELDS))

    def journal(self, sys_id: str, *, since: datetime | None = None) -> list[JournalEntry]:
        """The record's work notes and comments (sys_journal_field), oldest first; those from `since` on when
        given (filtered here: the query language is kept to what every instance answers alike)."""
        query = f"element_id={sys_id}^ORDERBYsys_created_on"
        fields = ["sys_id", "element", "value", "sys_created_on", "sys_created_by"]
        entries = [journal_entry_of(item) for item in self._pages("/api/now/table/sys_journal_field", query, fields)]
        if since is not None:
            entries = [entry for entry in entries if entry.created_on is None or entry.created_on >= since]
        return entries

    def _pages(self, path: str, query: str, fields: list[str]) -> Iterator[Any]:
        offset = 0
        for _ in range(MAX_PAGES):
            params = {
                "sysparm_query": query,
                "sysparm_fields": ",".join(fields),
                "sysparm_limit": PAGE_SIZE,
                "sysparm_offset": offset,
                "sysparm_display_value": "false",
            }
            response = self.call("GET", path, params=params)
            page = self._result(response)
            if not isinstance(page, list):
                raise ServiceNowError("ServiceNow answered a query without a list", retryable=True)
            yield from page
            offset += len(page)
            if not page or "next" not in response.links:
                return

    def error_words(self, response: requests.Response) -> str:
        """ServiceNow's {"error": {"message", "detail"}, "status": "failure"}."""
        try:
            data = response.json()
        except ValueError:
            return ""
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return ""
        return shorten(" — ".join(str(error[part]) for part in ("message", "detail") if error.get(part)))
