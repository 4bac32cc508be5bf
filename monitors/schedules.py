"""Periodic tasks of the monitors app: one poll per enabled monitor, the webhook tick and the daily prune."""

import math

from aimsweb.schedules import Periodic, schedule_declare, schedule_family_declare
from monitors import tasks
from monitors.models import Monitor

POLL_SCHEDULE_PREFIX = "monitor-poll-"


def _polls_wanted() -> list[Periodic]:
    """One poll schedule per enabled monitor of an enabled connection, every interval (in whole minutes)."""
    return [
        Periodic(
            name=f"{POLL_SCHEDULE_PREFIX}{monitor_id}",
            func=tasks.monitor_poll_task,
            minutes=max(1, math.ceil(interval / 60)),
            args=str(monitor_id),
        )
        for monitor_id, interval in Monitor.objects.filter(enabled=True, connection__enabled=True).values_list(
            "id", "interval_seconds"
        )
    ]


schedule_family_declare(prefix=POLL_SCHEDULE_PREFIX, func=tasks.monitor_poll_task, wanted=_polls_wanted)
# Every minute: queue a webhook drain unless one is running (for deliveries whose drain was lost). Once a day: prune
# old webhook deliveries and task results.
schedule_declare(name="aims-webhooks-tick", func=tasks.webhooks_tick_task)
schedule_declare(name="aims-retention-prune", func=tasks.records_prune_task, minutes=24 * 60)
