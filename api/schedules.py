"""Periodic tasks of the api app: kept Idempotency-Key answers past their replay window, deleted hourly."""

from aimsweb.schedules import schedule_declare
from api import tasks

schedule_declare(name="aims-api-idempotency-prune", func=tasks.idempotency_prune_task, minutes=60)
