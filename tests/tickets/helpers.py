"""Routes, incidents opened through the intake, and a stand-in ticket system for the tickets app's tests."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

from django.utils import timezone

from incidents.services.occurrences import Intake, OccurrenceReport, occurrence_intake
from tickets.clients.base import TicketSystemError
from tickets.models import TicketRoute
from tickets.systems import RemoteComment, RemoteTicket

_seq = count(1)
INBOUND_SECRET = "inbound-secret-0123456789abcdef"


def make_route(system: str = "jira", **fields) -> TicketRoute:
    defaults = {
        "name": f"route-{next(_seq)}",
        "system": system,
        "base_url": "http://127.0.0.1:9",
        "is_simulator": True,
        "username": "aims-bot@example.com" if system == "jira" else "aims.integration",
        "min_severity": "low",
        "jira_project": "OPS" if system == "jira" else "",
        "jira_issue_type": "Task",
    }
    route = TicketRoute(**{**defaults, **fields})
    route.set_secret("token")
    route.set_inbound_secret(INBOUND_SECRET)
    route.full_clean()
    route.save()
    return route


def open_incident(*, key: str | None = None, severity: str = "high", category: str = "code") -> Intake:
    """An incident opened the way sources open them (so its timeline event reaches the receivers)."""
    key = key or f"test:{next(_seq)}"
    return occurrence_intake(
        report=OccurrenceReport(
            source="api",
            group_key=key,
            dedup_key=f"{key}:{next(_seq)}",
            title=f"Orders load failed ({key})",
            severity=severity,
            category=category,
            subject=key,
            subject_label=key,
            detected_at=timezone.now(),
        )
    )


@dataclass
class FakeTicket:
    key: str
    correlation: str
    category: str = "new"
    comments: list[RemoteComment] = field(default_factory=list)


@dataclass
class FakeState:
    """What the stand-in system holds and was asked, shared by its instances (one per route and worker run)."""

    tickets: dict[str, FakeTicket] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # Calls to fail, by name: each entry is used once (an error to raise, or "lost": do it, then raise).
    failures: dict[str, list] = field(default_factory=dict)


STATE = FakeState()


def fake_reset() -> FakeState:
    global STATE
    STATE = FakeState()
    return STATE


class FakeSystem:
    """A ticket system in memory, for tests of the sync around it."""

    def __init__(self, route: TicketRoute) -> None:
        self.route = route

    def _call(self, name: str) -> str | None:
        STATE.calls.append(name)
        queued = STATE.failures.get(name) or []
        if queued:
            outcome = queued.pop(0)
            if outcome != "lost":
                raise outcome
            return "lost"
        return None

    def _remote(self, ticket: FakeTicket) -> RemoteTicket:
        return RemoteTicket(
            key=ticket.key,
            external_id=f"id-{ticket.key}",
            url=f"https://tickets.example.com/{ticket.key}",
            status={"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[ticket.category],
            category=ticket.category,
            correlation=ticket.correlation,
            updated=datetime.now(UTC),
        )

    def find(self, *, correlation: str) -> RemoteTicket | None:
        self._call("find")
        found = [t for t in STATE.tickets.values() if t.correlation == correlation]
        return self._remote(found[0]) if found else None

    def create(self, *, incident, correlation: str) -> RemoteTicket:
        lost = self._call("create")
        ticket = FakeTicket(key=f"OPS-{len(STATE.tickets) + 1}", correlation=correlation)
        STATE.tickets[ticket.key] = ticket
        if lost:
            raise TicketSystemError("answer lost", status=500, retryable=True)
        return self._remote(ticket)

    def get(self, *, key: str, external_id: str) -> RemoteTicket:
        self._call("get")
        return self._remote(STATE.tickets[key])

    def move(self, *, key: str, external_id: str, category: str, incident) -> RemoteTicket:
        self._call("move")
        ticket = STATE.tickets[key]
        if ticket.category != category:
            STATE.calls.append(f"moved {key} to {category}")
            ticket.category = category
        return self._remote(ticket)

    def comment_add(self, *, key: str, external_id: str, text: str) -> str:
        lost = self._call("comment_add")
        comment = RemoteComment(id=f"c{next(_seq)}", author="aims-bot@example.com", text=text, created=None)
        STATE.tickets[key].comments.append(comment)
        if lost:
            raise TicketSystemError("answer lost", status=500, retryable=True)
        return comment.id

    def comments(self, *, key: str, external_id: str, since) -> list[RemoteComment]:
        self._call("comments")
        return list(STATE.tickets[key].comments)

    def update(self, *, key: str, external_id: str, incident) -> None:
        self._call("update")

    def changed_since(self, *, since) -> list[RemoteTicket]:
        self._call("changed_since")
        return [self._remote(ticket) for ticket in STATE.tickets.values()]

    def is_own(self, author: str) -> bool:
        return self.route.own_account(author)


def person_comment(key: str, text: str, author: str = "557058:alice") -> RemoteComment:
    comment = RemoteComment(id=f"c{next(_seq)}", author=author, text=text, created=None)
    STATE.tickets[key].comments.append(comment)
    return comment
