"""Periodic tasks of the remediation app."""

from aimsweb.schedules import schedule_declare
from remediation import tasks

# Every minute: start due reruns, follow running ones, reconcile stale claims, announce unclaimed outcomes again.
schedule_declare(name="aims-remediation-tick", func=tasks.remediation_tick_task)
