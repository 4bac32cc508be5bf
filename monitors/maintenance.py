"""Maintenance windows in force: failures in one are recorded, but neither notify nor rerun (each configurable)."""

from datetime import datetime

from django.utils import timezone

from aimsweb.memo import memo_started, memoized
from monitors.models import MaintenanceWindow


def maintenance_window_active(
    *, connection_id: int | None, pipeline_name: str, suppresses: str, at: datetime | None = None
) -> MaintenanceWindow | None:
    """The active window covering this pipeline that suppresses "notifications" or "retries", if any."""
    at = at or timezone.now()
    field = {"notifications": "suppress_notifications", "retries": "suppress_retries"}[suppresses]
    # In a batch, one read of every window still open when the batch began serves each failure in it.
    started = memo_started()
    candidates = _windows_suppressing(field, started if started is not None and at >= started else at)
    return next(
        (w for w in candidates if w.covers(connection_id=connection_id, pipeline_name=pipeline_name, at=at)), None
    )


@memoized
def _windows_suppressing(field: str, open_at: datetime) -> list[MaintenanceWindow]:
    return list(MaintenanceWindow.objects.filter(ends_at__gt=open_at, **{field: True}).order_by("starts_at", "pk"))
