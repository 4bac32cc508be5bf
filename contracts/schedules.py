"""Periodic tasks of the contracts app: every minute, queue the checks of contracts whose schedule is due."""

from aimsweb.schedules import schedule_declare
from contracts import tasks

schedule_declare(name="aims-contracts-tick", func=tasks.contracts_due_check_task)
