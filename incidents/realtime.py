"""Channel-layer group names of the incidents app, built in one place, and the broadcasts services make."""

from collections.abc import Iterable

from aimsweb.realtime import broadcast_after_commit

INCIDENT_LIST_GROUP = "incidents.list"
DASHBOARD_GROUP = "dashboard"


def incident_group(incident_id: int) -> str:
    """The group of one incident's page."""
    return f"incident.{incident_id}"


def incidents_changed_broadcast(*, incident_ids: Iterable[int]) -> None:
    """Tell the incident list, the dashboard and each incident's own page that these incidents were opened or
    changed (after commit)."""
    ids = sorted(set(incident_ids))
    if not ids:
        return
    broadcast_after_commit(group=INCIDENT_LIST_GROUP, event="incident.changed", ids=ids)
    broadcast_after_commit(group=DASHBOARD_GROUP, event="incident.changed", ids=ids)
    for incident_id in ids:
        broadcast_after_commit(group=incident_group(incident_id), event="incident.changed", ids=[incident_id])


def runs_failed_broadcast(*, pipeline_ids: Iterable[int]) -> None:
    """Tell the dashboard that runs of these pipelines failed (its counts and charts change), after commit."""
    ids = sorted(set(pipeline_ids))
    if ids:
        broadcast_after_commit(group=DASHBOARD_GROUP, event="runs.failed", ids=ids)
