"""Periodic tasks of the incidents app."""

from aimsweb.schedules import schedule_declare
from incidents import tasks

# Every minute: send due notification retries, digests and escalations; end the silences that are over.
schedule_declare(name="aims-notifications-tick", func=tasks.notifications_tick_task)
schedule_declare(name="aims-silences-tick", func=tasks.silences_end_task)
