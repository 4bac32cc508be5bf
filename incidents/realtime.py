"""Channel-layer group names of the incidents app, built in one place."""

from collections.abc import Iterable

from aimsweb.realtime import broadcast_after_commit

INCIDENT_LIST_GROUP = "incidents.list"


def incidents_changed_broadcast(*, incident_ids: Iterable[int]) -> None:
    """Tell every open incident list that these incidents were opened or changed."""
    broadcast_after_commit(group=INCIDENT_LIST_GROUP, event="incident.changed", ids=incident_ids)
