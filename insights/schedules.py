"""Periodic tasks of the insights app: every 15 minutes, sum the days that ended into the pipelines' series."""

from aimsweb.schedules import schedule_declare
from insights import tasks

schedule_declare(name="aims-insights-pipeline-days", func=tasks.pipeline_days_record_task, minutes=15)
