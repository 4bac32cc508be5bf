"""What the incident list shows, as one typed object: built from the list's HTML form (IncidentFilterForm.filters)
and, later, from an API serializer; the selectors take it and nothing else."""

from dataclasses import dataclass
from typing import Literal

from aimsweb.time_range import TimeRange
from incidents.models import Incident

DEFAULT_STATUS = "open"  # every status but resolved
ALL_STATUSES = "all"
DEFAULT_SORT = "-last_seen"
OPEN_STATUSES: tuple[str, ...] = tuple(status for status in Incident.Status if status != Incident.Status.RESOLVED)

AssigneeFilter = Literal["", "me", "none"] | int  # anyone, the user looking, nobody, or a user's id


@dataclass(frozen=True)
class SortColumn:
    """A sortable column: descending means newest, most urgent or most frequent first."""

    label: str
    descending: str
    ascending: str


# The columns in the order the list shows them; each sorts as "name" (ascending) or "-name" (descending).
INCIDENT_SORTS = {
    "last_seen": SortColumn("Last seen", "newest first", "oldest first"),
    "opened": SortColumn("Opened", "newest first", "oldest first"),
    "severity": SortColumn("Severity", "critical first", "info first"),
    "occurrences": SortColumn("Occurrences", "most first", "fewest first"),
    "status": SortColumn("Status", "triggered first", "resolved first"),
}


@dataclass(frozen=True)
class IncidentFilters:
    """Which incidents (status: "open", one status or "all"; the others narrow when set), in which order, which
    page (1-based; past the last page is the last). Values are checked where they come in (form or serializer)."""

    status: str = DEFAULT_STATUS
    severities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    connection_id: int | None = None
    pipeline_id: int | None = None
    assignee: AssigneeFilter = ""
    text: str = ""
    time_range: TimeRange = TimeRange()  # incidents seen in it: last seen after its start, opened before its end
    sort: str = DEFAULT_SORT
    page: int = 1

    @property
    def sort_column(self) -> str:
        return self.sort.removeprefix("-")

    @property
    def sort_descending(self) -> bool:
        return self.sort.startswith("-")
