"""What the sync needs from a ticket system, whichever it is: find a ticket by its marker, open one, read it, move
it to a status category, comment, and list what changed. `system_for(route)` builds the implementation the setting
AIMS_TICKET_SYSTEMS names for the route's system (tests plug in their own there)."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from incidents.models import Incident
from tickets.models import TicketRoute

CORRELATION = re.compile(r"^aims-incident-(\d{1,18})-(\d{1,18})$")
# A comment AIMS writes ends with this marker: a retry after a lost answer finds it, and it is never taken back in.
COMMENT_MARKER = "aims-event-{event_id}"
COMMENT_MARKER_PATTERN = re.compile(r"aims-event-\d+")
CATEGORIES = ("new", "indeterminate", "done")


@dataclass(frozen=True)
class RemoteTicket:
    key: str  # OPS-12, INC0010001
    external_id: str  # Jira's issue id, ServiceNow's sys_id
    url: str
    status: str  # the status in words
    category: str  # new | indeterminate | done
    correlation: str  # aims-incident-<id>-<route>, "" when it carries none
    updated: datetime | None
    updated_by: str = ""  # who changed it last, where the system says (ServiceNow)

    @property
    def incident_id(self) -> int | None:
        match = CORRELATION.match(self.correlation)
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class RemoteComment:
    id: str
    author: str  # accountId (Jira) or user name (ServiceNow)
    text: str
    created: datetime | None


class TicketSystem(Protocol):
    def find(self, *, correlation: str) -> RemoteTicket | None:
        """The ticket carrying the marker, if the system has one."""

    def create(self, *, incident: Incident, correlation: str) -> RemoteTicket:
        """Open the incident's ticket, marked with `correlation`."""

    def get(self, *, key: str, external_id: str) -> RemoteTicket: ...

    def move(self, *, key: str, external_id: str, category: str, incident: Incident) -> RemoteTicket:
        """Bring the ticket to a status of `category` (a no-op when it is in one); the ticket as it is then."""

    def comment_add(self, *, key: str, external_id: str, text: str) -> str:
        """Add a comment (Jira) or work note (ServiceNow); its id, or "" when the system does not say."""

    def comments(self, *, key: str, external_id: str, since: datetime | None) -> list[RemoteComment]:
        """The ticket's comments (work notes and comments) from `since` on, oldest first."""

    def update(self, *, key: str, external_id: str, incident: Incident) -> None:
        """Write the incident's title and priority to the ticket again."""

    def changed_since(self, *, since: datetime | None) -> list[RemoteTicket]:
        """The route's tickets updated since then (all of them without a time)."""

    def is_own(self, author: str) -> bool:
        """Whether `author` is AIMS's own API account on this route."""


def system_for(route: TicketRoute) -> TicketSystem:
    """The route's ticket system, as the setting AIMS_TICKET_SYSTEMS names it."""
    factory = import_string(settings.AIMS_TICKET_SYSTEMS[route.system])
    return factory(route)


def comment_marker(event_id: int) -> str:
    return COMMENT_MARKER.format(event_id=event_id)
