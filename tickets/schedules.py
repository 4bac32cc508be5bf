"""Periodic tasks of the tickets app: due sync jobs every minute, the reconcile poll every 5 minutes."""

from aimsweb.schedules import schedule_declare
from tickets import tasks

schedule_declare(name="aims-tickets-jobs", func=tasks.ticket_jobs_run_task)
schedule_declare(name="aims-tickets-reconcile", func=tasks.ticket_routes_reconcile_task, minutes=5)
