"""ServiceNow as a ticket system: incident records carrying their incident's marker in correlation_id, moved by
state (1 New, 2 In Progress, 6 Resolved with the route's close code and notes), work notes for comments."""

import hashlib
from datetime import datetime

from incidents.models import Incident
from tickets.clients.servicenow import ServiceNowClient, ServiceNowRecord, servicenow_time_text
from tickets.mapping import description_text, incident_attributes, mapped_fields, template_render
from tickets.models import TicketRoute
from tickets.systems import CORRELATION, RemoteComment, RemoteTicket

MAX_SHORT_DESCRIPTION = 160
CATEGORY_STATE = {"new": "1", "indeterminate": "2", "done": "6"}
DEFAULT_LEVELS = {"critical": ["1", "1"], "high": ["1", "2"], "medium": ["2", "2"], "low": ["3", "3"]}


def journal_entry_id(*, element: str, created_on: datetime | None, created_by: str, text: str) -> str:
    """A journal entry's id from what it says and who wrote it when: the same whether read from the Table API or
    from a callback (which carries no sys_id for the entry)."""
    when = created_on.isoformat() if created_on else ""
    return "j:" + hashlib.sha256(f"{element}\n{when}\n{created_by}\n{text}".encode()).hexdigest()[:40]


def route_marker(route: TicketRoute) -> str:
    return f"aims-route-{route.pk}"


class ServiceNowSystem:
    def __init__(self, route: TicketRoute) -> None:
        self.route = route
        self.client = ServiceNowClient(
            table=route.servicenow_table or "incident",
            base_url=route.base_url,
            username=route.username,
            secret=route.get_secret(),
            is_simulator=route.is_simulator,
        )

    def _ticket(self, record: ServiceNowRecord) -> RemoteTicket:
        match = CORRELATION.match(record.correlation_id)
        ours = match is not None and int(match.group(2)) == self.route.pk
        return RemoteTicket(
            key=record.number or record.sys_id,
            external_id=record.sys_id,
            url=self.client.record_url(record.sys_id),
            status=record.status,
            category=record.category,
            correlation=record.correlation_id if ours else "",
            updated=record.updated_on,
            updated_by=record.updated_by,
        )

    def _levels(self, incident: Incident) -> dict[str, str]:
        levels = self.route.priority_map.get(incident.severity) or DEFAULT_LEVELS.get(incident.severity)
        return {"urgency": levels[0], "impact": levels[1]} if levels else {}

    def find(self, *, correlation: str) -> RemoteTicket | None:
        for record in self.client.incidents_query(f"correlation_id={correlation}"):
            return self._ticket(record)
        return None

    def create(self, *, incident: Incident, correlation: str) -> RemoteTicket:
        attributes = incident_attributes(incident)
        fields = {
            "short_description": " ".join(incident.title.split())[:MAX_SHORT_DESCRIPTION],
            "description": description_text(attributes),
            **self._levels(incident),
            **mapped_fields(self.route.field_mapping, attributes),
            "correlation_id": correlation,
            "correlation_display": route_marker(self.route),
        }
        return self._ticket(self.client.incident_create(fields=fields))

    def get(self, *, key: str, external_id: str) -> RemoteTicket:
        return self._ticket(self.client.incident_get(external_id))

    def move(self, *, key: str, external_id: str, category: str, incident: Incident) -> RemoteTicket:
        ticket = self.get(key=key, external_id=external_id)
        if ticket.category == category:
            return ticket
        fields = {"state": CATEGORY_STATE[category]}
        if category == "done":
            notes = template_render(self.route.close_notes_template, incident_attributes(incident))
            fields |= {"close_code": self.route.close_code, "close_notes": notes or "Resolved in AIMS."}
        return self._ticket(self.client.incident_update(external_id, fields=fields))

    def comment_add(self, *, key: str, external_id: str, text: str) -> str:
        self.client.incident_update(external_id, fields={"work_notes": text})
        return ""  # the journal entry's id is not in the answer; the comment's marker finds it

    def comments(self, *, key: str, external_id: str, since: datetime | None) -> list[RemoteComment]:
        return [
            RemoteComment(
                id=journal_entry_id(
                    element=entry.element, created_on=entry.created_on, created_by=entry.created_by, text=entry.text
                ),
                author=entry.created_by,
                text=entry.text,
                created=entry.created_on,
            )
            for entry in self.client.journal(external_id, since=since)
            if entry.element in ("work_notes", "comments")
        ]

    def update(self, *, key: str, external_id: str, incident: Incident) -> None:
        fields = {
            "short_description": " ".join(incident.title.split())[:MAX_SHORT_DESCRIPTION],
            **self._levels(incident),
        }
        self.client.incident_update(external_id, fields=fields)

    def changed_since(self, *, since: datetime | None) -> list[RemoteTicket]:
        query = f"correlation_display={route_marker(self.route)}"
        if since is not None:
            query += f"^sys_updated_on>={servicenow_time_text(since)}"
        return [self._ticket(record) for record in self.client.incidents_query(query + "^ORDERBYsys_updated_on")]

    def is_own(self, author: str) -> bool:
        return self.route.own_account(author)
